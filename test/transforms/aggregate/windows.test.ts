// Every window type and every aggregation against a straightforward reference computed from the
// same seeded random records.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { assertMatchesReference, build, Driver, feedAll, iso, MIN, randomRecords, reference, T0 } from './helpers.js'

const AGGS = {
  n: 'count()',
  n_amount: 'count(amount)',
  revenue: 'sum(amount)',
  avg_amount: 'avg(amount)',
  min_amount: 'min(amount)',
  max_amount: 'max(amount)',
  min_tag: 'min(tag)',
  max_tag: 'max(tag)',
  first_user: 'first(user)',
  last_user: 'last(user)',
  users: 'count_distinct(user)',
  approx_users: 'approx_count_distinct(user)',
  p50: 'p50(latency_ms)',
  p90: 'p90(latency_ms)',
  p99: 'p99(latency_ms)',
  p75: 'percentile(latency_ms, 0.75)',
  some_users: 'collect(user, 5)',
}

const GROUP = ['country']

/** Rows must come out ordered by window_start. */
function assertOrdered(rows: Record<string, unknown>[]): void {
  for (let i = 1; i < rows.length; i++) {
    assert.ok(String(rows[i - 1]!.window_start) <= String(rows[i]!.window_start), `row ${i} is out of window order`)
  }
}

describe('aggregate windows against a reference', () => {
  it('tumbling: every aggregation, out-of-order input within the lateness', async () => {
    const records = randomRecords(1, 3000, 10 * MIN, 20_000)
    const d = new Driver(await build({ group_by: GROUP, window: { type: 'tumbling', size: '1m' }, time_field: 'ts', allowed_lateness: '30s', aggregations: AGGS }))
    feedAll(d, records)
    const beforeFlush = d.rows.length
    assert.ok(beforeFlush > 0, 'windows are emitted as the watermark passes them, before the end')
    d.flush()
    assert.equal(d.rejected.length, 0)
    assertMatchesReference(d.rows, reference(records, { type: 'tumbling', size: MIN }, GROUP, AGGS), GROUP, AGGS)
    assertOrdered(d.rows)
  })

  it('tumbling: rows of one window come in order of first appearance of their group', async () => {
    const d = new Driver(await build({ group_by: ['k'], window: { type: 'tumbling', size: '1m' }, time_field: 'ts', aggregations: { n: 'count()' } }))
    d.feed([
      { ts: iso(T0 + 1000), k: 'b' },
      { ts: iso(T0 + 61_000), k: 'z' },
      { ts: iso(T0 + 2000), k: 'a' },
      { ts: iso(T0 + 3000), k: 'b' },
      { ts: iso(T0 + 4000), k: 'c' },
    ])
    d.flush()
    assert.deepEqual(
      d.rows.map((r) => [r.window_start, r.k, r.n]),
      [
        [iso(T0), 'b', 2],
        [iso(T0), 'a', 1],
        [iso(T0), 'c', 1],
        [iso(T0 + MIN), 'z', 1],
      ],
    )
  })

  it('hopping: a record counts in size/slide windows', async () => {
    const records = randomRecords(2, 2000, 10 * MIN, 10_000)
    const d = new Driver(await build({ group_by: GROUP, window: { type: 'hopping', size: '5m', slide: '1m' }, time_field: 'ts', allowed_lateness: '15s', aggregations: AGGS }))
    feedAll(d, records)
    d.flush()
    assert.equal(d.rejected.length, 0)
    assertMatchesReference(d.rows, reference(records, { type: 'hopping', size: 5 * MIN, slide: MIN }, GROUP, AGGS), GROUP, AGGS)
    assertOrdered(d.rows)
  })

  it('hopping: one record lands in exactly size/slide windows, and a slide that does not divide the size works', async () => {
    const d = new Driver(await build({ window: { type: 'hopping', size: '10s', slide: '3s' }, time_field: 'ts', aggregations: { n: 'count()' } }))
    d.feed([{ ts: iso(T0 + 9_500) }, { ts: iso(T0 + 17_000) }])
    d.flush()
    const rows = d.rows
    // Windows of 10 s starting every 3 s (from the epoch) that contain 9.5 s: starts 0, 3, 6, 9 s;
    // that contain 17 s: starts 9, 12, 15 s.
    assert.deepEqual(
      rows.map((r) => [r.window_start, r.window_end, r.n]),
      [[0, 1], [3_000, 1], [6_000, 1], [9_000, 2], [12_000, 1], [15_000, 1]].map(([s, n]) => [iso(T0 + s!), iso(T0 + s! + 10_000), n]),
    )
  })

  it('session: sessions per group, against the reference', async () => {
    // Sparse activity: 600 records over 3 hours, 5 countries, gaps of a few minutes.
    const records = randomRecords(3, 600, 180 * MIN, 60_000)
    const d = new Driver(await build({ group_by: GROUP, window: { type: 'session', gap: '4m' }, time_field: 'ts', allowed_lateness: '2m', aggregations: AGGS }))
    feedAll(d, records, 13)
    assert.ok(d.rows.length > 0, 'sessions close before the end')
    // Sessions close in the order of their ends; the rows of one call are ordered by start.
    assertOrdered(d.flush())
    assert.equal(d.rejected.length, 0)
    // Merged sessions add their sums in another order: compare those within rounding.
    assertMatchesReference(d.rows, reference(records, { type: 'session', gap: 4 * MIN }, GROUP, AGGS), GROUP, AGGS, { sumTolerance: 1e-9 })
  })

  it('session: a record that bridges two sessions merges them', async () => {
    const d = new Driver(
      await build({
        group_by: ['user'],
        window: { type: 'session', gap: '10m' },
        time_field: 'ts',
        allowed_lateness: '1h',
        aggregations: { clicks: 'count()', pages: 'collect(page)', entry: 'first(page)', exit: 'last(page)', total: 'sum(v)' },
      }),
    )
    d.feed([
      { ts: iso(T0), user: 'ann', page: 'home', v: 1 },
      { ts: iso(T0 + 5 * MIN), user: 'ann', page: 'search', v: 2 },
      { ts: iso(T0 + 20 * MIN), user: 'ann', page: 'cart', v: 3 },
      { ts: iso(T0 + 1 * MIN), user: 'bob', page: 'home', v: 10 },
    ])
    assert.equal(d.t.stateSize!().keys, 3, 'ann has two sessions, bob one')
    // 12 min: within 10 min of both 5 min and 20 min: the two sessions of ann become one.
    d.feed([{ ts: iso(T0 + 12 * MIN), user: 'ann', page: 'product', v: 4 }])
    assert.equal(d.t.stateSize!().keys, 2)
    const rows = d.flush()
    assert.deepEqual(rows, [
      {
        window_start: iso(T0),
        window_end: iso(T0 + 30 * MIN),
        user: 'ann',
        clicks: 4,
        pages: ['home', 'search', 'cart', 'product'],
        entry: 'home',
        exit: 'cart',
        total: 10,
      },
      { window_start: iso(T0 + MIN), window_end: iso(T0 + 11 * MIN), user: 'bob', clicks: 1, pages: ['home'], entry: 'home', exit: 'home', total: 10 },
    ])
  })

  it('session: a session closes when the watermark passes its last event + gap', async () => {
    const d = new Driver(await build({ group_by: ['user'], window: { type: 'session', gap: '10m' }, time_field: 'ts', aggregations: { n: 'count()' } }))
    d.feed([{ ts: iso(T0), user: 'a' }, { ts: iso(T0 + 4 * MIN), user: 'a' }])
    assert.deepEqual(d.feed([{ ts: iso(T0 + 13 * MIN), user: 'b' }]), [], 'a is open until 14 min')
    assert.deepEqual(d.feed([{ ts: iso(T0 + 14 * MIN), user: 'b' }]), [{ window_start: iso(T0), window_end: iso(T0 + 14 * MIN), user: 'a', n: 2 }])
  })

  it('global: the whole input, emitted at flush only, rows without window fields', async () => {
    const records = randomRecords(4, 2000, 60 * MIN, 0)
    const d = new Driver(await build({ group_by: GROUP, window: { type: 'global' }, time_field: 'ts', aggregations: AGGS }))
    feedAll(d, records)
    d.tick(T0 + 1e9)
    assert.equal(d.rows.length, 0, 'nothing before the end of input')
    d.flush()
    assert.equal(d.rejected.length, 0)
    assert.equal(d.rows[0]!.window_start, undefined)
    assertMatchesReference(d.rows, reference(records, { type: 'global' }, GROUP, AGGS), GROUP, AGGS)
  })

  it('global without time_field or group_by: one row', async () => {
    const d = new Driver(await build({ window: { type: 'global' }, aggregations: { n: 'count()', total: 'sum(x)', none: 'avg(missing)', p: 'p50(missing)', s: 'sum(missing)', c: 'collect(missing)', u: 'count_distinct(missing)' } }))
    d.feed([{ x: 1 }, { x: 2 }], 'a', 5)
    d.feed([{ x: 3 }], 'b', 6)
    assert.deepEqual(d.flush(), [{ n: 3, total: 6, none: null, p: null, s: null, c: [], u: 0 }])
  })

  it('several group_by fields, with values of different types kept apart', async () => {
    const d = new Driver(await build({ group_by: ['a', 'b'], window: { type: 'global' }, aggregations: { n: 'count()' } }))
    d.feed([
      { a: 1, b: 'x' },
      { a: '1', b: 'x' },
      { a: 1, b: 'x' },
      { a: null, b: 'x' },
      { b: 'x' },
      { a: 'p\u0000q', b: 'r' },
      { a: 'p', b: 'q\u0000r' },
      { a: { k: 1 }, b: true },
    ])
    assert.deepEqual(d.flush(), [
      { a: 1, b: 'x', n: 2 },
      { a: '1', b: 'x', n: 1 },
      { a: null, b: 'x', n: 2 },
      { a: 'p\u0000q', b: 'r', n: 1 },
      { a: 'p', b: 'q\u0000r', n: 1 },
      { a: { k: 1 }, b: true, n: 1 },
    ])
  })

  it('CEL expressions as arguments, and records with wrong types are dead-lettered untouched', async () => {
    const d = new Driver(
      await build({ window: { type: 'global' }, aggregations: { n: 'count()', revenue: 'sum(price * quantity)', big: 'count_distinct(price > 10.0)', top: 'max(price)' } }),
    )
    d.feed([{ price: 12.5, quantity: 2 }, { price: 3.0, quantity: 1 }, { price: '7', quantity: 1 }, { price: 2.0 }, { price: true, quantity: 1 }])
    assert.deepEqual(
      d.rejected.map((r) => [r.index, r.code]),
      [
        [2, 'SLC_RECORD_TRANSFORM'],
        [3, 'SLC_RECORD_TRANSFORM'],
        [4, 'SLC_RECORD_TRANSFORM'],
      ],
    )
    assert.match(d.rejected[1]!.message, /aggregate "agg": aggregations\.revenue failed: .*quantity/)
    assert.deepEqual(d.flush(), [{ n: 2, revenue: 28, big: 2, top: 12.5 }])
  })

  it('a plain-field sum rejects a non-number with a clear message and leaves the state untouched', async () => {
    const d = new Driver(await build({ window: { type: 'global' }, aggregations: { n: 'count()', total: 'sum(amount)' } }))
    d.feed([{ amount: 1 }, { amount: '12.5' }, { amount: NaN }, { amount: 2 }])
    assert.deepEqual(d.rejected.map((r) => r.index), [1, 2])
    assert.equal(d.rejected[0]!.message, 'aggregate "agg": sum(amount) needs a finite number, found "12.5" (a string) (convert it with a map cast first)')
    assert.deepEqual(d.flush(), [{ n: 2, total: 3 }])
  })

  it('processing time when there is no time_field: windows close as the clock ticks', async () => {
    const d = new Driver(await build({ group_by: ['k'], window: { type: 'tumbling', size: '10s' }, aggregations: { n: 'count()' } }))
    d.feed([{ k: 'a' }, { k: 'b' }], 'p', T0 + 1000)
    d.feed([{ k: 'a' }], 'p', T0 + 9000)
    assert.deepEqual(d.tick(T0 + 9999), [])
    assert.deepEqual(d.tick(T0 + 10_000), [
      { window_start: iso(T0), window_end: iso(T0 + 10_000), k: 'a', n: 2 },
      { window_start: iso(T0), window_end: iso(T0 + 10_000), k: 'b', n: 1 },
    ])
    d.feed([{ k: 'a' }], 'p', T0 + 12_000)
    assert.deepEqual(d.flush(), [{ window_start: iso(T0 + 10_000), window_end: iso(T0 + 20_000), k: 'a', n: 1 }])
  })

  it('event times as epoch seconds, epoch milliseconds, numeric strings and ISO with offsets', async () => {
    const d = new Driver(await build({ window: { type: 'tumbling', size: '1h' }, time_field: 't', aggregations: { n: 'count()' } }))
    const s = T0 / 1000
    d.feed([{ t: s + 10 }, { t: T0 + 20_000 }, { t: String(s + 30) }, { t: '2024-01-01T01:00:40+01:00' }, { t: '2024-01-01 00:00:50' }, { t: '2024-01-01T00:00:01.123456Z' }, { t: 'yesterday' }, {}, { t: '2024-02-30T00:00:00Z' }])
    assert.deepEqual(d.rejected.map((r) => r.index), [6, 7, 8])
    assert.match(d.rejected[0]!.message, /time_field "t" is not a time: "yesterday"/)
    assert.match(d.rejected[1]!.message, /time_field "t" is missing/)
    assert.deepEqual(d.flush(), [{ window_start: iso(T0), window_end: iso(T0 + 3_600_000), n: 6 }])
  })

  it('time_format epoch_ms and iso are strict', async () => {
    const ms = new Driver(await build({ window: { type: 'global' }, time_field: 't', time_format: 'epoch_ms', aggregations: { first: 'first(v)' } }))
    ms.feed([{ t: 5, v: 'late' }, { t: 3, v: 'early' }, { t: '2024-01-01T00:00:00Z', v: 'x' }])
    assert.deepEqual(ms.rejected.map((r) => r.index), [2])
    assert.deepEqual(ms.flush(), [{ first: 'early' }])
    const isoOnly = new Driver(await build({ window: { type: 'global' }, time_field: 't', time_format: 'iso', aggregations: { n: 'count()' } }))
    isoOnly.feed([{ t: 5 }, { t: '2024-01-01T00:00:00Z' }])
    assert.deepEqual(isoOnly.rejected.map((r) => r.index), [0])
  })
})
