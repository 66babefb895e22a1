// Micro-benchmark of the `aggregate` transform on the main thread: records/s for a tumbling 1m
// window, group_by [country] (50 values), count + sum + avg over 1M generated records in
// batches of 2048 (times as epoch milliseconds and as canonical ISO-8601 strings), plus the
// heap cost of the state per 1M (window, group) entries (count + sum, 1M distinct groups in a
// global window). Run: npx tsx --expose-gc bench/micro/transforms/aggregate.bench.ts
// (without --expose-gc the memory figure is skipped).
import type { Rec } from '../../../src/core/batch.js'
import type { StatefulTransform } from '../../../src/component/define.js'
import { silentLogger } from '../../../src/observe/log.js'
import { aggregate } from '../../../src/transforms/aggregate/index.js'

const N = Number(process.env.RECORDS ?? 1_000_000)
const BATCH = 2048
const ROUNDS = 5
const ctx = { id: 'bench', baseDir: process.cwd(), dataDir: '/tmp', log: silentLogger() }

async function build(options: Record<string, unknown>): Promise<StatefulTransform> {
  return (await aggregate.build(aggregate.options.parse(options), ctx)) as StatefulTransform
}

function records(iso: boolean): Rec[][] {
  const countries = Array.from({ length: 50 }, (_, i) => `C${String(i).padStart(2, '0')}`)
  const t0 = Date.UTC(2024, 0, 1)
  const batches: Rec[][] = []
  let batch: Rec[] = []
  for (let i = 0; i < N; i++) {
    // ~10k records per second of event time: 1M records span ~100 s (two windows closing).
    const ms = t0 + Math.floor(i / 10) + ((i * 7919) % 500) // a little out of order
    batch.push({ ts: iso ? new Date(ms).toISOString() : ms, country: countries[(i * 31) % 50], amount: (i % 1000) / 10, id: i })
    if (batch.length === BATCH) {
      batches.push(batch)
      batch = []
    }
  }
  if (batch.length) batches.push(batch)
  return batches
}

async function throughput(label: string, batches: Rec[][]): Promise<number> {
  let best = Infinity
  let rows = 0
  for (let round = 0; round < ROUNDS; round++) {
    const t = await build({
      group_by: ['country'],
      window: { type: 'tumbling', size: '1m' },
      time_field: 'ts',
      allowed_lateness: '1s',
      aggregations: { orders: 'count()', revenue: 'sum(amount)', avg_amount: 'avg(amount)' },
    })
    const input = { partition: 'bench', now: 0, reject: () => { throw new Error('unexpected reject') } }
    const start = process.hrtime.bigint()
    rows = 0
    for (const b of batches) rows += t.process(b, input).length
    rows += t.flush().length
    const s = Number(process.hrtime.bigint() - start) / 1e9
    best = Math.min(best, s)
  }
  const rate = N / best
  console.log(`${label}: ${(rate / 1e6).toFixed(2)}M records/s (best of ${ROUNDS}, ${N} records, ${rows} rows)`)
  return rate
}

async function memory(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) {
    console.log('memory: run with --expose-gc (npx tsx --expose-gc …) to measure state memory')
    return
  }
  const KEYS = 1_000_000
  const t = await build({ group_by: ['user'], window: { type: 'global' }, aggregations: { n: 'count()', total: 'sum(amount)' }, max_keys: 2_000_000, max_state_bytes: '2GiB' })
  const input = { partition: 'mem', now: 0, reject: () => {} }
  gc()
  const before = process.memoryUsage().heapUsed
  // Records are created and dropped batch by batch: only the state stays alive.
  for (let i = 0; i < KEYS; i += BATCH) {
    const batch: Rec[] = []
    for (let j = i; j < Math.min(KEYS, i + BATCH); j++) batch.push({ user: `user-${j}`, amount: j % 100 })
    t.process(batch, input)
  }
  gc()
  const after = process.memoryUsage().heapUsed
  const size = t.stateSize!()
  console.log(
    `memory: ${((after - before) / 1e6).toFixed(0)} MB heapUsed for ${size.keys} groups (count + sum) = ` +
      `${((after - before) / KEYS).toFixed(0)} bytes/entry; estimate ${(size.bytes / KEYS).toFixed(0)} bytes/entry`,
  )
}

await throughput('tumbling 1m, group_by country (50), count+sum+avg, epoch ms', records(false))
await throughput('tumbling 1m, group_by country (50), count+sum+avg, ISO strings', records(true))
await memory()
