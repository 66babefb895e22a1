// Scale-out and Kafka → Kafka against a real broker with real `sluice` processes: three members
// of one group share a 6-partition topic, one is killed with -9 and another stopped with SIGTERM
// (each time the rest take the partitions over); and a Kafka → map → Kafka pipeline read back
// with the broker's console consumer.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { KafkaAdmin } from '../../src/clients/kafka.js'
import { consoleConsume, consoleProduce, kafkaFixture, type KafkaBroker } from '../services/kafka.js'
import { ids, jsonLines, queryNumber, sluice, until, writeConfig, type SluiceProcess } from './kafka-helpers.js'

let broker: KafkaBroker
const dir = kafkaFixture('sluice-kafka-group-', (b) => (broker = b))
const uniq = `g${process.pid}`

interface Join {
  at: number
  generation: number
  partitions: string[]
}

/** The "Joined the consumer group." log lines of a process so far. */
function joins(p: SluiceProcess): Join[] {
  const out: Join[] = []
  for (const line of p.stderr().split('\n')) {
    if (!line.includes('Joined the consumer group.')) continue
    const j = JSON.parse(line) as { time: number; generation: number; partitions: string[] }
    out.push({ at: j.time, generation: j.generation, partitions: j.partitions })
  }
  return out
}

/** True once the given members' latest assignments share one generation and cover `partitions`. */
function settled(members: SluiceProcess[], partitions: number, minGeneration = 0): Join[] | undefined {
  const latest = members.map((m) => joins(m).at(-1))
  if (latest.some((j) => j === undefined)) return undefined
  const gens = new Set(latest.map((j) => j!.generation))
  if (gens.size !== 1 || latest[0]!.generation < minGeneration) return undefined
  const all = latest.flatMap((j) => j!.partitions)
  return all.length === partitions && new Set(all).size === partitions ? (latest as Join[]) : undefined
}

test('3 processes in one group share 6 partitions; kill -9 one, SIGTERM another: the rest take over and every record arrives', { timeout: 180_000 }, async (t) => {
  const topic = `${uniq}-scale`
  const group = `${uniq}-scale-g`
  await broker.createTopic(topic, 6)
  const members = ['a', 'b', 'c'].map((name) => {
    const db = join(dir, `${name}.db`)
    const config = writeConfig(
      join(dir, `${name}.yaml`),
      `data_dir: ${join(dir, `${name}-state`)}
sources:
  in: { type: kafka, brokers: "${broker.bootstrap}", group: ${group}, topics: [${topic}], session_timeout: 6s, commit_interval: 200ms }
sinks:
  db: { type: sqlite, inputs: [in], path: ${db}, table: events, batch: { max_records: 2000, linger: 50ms } }
`,
    )
    return { name, db, proc: sluice(config) }
  })
  const [a, b, c] = members as [(typeof members)[0], (typeof members)[0], (typeof members)[0]]
  const rows = (db: string) => queryNumber(db, 'SELECT count(*) AS n FROM events')
  const distinctAll = () => new Set(ids(members.map((m) => m.db).filter((db) => rows(db) > 0), 'events')).size
  try {
    let first: Join[] | undefined
    await until('three members sharing the 6 partitions', () => (first = settled(members.map((m) => m.proc), 6)) !== undefined, 60_000)
    for (const j of first!) assert.ok(j.partitions.length >= 1, 'every member has partitions')

    await consoleProduce(broker, topic, jsonLines(100_000))
    await until('rows in every member', () => members.every((m) => rows(m.db) > 0) && members.reduce((n, m) => n + rows(m.db), 0) >= 50_000)
    const perMember = members.map((m) => `${m.name}: ${rows(m.db)} rows, partitions ${joins(m.proc).at(-1)!.partitions.join(' ')}`)

    // kill -9: the group notices after session_timeout; a and c then share all 6.
    const killedAt = Date.now()
    b.proc.child.kill('SIGKILL')
    await b.proc.exited
    await consoleProduce(broker, topic, jsonLines(100_000, 100_000))
    let afterKill: Join[] | undefined
    await until('a and c owning every partition', () => (afterKill = settled([a.proc, c.proc], 6, first![0]!.generation + 1)) !== undefined, 60_000)
    const killRebalance = (Math.max(...afterKill!.map((j) => j.at)) - killedAt) / 1000
    await until('every id of the first 200k', () => distinctAll() >= 200_000)

    // SIGTERM: c leaves the group on its way out, so a takes over without a session timeout.
    const stoppedAt = Date.now()
    c.proc.child.kill('SIGTERM')
    assert.equal((await c.proc.exited).code, 0, c.proc.stderr().slice(-2000))
    let afterStop: Join[] | undefined
    await until('a owning every partition', () => (afterStop = settled([a.proc], 6, afterKill![0]!.generation + 1)) !== undefined, 60_000)
    const stopRebalance = (afterStop![0]!.at - stoppedAt) / 1000
    await consoleProduce(broker, topic, jsonLines(10_000, 200_000))
    await until('every id', () => distinctAll() >= 210_000)

    const total = members.reduce((n, m) => n + rows(m.db), 0)
    const unique = distinctAll()
    t.diagnostic(`before the kill: ${perMember.join('; ')}`)
    t.diagnostic(`kill -9 of b → a and c own all partitions after ${killRebalance.toFixed(1)} s (session_timeout 6 s); SIGTERM of c → a owns all after ${stopRebalance.toFixed(1)} s`)
    t.diagnostic(`210000 produced: ${unique} distinct ids, ${total - unique} duplicates, lost ${210_000 - unique}`)
    assert.equal(unique, 210_000)
    // A clean leave does not wait for the session timeout.
    assert.ok(stopRebalance < 6, `rebalance after SIGTERM took ${stopRebalance} s, as long as a session timeout`)
  } finally {
    for (const m of members) if (m.proc.child.exitCode === null && m.proc.child.signalCode === null) m.proc.child.kill('SIGTERM')
    await Promise.all(members.map((m) => m.proc.exited))
  }
  assert.equal((await a.proc.exited).code, 0, a.proc.stderr().slice(-2000))
})

test('Kafka → map → Kafka: the output topic, read back by the console consumer, holds every record transformed', { timeout: 120_000 }, async (t) => {
  const N = 20_000
  const input = `${uniq}-k2k-in`
  const output = `${uniq}-k2k-out`
  await broker.createTopic(input, 3)
  await broker.createTopic(output, 3)
  await consoleProduce(broker, input, jsonLines(N))
  const config = writeConfig(
    join(dir, 'k2k.yaml'),
    `data_dir: ${join(dir, 'k2k-state')}
sources:
  in: { type: kafka, brokers: "${broker.bootstrap}", group: ${uniq}-k2k-g, topics: [${input}], metadata_field: src }
transforms:
  shape:
    type: map
    inputs: [in]
    set: { doubled: id * 2, from_partition: src.partition }
    remove: [pad, src]
sinks:
  out: { type: kafka, inputs: [shape], brokers: "${broker.bootstrap}", topic: ${output}, key: "{id}" }
`,
  )
  const p = sluice(config, 'warn')
  let lines: string[] = []
  try {
    lines = await consoleConsume(broker, output, { maxMessages: N, timeoutMs: 60_000, printKey: true })
  } finally {
    p.child.kill('SIGTERM')
  }
  assert.equal((await p.exited).code, 0, p.stderr().slice(-2000))
  const seen = new Set<number>()
  for (const line of lines) {
    const [key, value] = line.split('\t') as [string, string]
    const r = JSON.parse(value) as { id: number; doubled: number; from_partition: number }
    assert.equal(key, String(r.id))
    assert.equal(r.doubled, r.id * 2)
    assert.ok(r.from_partition >= 0 && r.from_partition < 3)
    assert.deepEqual(Object.keys(r).sort(), ['doubled', 'from_partition', 'id'])
    seen.add(r.id)
  }
  t.diagnostic(`${N} records in, ${lines.length} messages read back from ${output}, ${seen.size} distinct ids`)
  assert.equal(lines.length, N)
  assert.equal(seen.size, N)
  for (let i = 0; i < N; i++) assert.ok(seen.has(i), `id ${i} missing`)
  // The group committed every input offset by the time it left.
  const admin = new KafkaAdmin([broker.bootstrap])
  try {
    const committed = await admin.committedOffsets(`${uniq}-k2k-g`)
    assert.equal([...committed.values()].reduce((x, y) => x + y, 0), N)
  } finally {
    await admin.close()
  }
})
