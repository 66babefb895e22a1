// The kafka source's binary formats against a real broker: Confluent-framed Avro and plain
// protobuf values written with the adapter's producer are decoded by the source; a corrupt value
// goes to the dead-letter output with topic/partition/offset and its raw bytes, and the run ends.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import avro from 'avsc'
import protobuf from 'protobufjs'
import { KafkaProducer } from '../../src/clients/kafka.js'
import { builtins } from '../../src/component/builtins.js'
import { loadConfigText } from '../../src/config/load.js'
import { runPipeline } from '../../src/core/topology/run.js'
import { silentLogger } from '../../src/observe/log.js'
import { collectSink, type CollectedRecords } from '../../src/testing/fault-sinks.js'
import { startKafka, type KafkaBroker } from '../services/kafka.js'

const fixtures = join(import.meta.dirname, '..', 'codecs', 'fixtures')
const dir = mkdtempSync(join(tmpdir(), 'sluice-kafka-codecs-'))
let broker: KafkaBroker

before(async () => {
  broker = await startKafka()
})
after(async () => {
  await broker?.close()
  rmSync(dir, { recursive: true, force: true })
})

const avroType = avro.Type.forSchema(JSON.parse(readFileSync(join(fixtures, 'order.avsc'), 'utf8')))
const Order = protobuf.loadSync(join(fixtures, 'order.proto')).lookupType('shop.v1.Order')

function confluentAvro(i: number): Buffer {
  const header = Buffer.from([0, 0, 0, 0, 42])
  const order = { id: `a-${i}`, amount: i / 2, qty: i, status: 'PAID', blob: Buffer.from([i]), note: null, tags: [], customer: { name: `c${i}` } }
  return Buffer.concat([header, avroType.toBuffer(order)])
}

async function produce(messages: { topic: string; value: Buffer }[]): Promise<void> {
  const producer = new KafkaProducer({ brokers: [broker.bootstrap], clientId: 'codecs-test', compression: 'none', timeoutMs: 10_000, retries: 3 })
  try {
    await producer.send(messages.map((m) => ({ ...m, partition: 0 })))
  } finally {
    await producer.close()
  }
}

async function run(name: string, source: string) {
  const collected: CollectedRecords = new Map()
  const registry = builtins.with(collectSink(collected))
  const dataDir = join(dir, name)
  const yaml = `data_dir: ${dataDir}
sources:
  in: { type: kafka, brokers: "${broker.bootstrap}", group: ${name}, stop_at_end: true, ${source} }
sinks:
  out: { type: collect, inputs: [in], name: out }
`
  const config = loadConfigText(yaml, { registry, baseDir: fixtures, file: 'test.yaml', env: {} })
  const result = await runPipeline(config, { registry, log: silentLogger(), signal: AbortSignal.timeout(25_000) })
  const dlq = join(dataDir, 'dead-letter.jsonl')
  const letters = existsSync(dlq) ? readFileSync(dlq, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []
  return { result, out: collected.get('out') ?? [], letters }
}

describe('kafka source: avro and protobuf values', () => {
  test('Confluent-framed Avro and plain protobuf decode; a corrupt value is dead-lettered with its position', { timeout: 30_000 }, async () => {
    await Promise.all([broker.createTopic('orders-avro', 1), broker.createTopic('orders-pb', 1)])
    const corrupt = Buffer.from([1, 0, 0, 0, 42, 0xff, 0x61])
    await produce([
      ...Array.from({ length: 5 }, (_, i) => ({ topic: 'orders-avro', value: confluentAvro(i) })),
      { topic: 'orders-avro', value: corrupt },
      { topic: 'orders-avro', value: confluentAvro(5) },
      ...Array.from({ length: 5 }, (_, i) => ({ topic: 'orders-pb', value: Buffer.from(Order.encode(Order.fromObject({ id: `p-${i}`, qty: i, status: 'PAID' })).finish()) })),
    ])

    const [a, p] = await Promise.all([
      run('g-avro', 'topics: [orders-avro], format: avro, avro: { schema: order.avsc, wire_format: confluent }, metadata_field: _kafka'),
      run('g-pb', 'topics: [orders-pb], format: protobuf, protobuf: { schema: order.proto, message: shop.v1.Order }'),
    ])

    assert.equal(a.result.status, 'completed', a.result.error?.message)
    assert.deepEqual(
      a.out.map((r) => [r.id, r.qty, r.status, r.blob, (r.customer as { name: string }).name, (r._kafka as { offset: number }).offset]),
      [0, 1, 2, 3, 4, 5].map((i) => [`a-${i}`, i, 'PAID', Buffer.from([i]).toString('base64'), `c${i}`, i < 5 ? i : i + 1]),
    )
    assert.equal(a.letters.length, 1)
    const [letter] = a.letters
    assert.equal(letter.code, 'SLC_RECORD_PARSE')
    assert.match(letter.message, /Confluent magic byte 0 .* found 0x01/)
    assert.deepEqual({ ...letter.origin }, { source: 'in', topic: 'orders-avro', partition: 0, offset: 5 })
    assert.equal(letter.raw_encoding, 'base64')
    assert.deepEqual(Buffer.from(letter.raw, 'base64'), corrupt)

    assert.equal(p.result.status, 'completed', p.result.error?.message)
    assert.equal(p.letters.length, 0)
    assert.deepEqual(
      p.out.map((r) => [r.id, r.qty, r.status, r.customer, r.tags]),
      [0, 1, 2, 3, 4].map((i) => [`p-${i}`, i, 'PAID', null, []]),
    )
  })
})
