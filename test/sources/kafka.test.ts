// The kafka source in-process against a real broker: decoding, metadata, poison records to the
// dead-letter output with topic/partition/offset (the partition keeps moving), start_from.
import assert from 'node:assert/strict'
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import Database from 'better-sqlite3'
import { KafkaAdmin } from '../../src/clients/kafka.js'
import { builtins } from '../../src/component/builtins.js'
import { loadConfigText } from '../../src/config/load.js'
import type { Rec } from '../../src/core/batch.js'
import { runPipeline, type RunResult } from '../../src/core/topology/run.js'
import pino from 'pino'
import { RunStats } from '../../src/observe/stats.js'
import { collectSink, faultySink, type CollectedRecords } from '../../src/testing/fault-sinks.js'
import { consoleProduce, kafkaFixture, type KafkaBroker } from '../services/kafka.js'

let broker: KafkaBroker
const dir = kafkaFixture('sluice-kafka-src-', (b) => (broker = b))
const uniq = `t${process.pid}`

/** A pipeline running in-process whose collected records and logs can be watched while it runs. */
function start(yaml: string, dataDir: string) {
  const collected: CollectedRecords = new Map()
  const registry = builtins.with(collectSink(collected), faultySink(collected))
  const config = loadConfigText(`data_dir: ${dataDir}\n${yaml}`, { registry, baseDir: dir, file: 'test.yaml', env: {} })
  const stop = new AbortController()
  const logs: Record<string, unknown>[] = []
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) })
  const stats = new RunStats()
  const done: Promise<RunResult> = runPipeline(config, { registry, log, signal: stop.signal, stats })
  return { out: (name: string): Rec[] => collected.get(name) ?? [], stop: () => stop.abort(), done, logs, stats }
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function committed(group: string): Promise<Map<string, number>> {
  const admin = new KafkaAdmin([broker.bootstrap])
  try {
    return await admin.committedOffsets(group)
  } finally {
    await admin.close()
  }
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0)

describe('kafka source', () => {
  test('decodes JSON with metadata; poison records are dead-lettered with topic/partition/offset and committed past', { timeout: 90_000 }, async () => {
    const topic = `${uniq}-poison`
    const group = `${uniq}-poison-g`
    await broker.createTopic(topic, 2)
    const lines: string[] = []
    const valid = new Set<number>()
    for (let i = 0; i < 300; i++) {
      const key = `k${i % 5}`
      if (i % 50 === 7) lines.push(`${key}|{"id": ${i}, broken`)
      else if (i === 123) lines.push(`${key}|{"id": ${i}, "pad": "${'x'.repeat(3000)}"}`)
      else {
        lines.push(`${key}|{"id": ${i}}`)
        valid.add(i)
      }
    }
    await consoleProduce(broker, topic, lines, { keySeparator: '|' })
    const dataDir = join(dir, 'poison')
    const p = start(
      `sources:
  in: { type: kafka, brokers: ["${broker.bootstrap}"], group: ${group}, topics: [${topic}], metadata_field: _kafka, max_record_bytes: 2KiB, commit_interval: 100ms }
sinks:
  out: { type: collect, inputs: [in], name: out }
`,
      dataDir,
    )
    const dlqFile = join(dataDir, 'dead-letter.jsonl')
    const letters = () => (existsSync(dlqFile) ? readFileSync(dlqFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [])
    try {
      await until('every record and dead letter', () => p.out('out').length >= valid.size && letters().length >= 300 - valid.size)
      // Commits reach the end of both partitions: the poison did not stop them.
      await until('offsets committed to the end', async () => sum(await committed(group)) === 300)
    } finally {
      p.stop()
    }
    const result = await p.done
    assert.equal(result.status, 'stopped', result.error?.message)

    const out = p.out('out')
    assert.deepEqual(new Set(out.map((r) => r.id)), valid)
    assert.equal(out.length, valid.size)
    const byPartition = new Map<number, number[]>()
    for (const r of out) {
      const m = r._kafka as { topic: string; partition: number; offset: number; key: string; timestamp: string; headers: object }
      assert.equal(m.topic, topic)
      assert.equal(m.key, `k${(r.id as number) % 5}`)
      assert.ok(!Number.isNaN(Date.parse(m.timestamp)))
      assert.deepEqual(m.headers, {})
      byPartition.set(m.partition, [...(byPartition.get(m.partition) ?? []), m.offset])
    }
    // Each partition in offset order.
    for (const offs of byPartition.values()) assert.deepEqual(offs, [...offs].sort((a, b) => a - b))

    const dl = letters()
    assert.equal(dl.length, 300 - valid.size)
    const parse = dl.filter((d) => d.code === 'SLC_RECORD_PARSE')
    const large = dl.filter((d) => d.code === 'SLC_RECORD_TOO_LARGE')
    assert.equal(parse.length, 6)
    assert.equal(large.length, 1)
    for (const d of dl) {
      assert.equal(d.origin.source, 'in')
      assert.equal(d.origin.topic, topic)
      assert.ok(d.origin.partition === 0 || d.origin.partition === 1)
      assert.equal(typeof d.origin.offset, 'number')
    }
    assert.match(parse[0].raw, /^\{"id": \d+, broken$/)
    assert.equal(large[0].raw, `{"id": 123, "pad": "${'x'.repeat(3000)}"}`)
  })

  test('start_from: latest reads only what is produced after joining; earliest replays the topic for the same group', { timeout: 90_000 }, async () => {
    const topic = `${uniq}-start`
    const group = `${uniq}-start-g`
    await broker.createTopic(topic, 3)
    await consoleProduce(broker, topic, Array.from({ length: 100 }, (_, i) => `old-${i}`))
    const pipeline = (from: string) => `sources:
  in: { type: kafka, brokers: ["${broker.bootstrap}"], group: ${group}, topics: [${topic}], format: text, start_from: ${from} }
sinks:
  out: { type: collect, inputs: [in], name: out }
`
    const latest = start(pipeline('latest'), join(dir, 'latest'))
    try {
      // The seek to the end is committed before the first fetch: the group shows it.
      await until('the latest offsets committed', async () => sum(await committed(group)) === 100)
      await consoleProduce(broker, topic, Array.from({ length: 50 }, (_, i) => `new-${i}`))
      await until('the new records', () => latest.out('out').length >= 50)
    } finally {
      latest.stop()
    }
    assert.equal((await latest.done).status, 'stopped')
    assert.deepEqual(latest.out('out').map((r) => r.message).sort(), Array.from({ length: 50 }, (_, i) => `new-${i}`).sort())
    assert.equal(sum(await committed(group)), 150)

    const earliest = start(pipeline('earliest'), join(dir, 'earliest'))
    try {
      await until('the whole topic again', () => earliest.out('out').length >= 150)
    } finally {
      earliest.stop()
    }
    assert.equal((await earliest.done).status, 'stopped')
    assert.equal(new Set(earliest.out('out').map((r) => r.message)).size, 150)
    assert.equal(earliest.out('out').length, 150)
  })

  test('stateful pipeline: offsets are committed with the state at barriers; a lost Kafka commit does not replay records into the state', { timeout: 90_000 }, async () => {
    const topic = `${uniq}-state`
    const group = `${uniq}-state-g`
    await broker.createTopic(topic, 2)
    await consoleProduce(broker, topic, Array.from({ length: 1000 }, (_, i) => JSON.stringify({ id: i })))
    const dataDir = join(dir, 'state')
    const yaml = `state_checkpoint_interval: 200ms
sources:
  in: { type: kafka, brokers: "${broker.bootstrap}", group: ${group}, topics: [${topic}] }
transforms:
  once: { type: dedupe, inputs: [in], key: [id], max_keys: 100000 }
sinks:
  out: { type: collect, inputs: [once], name: out }
`
    const first = start(yaml, dataDir)
    try {
      await until('every record', () => first.out('out').length >= 1000)
      await until('commits at a barrier', async () => sum(await committed(group)) === 1000)
    } finally {
      first.stop()
    }
    assert.equal((await first.done).status, 'stopped')
    // The positions saved with the state are the offsets committed to the group.
    const db = new Database(join(dataDir, 'checkpoints.db'), { readonly: true })
    const saved = new Map((db.prepare('SELECT key, position FROM checkpoints WHERE source = ?').all('in') as { key: string; position: string }[]).map((r) => [r.key.slice(group.length + 1), Number(r.position)]))
    db.close()
    assert.deepEqual(saved, await committed(group))

    // Simulate a crash between saving a barrier and committing to Kafka: the group's commits go
    // back to 0, the saved state (dedupe keys) and positions stay. Nothing may be read again.
    const admin = new KafkaAdmin([broker.bootstrap])
    try {
      await admin.setCommitted(group, topic, new Map([[0, 0], [1, 0]]))
    } finally {
      await admin.close()
    }
    assert.equal(sum(await committed(group)), 0)
    const second = start(yaml, dataDir)
    try {
      await consoleProduce(broker, topic, Array.from({ length: 10 }, (_, i) => JSON.stringify({ id: 1000 + i })))
      await until('the 10 new records', () => second.out('out').length >= 10)
      await until('commits past the new records', async () => sum(await committed(group)) === 1010)
    } finally {
      second.stop()
    }
    const result = await second.done
    assert.equal(result.status, 'stopped')
    assert.deepEqual(second.out('out').map((r) => r.id).sort(), Array.from({ length: 10 }, (_, i) => 1000 + i))
    // The source itself emitted only the new records (dedupe would hide a replay in the output).
    assert.equal(result.stats.get('in').sent, 10)
  })

  test('topic_pattern reads every matching topic; a missing topic fails the run with SLC_SOURCE_NOT_FOUND', { timeout: 60_000 }, async () => {
    await broker.createTopic(`${uniq}-pat-a`, 1)
    await broker.createTopic(`${uniq}-pat-b`, 2)
    await consoleProduce(broker, `${uniq}-pat-a`, ['a1', 'a2'])
    await consoleProduce(broker, `${uniq}-pat-b`, ['b1', 'b2', 'b3'])
    const p = start(
      `sources:
  in: { type: kafka, brokers: "${broker.bootstrap}", group: ${uniq}-pat-g, topic_pattern: "^${uniq}-pat-", format: text, metadata_field: m }
sinks:
  out: { type: collect, inputs: [in], name: out }
`,
      join(dir, 'pattern'),
    )
    try {
      await until('records of both topics', () => p.out('out').length >= 5)
    } finally {
      p.stop()
    }
    assert.equal((await p.done).status, 'stopped')
    assert.deepEqual(p.out('out').map((r) => `${(r.m as { topic: string }).topic.slice(-5)}:${r.message}`).sort(), ['pat-a:a1', 'pat-a:a2', 'pat-b:b1', 'pat-b:b2', 'pat-b:b3'])

    const missing = start(
      `sources:
  in: { type: kafka, brokers: "${broker.bootstrap}", group: ${uniq}-missing-g, topics: [${uniq}-no-such-topic] }
sinks:
  out: { type: collect, inputs: [in], name: out }
`,
      join(dir, 'missing'),
    )
    const r = await missing.done
    assert.equal(r.status, 'failed')
    assert.equal(r.error?.code, 'SLC_SOURCE_NOT_FOUND')
    assert.match(r.error!.message, /no-such-topic/)
  })

  test('rebalance: a second member takes half the partitions; records in flight at the revoke are the only ones read twice', { timeout: 90_000 }, async (t) => {
    const topic = `${uniq}-rebalance`
    const group = `${uniq}-rebalance-g`
    const N = 6000
    await broker.createTopic(topic, 4)
    await consoleProduce(broker, topic, Array.from({ length: N }, (_, i) => `k${i % 100}|${JSON.stringify({ id: i })}`), { keySeparator: '|' })
    // A slow sink keeps records in flight at the moment the partitions move.
    const member = (name: string, delay: string) =>
      start(
        `channel: { max_records: 400, max_bytes: 1MiB }
sources:
  in: { type: kafka, brokers: "${broker.bootstrap}", group: ${group}, topics: [${topic}], batch_size: 100, buffered_messages: 200, commit_interval: 200ms, session_timeout: 6s }
sinks:
  out: { type: faulty, inputs: [in], name: out, delay: ${delay}, batch: { max_records: 100, linger: 5ms } }
`,
        join(dir, name),
      )
    const a = member('rebalance-a', '100ms')
    let b: ReturnType<typeof member> | undefined
    try {
      await until('a under way', () => a.out('out').length >= 500)
      b = member('rebalance-b', '0ms')
      const union = () => new Set([...a.out('out'), ...b!.out('out')].map((r) => r.id)).size
      await until('every record in a or b', () => union() >= N)
      await until('a released what it lost', () => a.logs.some((l) => l.msg === 'Released a revoked partition.'))
    } finally {
      a.stop()
      b?.stop()
    }
    assert.equal((await a.done).status, 'stopped')
    assert.equal((await b!.done).status, 'stopped')
    const ids = [...a.out('out'), ...b!.out('out')].map((r) => r.id as number)
    const distinct = new Set(ids).size
    const released = a.logs.filter((l) => l.msg === 'Released a revoked partition.') as { uncommitted: number; drained: boolean; partition: number }[]
    const uncommitted = released.reduce((n, l) => n + l.uncommitted, 0)
    const bJoined = b!.logs.filter((l) => l.msg === 'Joined the consumer group.').at(-1) as { partitions: string[] }
    t.diagnostic(`a: ${a.out('out').length} records, b: ${b!.out('out').length} (partitions ${bJoined.partitions.join(' ')}); ${distinct} distinct of ${N}, ${ids.length - distinct} duplicates; a released ${released.length} partitions with ${uncommitted} records uncommitted (drained: ${released.map((l) => l.drained).join(',')})`)
    assert.equal(distinct, N)
    assert.ok(bJoined.partitions.length >= 1)
    assert.ok(released.every((l) => l.drained), 'in-flight records of the revoked partitions were acknowledged within ack_timeout')
    assert.ok(ids.length - distinct <= uncommitted, `${ids.length - distinct} duplicates, more than the ${uncommitted} records a had handed out but not committed at the revoke`)
  })

  test('backpressure: with a slow sink the source emits no further ahead than the channel; CSV values decode by csv.columns', { timeout: 60_000 }, async (t) => {
    const topic = `${uniq}-slow`
    await broker.createTopic(topic, 2)
    await consoleProduce(broker, topic, Array.from({ length: 3000 }, (_, i) => `${i},name-${i},${i % 2 === 0}`))
    const p = start(
      `channel: { max_records: 300, max_bytes: 1MiB }
sources:
  in: { type: kafka, brokers: "${broker.bootstrap}", group: ${uniq}-slow-g, topics: [${topic}], format: csv, csv: { columns: { id: int, name: string, even: bool } }, batch_size: 100 }
sinks:
  out: { type: faulty, inputs: [in], name: out, delay: 50ms, batch: { max_records: 100, linger: 5ms } }
`,
      join(dir, 'slow'),
    )
    let worst = 0
    try {
      await until('every record', () => {
        // Emitted but not yet written: at most the channel, the batch being written, the one the
        // sink runner gathers meanwhile, and the source batch waiting in emit.
        worst = Math.max(worst, (p.stats.get('in')?.sent ?? 0) - (p.stats.get('out')?.sent ?? 0))
        return p.out('out').length >= 3000
      })
    } finally {
      p.stop()
    }
    assert.equal((await p.done).status, 'stopped')
    t.diagnostic(`the source was at most ${worst} records ahead of the slow sink (channel 300, sink batches of 100, source batches of 100)`)
    assert.ok(worst > 0 && worst <= 300 + 2 * 100 + 100, `the source ran ${worst} records ahead of the sink`)
    const out = p.out('out').sort((x, y) => (x.id as number) - (y.id as number))
    assert.equal(out.length, 3000)
    assert.deepEqual(out[7], { id: 7, name: 'name-7', even: false })
  })
})
