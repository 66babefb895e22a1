// Tests of the kafka sink against a real Apache Kafka broker (test/services/kafka.ts), read back
// with Kafka's own console consumer: conformance, keys and murmur2 parity with the Java client,
// topic templates, compression, an oversized record, and a broker killed mid-stream.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { murmur2Partition } from '../../src/clients/kafka.js'
import type { BuildContext, Sink } from '../../src/component/define.js'
import type { Rec } from '../../src/core/batch.js'
import { PartialBatchError, PermanentError } from '../../src/core/errors.js'
import { silentLogger } from '../../src/observe/log.js'
import { kafka } from '../../src/sinks/kafka/index.js'
import { runYaml } from '../../src/testing/from-yaml.js'
import { sinkConformance } from '../../src/testing/index.js'
import { RunStats } from '../../src/observe/stats.js'
import { consoleConsume, consoleProduce, startKafka, type KafkaBroker } from '../services/kafka.js'

let broker: KafkaBroker
let dir: string
const signal = new AbortController().signal
/** Topics handed to the conformance suite, created up front (its option callback is synchronous). */
const conformanceTopics = Array.from({ length: 8 }, (_, i) => `sink-conf-${i}`)
let nextConformanceTopic = 0

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-kafka-sink-'))
  broker = await startKafka()
  for (const t of conformanceTopics) await broker.createTopic(t)
})
after(async () => {
  await broker?.close()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

function build(options: Record<string, unknown>): Sink {
  const ctx: BuildContext = { id: 'out', baseDir: dir, dataDir: path.join(dir, 'data'), log: silentLogger() }
  return kafka.build(kafka.options.parse({ brokers: [broker.bootstrap], ...options }), ctx)
}

/** Every value in `topic`, parsed as JSON (the sink's default format). */
async function readJson(topic: string, expected: number, timeoutMs = 10_000): Promise<Rec[]> {
  const lines = await consoleConsume(broker, topic, { maxMessages: expected, timeoutMs })
  return lines.map((l) => JSON.parse(l) as Rec)
}

sinkConformance({
  decl: kafka,
  options: () => ({ brokers: [broker.bootstrap], topic: conformanceTopics[nextConformanceTopic++] }),
  // Nothing more arrives once 2.5 s pass without a record: the sink acknowledged before close.
  readBack: async (_dir, options) => {
    const lines = await consoleConsume(broker, (options as { topic: string }).topic, { maxMessages: 100_000, timeoutMs: 2500 })
    return lines.map((l) => JSON.parse(l) as Rec)
  },
})

describe('kafka sink', () => {
  it('keyed records land in the partition the Java client picks for the key (murmur2), each exactly once', async () => {
    await broker.createTopic('sink-keys-java', 4)
    await broker.createTopic('sink-keys-ours', 4)
    const keys = Array.from({ length: 200 }, (_, i) => `user-${i * 7919}`)
    // The broker's console producer uses the Java client's default partitioner for keyed records.
    await consoleProduce(broker, 'sink-keys-java', keys.map((k) => `${k}|x`), { keySeparator: '|' })
    const javaLines = await consoleConsume(broker, 'sink-keys-java', { maxMessages: keys.length, timeoutMs: 10_000, printKey: true, printPartition: true })
    const javaPartition = new Map(javaLines.map((l) => {
      const [p, k] = l.split('\t')
      return [k!, Number(p!.slice('Partition:'.length))]
    }))
    assert.equal(javaPartition.size, keys.length)
    assert.ok(new Set(javaPartition.values()).size === 4, 'the keys spread over all 4 partitions')

    const sink = build({ topic: 'sink-keys-ours', key: '{user}' })
    await sink.open?.()
    await sink.write(keys.map((k, id) => ({ id, user: k })), signal)
    await sink.close()
    const ours = await consoleConsume(broker, 'sink-keys-ours', { maxMessages: keys.length, timeoutMs: 10_000, printKey: true, printPartition: true })
    assert.equal(ours.length, keys.length)
    const seen = new Set<number>()
    for (const l of ours) {
      const [p, k, v] = l.split('\t')
      const rec = JSON.parse(v!) as { id: number; user: string }
      assert.equal(rec.user, k)
      assert.equal(Number(p!.slice('Partition:'.length)), javaPartition.get(k!), `key ${k}`)
      assert.equal(Number(p!.slice('Partition:'.length)), murmur2Partition(Buffer.from(k!), 4))
      seen.add(rec.id)
    }
    assert.equal(seen.size, keys.length)
  })

  it('round_robin spreads records evenly; partitioner field uses the given partition and rejects an out-of-range one', async () => {
    await broker.createTopic('sink-rr', 3)
    const rr = build({ topic: 'sink-rr' })
    await rr.write(Array.from({ length: 300 }, (_, id) => ({ id })), signal)
    await rr.close()
    const counts = [0, 0, 0]
    for (const l of await consoleConsume(broker, 'sink-rr', { maxMessages: 300, timeoutMs: 10_000, printPartition: true })) counts[Number(l.split('\t')[0]!.slice(10))]!++
    assert.deepEqual(counts, [100, 100, 100])

    await broker.createTopic('sink-field', 3)
    const byField = build({ topic: 'sink-field', partitioner: 'field', partition_field: 'p' })
    const records = [{ id: 0, p: 2 }, { id: 1, p: 0 }, { id: 2, p: 3 }, { id: 3, p: 1 }]
    await assert.rejects(async () => byField.write(records, signal), (e: unknown) => {
      assert.ok(e instanceof PartialBatchError)
      assert.deepEqual([...e.failed.keys()], [2])
      assert.match(e.failed.get(2)!.message, /integer from 0 to 2/)
      return true
    })
    await byField.close()
    const lines = await consoleConsume(broker, 'sink-field', { maxMessages: 3, timeoutMs: 10_000, printPartition: true })
    const got = lines.map((l) => [Number(l.split('\t')[0]!.slice(10)), (JSON.parse(l.split('\t')[1]!) as { id: number }).id]).sort((a, b) => a[1]! - b[1]!)
    assert.deepEqual(got, [[2, 0], [0, 1], [1, 3]])
  })

  it('topic templates route by field; a missing topic or field dead-letters only those records', async () => {
    await broker.createTopic('sink-tmpl-US')
    await broker.createTopic('sink-tmpl-DE')
    const sink = build({ topic: 'sink-tmpl-{country}', headers: { origin: '{src}' } })
    const records: Rec[] = []
    for (let id = 0; id < 100; id++) records.push({ id, country: id % 2 === 0 ? 'US' : 'DE', src: 'test' })
    records.push({ id: 100, country: 'XX' }, { id: 101 }, { id: 102, country: 'bad/name' })
    await assert.rejects(async () => sink.write(records, signal), (e: unknown) => {
      assert.ok(e instanceof PartialBatchError)
      assert.deepEqual([...e.failed.keys()].sort((a, b) => a - b), [100, 101, 102])
      assert.match(e.failed.get(100)!.message, /Topic "sink-tmpl-XX" does not exist/)
      assert.match(e.failed.get(101)!.message, /Topic field "country" is missing/)
      assert.match(e.failed.get(102)!.message, /not a valid Kafka topic name/)
      return true
    })
    await sink.close()
    const usLines = await consoleConsume(broker, 'sink-tmpl-US', { maxMessages: 50, timeoutMs: 10_000, printHeaders: true })
    assert.ok(usLines.every((l) => l.startsWith('origin:test\t')), usLines[0])
    const us = usLines.map((l) => JSON.parse(l.slice('origin:test\t'.length)) as Rec)
    const de = await readJson('sink-tmpl-DE', 50)
    assert.deepEqual(us.map((r) => r.id), records.slice(0, 100).filter((r) => r.country === 'US').map((r) => r.id))
    assert.deepEqual(de.map((r) => r.id), records.slice(0, 100).filter((r) => r.country === 'DE').map((r) => r.id))
  })

  it('a fixed topic that does not exist stops the sink at open with a clear error', async () => {
    const sink = build({ topic: 'sink-no-such-topic' })
    await assert.rejects(async () => sink.open?.(), (e: unknown) => e instanceof PermanentError && /does not exist/.test(e.message))
    await sink.close()
  })

  for (const compression of ['gzip', 'snappy', 'lz4'] as const) {
    it(`${compression}-compressed batches are read back by the Java consumer`, async () => {
      const topic = `sink-${compression}`
      await broker.createTopic(topic, 2)
      const sink = build({ topic, compression, key: '{id}' })
      const records = Array.from({ length: 2000 }, (_, id) => ({ id, text: `payload ${id} `.repeat(5) }))
      await sink.write(records, signal)
      await sink.close()
      const back = await readJson(topic, records.length)
      assert.equal(back.length, records.length)
      assert.deepEqual(back.sort((a, b) => (a.id as number) - (b.id as number)), records)
    })
  }

  it('format raw writes a field\'s text as the value; value_field with json writes only that field', async () => {
    await broker.createTopic('sink-raw')
    await broker.createTopic('sink-value-field')
    const raw = build({ topic: 'sink-raw', format: 'raw', value_field: 'line' })
    await assert.rejects(async () => raw.write([{ line: 'plain text, not JSON' }, { line: 42 }, { line: 'second' }], signal), (e: unknown) => {
      assert.ok(e instanceof PartialBatchError)
      assert.deepEqual([...e.failed.keys()], [1])
      assert.match(e.failed.get(1)!.message, /must be a string or bytes/)
      return true
    })
    await raw.close()
    assert.deepEqual(await consoleConsume(broker, 'sink-raw', { maxMessages: 2, timeoutMs: 10_000 }), ['plain text, not JSON', 'second'])
    const nested = build({ topic: 'sink-value-field', value_field: 'payload' })
    await nested.write([{ id: 1, payload: { a: [1, 2] } }, { id: 2, payload: 'text' }], signal)
    await nested.close()
    assert.deepEqual(await consoleConsume(broker, 'sink-value-field', { maxMessages: 2, timeoutMs: 10_000 }), ['{"a":[1,2]}', '"text"'])
  })

  it('zstd is a config error that says why', () => {
    const r = kafka.options.safeParse({ brokers: ['127.0.0.1:9092'], topic: 't', compression: 'zstd' })
    assert.equal(r.success, false)
    assert.match(r.error!.issues[0]!.message, /zstd is not supported .* Node 20/)
    assert.deepEqual(r.error!.issues[0]!.path, ['compression'])
  })

  it('an oversized record goes to the dead letters with the broker\'s reason; the rest of its batch and later writes land', async () => {
    await broker.createTopic('sink-small', 2, { 'max.message.bytes': '20000' })
    const sink = build({ topic: 'sink-small', key: '{id}' })
    const records: Rec[] = Array.from({ length: 300 }, (_, id) => ({ id, text: 'small' }))
    records[137] = { id: 137, text: 'x'.repeat(50_000) }
    await assert.rejects(async () => sink.write(records, signal), (e: unknown) => {
      assert.ok(e instanceof PartialBatchError, String(e))
      assert.deepEqual([...e.failed.keys()], [137])
      assert.match(e.failed.get(137)!.message, /MESSAGE_TOO_LARGE/)
      return true
    })
    // Some partitions were written by the failed request: a later write must not be mistaken for
    // a duplicate of it (the producer starts a new id).
    const later = Array.from({ length: 20 }, (_, k) => ({ id: 1000 + k, text: 'after' }))
    assert.equal(new Set(later.map((r) => murmur2Partition(Buffer.from(String(r.id)), 2))).size, 2, 'later records reach both partitions')
    await sink.write(later, signal)
    await sink.close()
    const back = await readJson('sink-small', 319)
    const ids = back.map((r) => r.id as number).sort((a, b) => a - b)
    assert.deepEqual(ids, [...Array.from({ length: 300 }, (_, i) => i).filter((i) => i !== 137), ...later.map((r) => r.id)])
  })

  it('in a pipeline, the oversized record is in the dead-letter file with the broker\'s reason and its input line', async () => {
    await broker.createTopic('sink-small-e2e', 1, { 'max.message.bytes': '20000' })
    const caseDir = fs.mkdtempSync(path.join(dir, 'dlq-'))
    const lines = Array.from({ length: 500 }, (_, id) => JSON.stringify({ id, text: id === 321 ? 'y'.repeat(40_000) : 'ok' }))
    fs.writeFileSync(path.join(caseDir, 'in.jsonl'), lines.join('\n') + '\n')
    const result = await runYaml(`
data_dir: .sluice
sources:
  in: { type: file, path: in.jsonl, format: jsonl }
sinks:
  out: { type: kafka, inputs: [in], brokers: [${broker.bootstrap}], topic: sink-small-e2e }
`, { baseDir: caseDir })
    assert.equal(result.status, 'completed', result.error?.message)
    const letters = fs.readFileSync(path.join(caseDir, '.sluice', 'dead-letter.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Rec)
    assert.equal(letters.length, 1)
    const [letter] = letters as [{ code: string; message: string; component: string; origin: { line?: number }; record: { id: number } }]
    assert.equal(letter.code, 'SLC_RECORD_REJECTED')
    assert.equal(letter.component, 'out')
    assert.match(letter.message, /MESSAGE_TOO_LARGE/)
    assert.equal(letter.origin.line, 322)
    assert.equal(letter.record.id, 321)
    const back = await readJson('sink-small-e2e', 499)
    assert.deepEqual(back.map((r) => r.id), Array.from({ length: 500 }, (_, i) => i).filter((i) => i !== 321))
  })

  it('broker killed mid-stream and restarted: the pipeline recovers by itself, nothing lost, duplicates bounded, memory flat', async () => {
    await broker.createTopic('sink-outage', 3)
    const total = 40_000
    const caseDir = fs.mkdtempSync(path.join(dir, 'outage-'))
    const stats = new RunStats()
    const yaml = `
data_dir: .sluice
channel: { max_records: 2000 }
sources:
  gen: { type: generator, count: ${total}, rate: 4000, batch_size: 200, fields: { id: sequence, user: { kind: int, min: 1, max: 1000 } } }
sinks:
  out:
    type: kafka
    inputs: [gen]
    brokers: [${broker.bootstrap}]
    topic: sink-outage
    key: "{user}"
    request_timeout: 5s
    batch: { max_records: 2000, linger: 20ms }
    retry: { max_attempts: 1000, initial_backoff: 100ms, max_backoff: 1s }
`
    const run = runYaml(yaml, { baseDir: caseDir, stats })
    const produced = () => stats.components.get('gen')?.received ?? 0
    const written = () => stats.components.get('out')?.sent ?? 0
    const deadline = Date.now() + 30_000
    while (written() < 8000) {
      assert.ok(Date.now() < deadline, 'the sink wrote nothing before the outage')
      await new Promise((r) => setTimeout(r, 50))
    }
    const rssBefore = process.memoryUsage().rss
    await broker.kill()
    const outageStart = Date.now()
    const readAtKill = produced()
    let rssPeak = rssBefore
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 100)
    await new Promise((r) => setTimeout(r, 6000)) // the outage itself: the broker stays down this long
    const readDuringOutage = produced() - readAtKill
    const writtenDuringOutage = written()
    const restartStart = Date.now()
    await broker.restart()
    const restartSeconds = (Date.now() - restartStart) / 1000
    const outageSeconds = (Date.now() - outageStart) / 1000
    const result = await run
    clearInterval(sampler)
    assert.equal(result.status, 'completed', result.error?.message)
    assert.ok(stats.get('out').retries > 0, 'the sink retried during the outage')

    const lines = await consoleConsume(broker, 'sink-outage', { maxMessages: total * 2, timeoutMs: 4000 })
    const ids = lines.map((l) => (JSON.parse(l) as { id: number }).id)
    const unique = new Set(ids)
    const duplicates = ids.length - unique.size
    const lost = total - unique.size
    const rssGrowthMiB = (rssPeak - rssBefore) / 2 ** 20
    // Reported for the record (node:test diagnostics): what the outage cost.
    console.log(`# outage ${outageSeconds.toFixed(1)} s (broker restart ${restartSeconds.toFixed(1)} s): ${total} records, ${lost} lost, ${duplicates} duplicated, ` +
      `${readDuringOutage} read by the source while the broker was down, ${stats.get('out').retries} retries, RSS growth ${rssGrowthMiB.toFixed(1)} MiB`)
    assert.equal(lost, 0)
    for (const id of unique) assert.ok(id >= 0 && id < total)
    // Retries of a write resend the same requests under the same producer sequence numbers, so
    // the broker drops copies; at most the writes in flight at the kill could repeat.
    assert.ok(duplicates <= 2000, `${duplicates} duplicates`)
    // Backpressure: with the sink blocked, the source stops once the channel in front of the sink
    // (2,000 records) and the write in flight (≤ 2,000) are full, instead of the 24,000 records its
    // rate would give in 6 s.
    assert.ok(readDuringOutage <= 2000 + 2000 + 200, `${readDuringOutage} records read while the broker was down`)
    assert.ok(writtenDuringOutage < total)
    assert.ok(rssGrowthMiB < 100, `RSS grew by ${rssGrowthMiB.toFixed(1)} MiB during the outage`)
  })
})
