// Shared helpers of the aggregate tests: build through the declaration, drive with explicit
// processing times, a seeded PRNG, random records and a straightforward reference.
import assert from 'node:assert/strict'
import type { BuildContext, StatefulTransform } from '../../../src/component/define.js'
import type { Rec } from '../../../src/core/batch.js'
import { silentLogger } from '../../../src/observe/log.js'
import { aggregate } from '../../../src/transforms/aggregate/index.js'

export const ctx = (id = 'agg'): BuildContext => ({ id, baseDir: process.cwd(), dataDir: '/tmp/sluice-test', log: silentLogger() })

export async function build(options: Record<string, unknown>, id = 'agg'): Promise<StatefulTransform> {
  const t = await aggregate.build(aggregate.options.parse(options), ctx(id))
  assert.equal(t.kind, 'stateful')
  return t as StatefulTransform
}

export interface Rejection {
  index: number
  code: string | undefined
  message: string
  record: Rec
}

/** Drives a transform: `feed` collects emitted rows and rejections. */
export class Driver {
  readonly rows: Rec[] = []
  readonly rejected: Rejection[] = []
  constructor(readonly t: StatefulTransform) {}

  feed(records: Rec[], partition = 'p', now = 0): Rec[] {
    const out = this.t.process(records, {
      partition,
      now,
      reject: (index, error) => {
        const e = error as { code?: string; message: string }
        this.rejected.push({ index, code: e.code, message: e.message, record: records[index]! })
      },
    })
    this.rows.push(...out)
    return out
  }
  tick(now: number): Rec[] {
    const out = this.t.tick!(now)
    this.rows.push(...out)
    return out
  }
  end(partition: string): Rec[] {
    const out = this.t.partitionEnded!(partition)
    this.rows.push(...out)
    return out
  }
  flush(): Rec[] {
    const out = this.t.flush()
    this.rows.push(...out)
    return out
  }
}

/** mulberry32: a small seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const T0 = Date.UTC(2024, 0, 1, 0, 0, 0)
export const iso = (ms: number) => new Date(ms).toISOString()
export const MIN = 60_000

/**
 * Random records over `spanMs` of event time, arriving out of order by up to `disorderMs`.
 * Fields: ts (ISO string), country (5 values, sometimes missing or null), amount (a number,
 * sometimes null), user, latency_ms, tag (a string for min/max).
 */
export function randomRecords(seed: number, n: number, spanMs: number, disorderMs: number): Rec[] {
  const rnd = prng(seed)
  const countries = ['FR', 'DE', 'US', 'JP', 'BR']
  const out: { r: Rec; arrive: number }[] = []
  for (let i = 0; i < n; i++) {
    const t = T0 + Math.floor((i / n) * spanMs)
    const r: Rec = { ts: iso(t), user: `u${Math.floor(rnd() * 40)}`, latency_ms: Math.round(rnd() * 1000) / 10, tag: `tag-${Math.floor(rnd() * 100)}` }
    const c = rnd()
    if (c < 0.03) r.country = null
    else if (c > 0.03 && c < 0.05) {
      /* missing */
    } else r.country = countries[Math.floor(rnd() * countries.length)]
    r.amount = rnd() < 0.05 ? null : Math.round(rnd() * 10_000) / 100
    out.push({ r, arrive: t + rnd() * disorderMs })
  }
  out.sort((a, b) => a.arrive - b.arrive)
  return out.map((x) => x.r)
}

// ─── Reference ────────────────────────────────────────────────────────────────────────────

export interface RefWindow {
  start: number
  end: number
  /** Records in arrival order, with their arrival index. */
  items: { r: Rec; t: number; seq: number }[]
}

const time = (r: Rec) => Date.parse(r.ts as string)

/** Reference rows: one per window and group, aggregations computed directly. */
export function reference(
  records: Rec[],
  window: { type: string; size?: number; slide?: number; gap?: number },
  groupBy: string[],
  aggs: Record<string, string>,
): Map<string, Rec> {
  const keyOf = (r: Rec) => JSON.stringify(groupBy.map((f) => r[f] ?? null))
  const windows = new Map<string, RefWindow & { kv: unknown[] }>()
  const add = (start: number, end: number, r: Rec, t: number, seq: number) => {
    const k = `${start}|${keyOf(r)}`
    let w = windows.get(k)
    if (!w) windows.set(k, (w = { start, end, items: [], kv: groupBy.map((f) => r[f] ?? null) }))
    w.items.push({ r, t, seq })
  }
  if (window.type === 'session') {
    const byGroup = new Map<string, { r: Rec; t: number; seq: number }[]>()
    records.forEach((r, seq) => {
      const k = keyOf(r)
      if (!byGroup.has(k)) byGroup.set(k, [])
      byGroup.get(k)!.push({ r, t: time(r), seq })
    })
    for (const items of byGroup.values()) {
      const sorted = items.slice().sort((a, b) => a.t - b.t || a.seq - b.seq)
      let session: typeof sorted = []
      const close = () => {
        const start = session[0]!.t
        const end = Math.max(...session.map((x) => x.t)) + window.gap!
        for (const x of session.slice().sort((a, b) => a.seq - b.seq)) add(start, end, x.r, x.t, x.seq)
      }
      for (const x of sorted) {
        if (session.length && x.t >= session.at(-1)!.t + window.gap!) {
          close()
          session = []
        }
        session.push(x)
      }
      if (session.length) close()
    }
  } else {
    records.forEach((r, seq) => {
      const t = time(r)
      if (window.type === 'global') add(0, 0, r, t, seq)
      else {
        const slide = window.slide ?? window.size!
        const last = Math.floor(t / slide) * slide
        for (let s = last; s > t - window.size!; s -= slide) add(s, s + window.size!, r, t, seq)
      }
    })
  }
  const out = new Map<string, Rec>()
  for (const w of windows.values()) {
    const items = w.items.slice().sort((a, b) => a.seq - b.seq)
    const row: Rec = {}
    if (window.type !== 'global') {
      row.window_start = iso(w.start)
      row.window_end = iso(w.end)
    }
    groupBy.forEach((f, i) => (row[f] = w.kv[i]))
    for (const [name, call] of Object.entries(aggs)) row[name] = refAgg(call, items)
    out.set(rowKey(row, groupBy), row)
  }
  return out
}

export function rowKey(row: Rec, groupBy: string[]): string {
  return JSON.stringify([row.window_start ?? null, ...groupBy.map((f) => row[f] ?? null)])
}

function refAgg(call: string, items: { r: Rec; t: number; seq: number }[]): unknown {
  const m = /^(\w+)\((.*)\)$/.exec(call)!
  const fn = m[1]!
  const [arg, param] = m[2]!.split(',').map((s) => s.trim())
  const vals = arg ? items.filter((x) => x.r[arg] !== null && x.r[arg] !== undefined).map((x) => ({ ...x, v: x.r[arg] })) : []
  const nums = vals.map((x) => x.v as number)
  switch (fn) {
    case 'count':
      return arg ? vals.length : items.length
    case 'sum':
      return nums.length ? exactSum(nums) : null
    case 'avg':
      return nums.length ? exactSum(nums) / nums.length : null
    case 'min':
      return vals.length ? vals.map((x) => x.v).reduce((a, b) => ((a as number) <= (b as number) ? a : b)) : null
    case 'max':
      return vals.length ? vals.map((x) => x.v).reduce((a, b) => ((a as number) >= (b as number) ? a : b)) : null
    case 'first':
      return vals.length ? vals.slice().sort((a, b) => a.t - b.t || a.seq - b.seq)[0]!.v : null
    case 'last':
      return vals.length ? vals.slice().sort((a, b) => b.t - a.t || b.seq - a.seq)[0]!.v : null
    case 'count_distinct':
    case 'approx_count_distinct':
      return new Set(vals.map((x) => x.v)).size
    case 'collect':
      return vals.slice(0, param ? Number(param) : 100).map((x) => x.v)
    case 'percentile':
    case 'p50':
    case 'p90':
    case 'p99': {
      const q = fn === 'percentile' ? Number(param) : Number(fn.slice(1)) / 100
      return { quantile: q, sorted: nums.slice().sort((a, b) => a - b) }
    }
  }
  throw new Error(`no reference for ${call}`)
}

/**
 * The sum of `nums` rounded once (Shewchuk's exact partials, as Python's math.fsum): the aggregate
 * sums with compensation, which gives this for any order of addition on inputs like these.
 */
export function exactSum(nums: readonly number[]): number {
  const partials: number[] = []
  for (let x of nums) {
    let i = 0
    for (let y of partials) {
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x]
      const hi = x + y
      const lo = y - (hi - x)
      if (lo !== 0) partials[i++] = lo
      x = hi
    }
    partials.length = i
    partials.push(x)
  }
  // Round the partials (largest last) to one double, correcting the half-way case.
  let n = partials.length
  if (n === 0) return 0
  let hi = partials[--n]!
  let lo = 0
  while (n > 0) {
    const x = hi
    const y = partials[--n]!
    hi = x + y
    lo = y - (hi - x)
    if (lo !== 0) break
  }
  if (n > 0 && ((lo < 0 && partials[n - 1]! < 0) || (lo > 0 && partials[n - 1]! > 0))) {
    const y = lo * 2
    const x = hi + y
    if (y === x - hi) hi = x
  }
  return hi
}

/** Compare emitted rows with the reference (approximate aggregates within their bounds). */
export function assertMatchesReference(rows: Rec[], ref: Map<string, Rec>, groupBy: string[], aggs: Record<string, string>, opts: { sumTolerance?: number } = {}): void {
  const got = new Map(rows.map((r) => [rowKey(r, groupBy), r]))
  assert.equal(got.size, rows.length, 'a (window, group) was emitted twice')
  assert.deepEqual([...got.keys()].sort(), [...ref.keys()].sort(), 'the (window, group) pairs differ')
  for (const [k, want] of ref) {
    const row = got.get(k)!
    assert.deepEqual(Object.keys(row), Object.keys(want), `field order of ${k}`)
    for (const [name, call] of Object.entries(aggs)) {
      const w = want[name]
      const g = row[name]
      const fn = call.slice(0, call.indexOf('('))
      if (fn === 'approx_count_distinct') {
        assert.ok(Math.abs((g as number) - (w as number)) <= Math.max(1, 0.05 * (w as number)), `${k} ${name}: ${g} vs exact ${w}`)
      } else if (/^(percentile|p\d\d)$/.test(fn)) {
        const { quantile, sorted } = w as { quantile: number; sorted: number[] }
        if (sorted.length === 0) assert.equal(g, null, `${k} ${name}`)
        else {
          // Within one rank (plus 1%) of the exact quantile.
          const slack = 1 + Math.ceil(0.01 * sorted.length)
          const lo = sorted[Math.max(0, Math.floor(quantile * (sorted.length - 1)) - slack)]!
          const hi = sorted[Math.min(sorted.length - 1, Math.ceil(quantile * (sorted.length - 1)) + slack)]!
          assert.ok((g as number) >= lo && (g as number) <= hi, `${k} ${name}: ${g} not within [${lo}, ${hi}]`)
        }
      } else if (typeof w === 'number' && opts.sumTolerance !== undefined && (fn === 'sum' || fn === 'avg')) {
        assert.ok(Math.abs((g as number) - w) <= opts.sumTolerance * Math.max(1, Math.abs(w)), `${k} ${name}: ${g} vs ${w}`)
      } else assert.deepEqual(g, w, `${k} ${name}`)
    }
  }
}

/** Feed records in batches of `size`, with the processing clock at `now`. */
export function feedAll(d: Driver, records: Rec[], size = 97, partition = 'p', now = 0): void {
  for (let i = 0; i < records.length; i += size) d.feed(records.slice(i, i + size), partition, now)
}
