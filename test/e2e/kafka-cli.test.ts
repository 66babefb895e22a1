// Kafka → `sluice` CLI → SQLite against a real broker, with records produced by the broker's own
// console producer (an external client): a 1M-record load, kill -9 of Sluice mid-stream, and a
// broker killed for ~10 s mid-stream. Every run checks the exact set of ids in SQLite.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { consoleProduce, kafkaFixture, type KafkaBroker } from '../services/kafka.js'
import { committedTotal, jsonLines, queryNumber, rssMiB, sluice, until, writeConfig } from './kafka-helpers.js'

let broker: KafkaBroker
const dir = kafkaFixture('sluice-kafka-cli-', (b) => (broker = b))
const uniq = `c${process.pid}`

function pipeline(name: string, topic: string, group: string, extra = ''): { config: string; db: string } {
  const db = join(dir, `${name}.db`)
  const config = writeConfig(
    join(dir, `${name}.yaml`),
    `data_dir: ${join(dir, `${name}-state`)}
channel: { max_records: 20000, max_bytes: 16MiB }
sources:
  in: { type: kafka, brokers: ["${broker.bootstrap}"], group: ${group}, topics: [${topic}]${extra} }
sinks:
  db: { type: sqlite, inputs: [in], path: ${db}, table: events, batch: { max_records: 5000, linger: 50ms } }
`,
  )
  return { config, db }
}

const count = (db: string) => queryNumber(db, 'SELECT count(*) AS n FROM events')
const distinct = (db: string) => queryNumber(db, 'SELECT count(DISTINCT id) AS n FROM events')
const inRange = (db: string, n: number) => queryNumber(db, `SELECT count(DISTINCT id) AS n FROM events WHERE id >= 0 AND id < ${n}`)

test('1M records from the console producer → sluice → SQLite: exactly the produced set', { timeout: 240_000 }, async (t) => {
  const N = 1_000_000
  const topic = `${uniq}-load`
  const group = `${uniq}-load-g`
  await broker.createTopic(topic, 4)
  const t0 = Date.now()
  await consoleProduce(broker, topic, jsonLines(N))
  const produced = Date.now() - t0
  const { config, db } = pipeline('load', topic, group)
  const p = sluice(config)
  const t1 = Date.now()
  try {
    await until('1M rows in SQLite', () => count(db) >= N, 180_000)
  } finally {
    p.child.kill('SIGTERM')
  }
  const consumed = Date.now() - t1
  const exit = await p.exited
  assert.equal(exit.code, 0, p.stderr())
  const total = count(db)
  const unique = distinct(db)
  t.diagnostic(`produced ${N} in ${(produced / 1000).toFixed(1)} s; sluice wrote ${total} rows (${unique} distinct ids) in ${(consumed / 1000).toFixed(1)} s`)
  assert.equal(unique, N)
  assert.equal(inRange(db, N), N)
  assert.equal(total, N, `${total - N} duplicates in a run without failures`)
  // The clean shutdown committed every offset before leaving the group.
  assert.equal(await committedTotal(broker.bootstrap, group), N)
})

test('kill -9 of sluice mid-stream, restart: nothing lost, duplicates only what was uncommitted at the kill', { timeout: 180_000 }, async (t) => {
  const N = 200_000
  const topic = `${uniq}-kill`
  const group = `${uniq}-kill-g`
  await broker.createTopic(topic, 4)
  await consoleProduce(broker, topic, jsonLines(N))
  const { config, db } = pipeline('kill', topic, group, ', commit_interval: 200ms')
  const first = sluice(config, 'warn')
  try {
    await until('rows before the kill', () => count(db) >= 60_000 || first.child.exitCode !== null)
  } finally {
    first.child.kill('SIGKILL')
  }
  assert.equal((await first.exited).signal, 'SIGKILL', first.stderr())
  // Frozen now: what SQLite holds and what the group committed when the process died.
  const rowsAtKill = count(db)
  const committedAtKill = await committedTotal(broker.bootstrap, group)
  assert.ok(rowsAtKill < N, 'killed before the end')

  const second = sluice(config, 'warn')
  try {
    await until('every id after the restart', () => distinct(db) >= N)
  } finally {
    second.child.kill('SIGTERM')
  }
  assert.equal((await second.exited).code, 0, second.stderr())
  const total = count(db)
  const unique = distinct(db)
  const inFlight = rowsAtKill - committedAtKill
  t.diagnostic(`kill -9 at ${rowsAtKill} rows (group had committed ${committedAtKill}): lost ${N - unique}, duplicated ${total - unique}, written-but-uncommitted at the kill ${inFlight}`)
  assert.equal(inRange(db, N), N, `lost ${N - inRange(db, N)} records`)
  assert.equal(unique, N)
  assert.ok(total - unique <= inFlight, `duplicates ${total - unique} exceed what was written but not committed at the kill (${inFlight})`)
})

test('broker killed for ~10 s mid-stream: sluice recovers by itself, nothing lost, RSS bounded', { timeout: 180_000 }, async (t) => {
  const N = 200_000
  const topic = `${uniq}-outage`
  const group = `${uniq}-outage-g`
  await broker.createTopic(topic, 4)
  await consoleProduce(broker, topic, jsonLines(N))
  const { config, db } = pipeline('outage', topic, group, ', commit_interval: 200ms')
  const p = sluice(config, 'warn')
  const samples: number[] = []
  const sampler = setInterval(() => {
    const r = rssMiB(p.child.pid!)
    if (r !== undefined) samples.push(r)
  }, 100)
  let rowsAtKill = 0
  let rowsAtRestart = 0
  let outageMs = 0
  try {
    await until('rows before the broker dies', () => count(db) >= 50_000)
    rowsAtKill = count(db)
    const down = Date.now()
    await broker.kill()
    // The outage itself is the scenario (not a wait for something): ~10 s without a broker.
    await new Promise((r) => setTimeout(r, 10_000))
    rowsAtRestart = count(db)
    await broker.restart()
    outageMs = Date.now() - down
    await until('every id after the broker came back', () => distinct(db) >= N)
  } finally {
    clearInterval(sampler)
    p.child.kill('SIGTERM')
  }
  assert.equal((await p.exited).code, 0, p.stderr().slice(-4000))
  const total = count(db)
  const unique = distinct(db)
  const peak = Math.max(...samples)
  t.diagnostic(
    `broker down ${(outageMs / 1000).toFixed(1)} s at ${rowsAtKill} rows (${rowsAtRestart} when it came back): lost ${N - unique}, duplicated ${total - unique}; ` +
      `sluice RSS peak ${peak.toFixed(0)} MiB over ${samples.length} samples`,
  )
  assert.equal(inRange(db, N), N, `lost ${N - inRange(db, N)} records`)
  assert.ok(samples.length >= 20, 'too few RSS samples')
  // Bounded by buffered_messages/max_fetch_bytes and the channel, not by the 200k-record lag.
  assert.ok(peak < 300, `RSS peak ${peak.toFixed(0)} MiB`)
})
