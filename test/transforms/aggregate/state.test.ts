// Snapshots (JSON round trip mid-stream gives the same output as an uninterrupted run) and the
// state bounds with each on_limit policy.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Rec } from '../../../src/core/batch.js'
import { build, Driver, iso, MIN, randomRecords, T0 } from './helpers.js'

const ALL = {
  n: 'count()',
  revenue: 'sum(amount)',
  avg_amount: 'avg(amount)',
  lo: 'min(tag)',
  hi: 'max(amount)',
  first_user: 'first(user)',
  last_user: 'last(user)',
  users: 'count_distinct(user)',
  approx_users: 'approx_count_distinct(user)',
  p50: 'p50(latency_ms)',
  p99: 'percentile(latency_ms, 0.99)',
  some: 'collect(user, 3)',
}

const WINDOWS: Record<string, Record<string, unknown>> = {
  tumbling: { type: 'tumbling', size: '1m' },
  hopping: { type: 'hopping', size: '1m', slide: '30s' },
  session: { type: 'session', gap: '20s' },
  global: { type: 'global' },
}

/** Run `records` through in batches over two partitions; snapshot + restore into a fresh instance at `cut`. */
async function run(options: Record<string, unknown>, records: Rec[], cut?: number): Promise<{ rows: Rec[]; rejected: number[] }> {
  let d = new Driver(await build(options))
  const rows: Rec[] = []
  const rejected: number[] = []
  const batch = 50
  for (let i = 0, b = 0; i < records.length; i += batch, b++) {
    if (cut !== undefined && i === cut) {
      rows.push(...d.rows)
      rejected.push(...d.rejected.map((r) => r.record.seq as number))
      const text = JSON.stringify(d.t.snapshot())
      d = new Driver(await build(options))
      d.t.restore(JSON.parse(text))
    }
    d.feed(records.slice(i, i + batch), b % 2 === 0 ? 'even' : 'odd', b * 1000)
    if (b % 7 === 0) d.tick(b * 1000 + 500)
  }
  d.end('even')
  d.flush()
  rows.push(...d.rows)
  rejected.push(...d.rejected.map((r) => r.record.seq as number))
  return { rows, rejected }
}

describe('aggregate snapshots', () => {
  for (const [name, window] of Object.entries(WINDOWS)) {
    for (const late of ['dead_letter', 'update']) {
      it(`${name}, late: ${late}: snapshot → JSON → restore mid-stream gives the output of an uninterrupted run`, async () => {
        // Enough disorder for some late records, so the late paths are in the state too.
        const records = randomRecords(10, 1500, 12 * MIN, 120_000).map((r, seq) => ({ ...r, seq }))
        const options = { group_by: ['country'], window, time_field: 'ts', allowed_lateness: '10s', late, aggregations: ALL }
        const whole = await run(options, records)
        assert.ok(whole.rows.length > 0)
        if (name !== 'global' && late === 'dead_letter') assert.ok(whole.rejected.length > 0, 'the input has late records')
        if (name !== 'global' && late === 'update') {
          const keys = whole.rows.map((r) => `${r.window_start}|${r.country}`)
          assert.ok(new Set(keys).size < keys.length, 'some rows were corrected')
        }
        for (const cut of [500, 1000]) {
          const resumed = await run(options, records, cut)
          assert.deepEqual(resumed.rows, whole.rows, `cut at ${cut}`)
          assert.deepEqual(resumed.rejected, whole.rejected, `cut at ${cut}`)
        }
      })
    }
  }

  it('the snapshot is plain JSON, and keeps null group values, evicted keys and the watermark', async () => {
    const options = { group_by: ['k'], window: { type: 'tumbling', size: '1m' }, time_field: 'ts', max_keys: 3, aggregations: { n: 'count()' } }
    const a = new Driver(await build(options))
    a.feed([{ ts: iso(T0), k: null }, { ts: iso(T0), k: 1 }, { ts: iso(T0), k: '1' }, { ts: iso(T0), k: 'x' }])
    assert.deepEqual(a.rows.map((r) => r.k), [null, 1], 'down to 2 entries: the first two emitted early')
    const snap = JSON.parse(JSON.stringify(a.t.snapshot()))
    const b = new Driver(await build(options))
    b.t.restore(snap)
    assert.deepEqual(b.t.stateSize!(), a.t.stateSize!())
    for (const d of [a, b]) {
      d.feed([{ ts: iso(T0 + 1), k: null }, { ts: iso(T0 + 2), k: '1' }])
      d.flush()
    }
    assert.deepEqual(b.rows, a.rows.slice(2))
    assert.deepEqual(b.rows.map((r) => [r.k, r.n]), [['1', 2], ['x', 1]])
    assert.deepEqual(b.rejected.map((r) => r.index), [0])
    assert.deepEqual(a.rejected.map((r) => r.index), [0])
  })

  it('restore refuses a snapshot of a different configuration', async () => {
    const a = await build({ window: { type: 'global' }, aggregations: { n: 'count()' } })
    const b = await build({ window: { type: 'global' }, aggregations: { n: 'count()', s: 'sum(x)' } })
    assert.throws(() => b.restore(a.snapshot()), /cannot restore state saved with a different window, group_by or aggregations/)
    assert.throws(() => b.restore({ v: 99 }), /unknown snapshot format/)
  })
})

describe('aggregate state bounds', () => {
  const recs = (keys: string[], sec = 0) => keys.map((k) => ({ ts: iso(T0 + sec * 1000), k }))
  const opts = (extra: Record<string, unknown>) => ({ group_by: ['k'], window: { type: 'tumbling', size: '1m' }, time_field: 'ts', aggregations: { n: 'count()' }, ...extra })

  it('stateSize counts (window, group) entries and estimated bytes', async () => {
    const d = new Driver(await build(opts({ window: { type: 'hopping', size: '3m', slide: '1m' } })))
    d.feed(recs(['a', 'b'], 150))
    const size = d.t.stateSize!()
    assert.equal(size.keys, 6, 'two groups in three windows')
    assert.ok(size.bytes > 6 * 100 && size.bytes < 6 * 1000, `${size.bytes} bytes`)
  })

  it('emit_early: the oldest windows are emitted early, down to 90% of max_keys; later records for them are late', async () => {
    const d = new Driver(await build(opts({ max_keys: 10, allowed_lateness: '1h' })))
    d.feed(recs(['a', 'b', 'c', 'd'], 0))
    d.feed(recs(['a', 'b', 'c', 'd'], 60))
    assert.equal(d.rows.length, 0)
    // 11 entries > 10: entries of the oldest window go first, in order of first appearance, until 9 are left.
    d.feed(recs(['a', 'b', 'c'], 120))
    assert.deepEqual(
      d.rows.map((r) => [r.window_start, r.k, r.n]),
      [
        [iso(T0), 'a', 1],
        [iso(T0), 'b', 1],
      ],
    )
    assert.equal(d.t.stateSize!().keys, 9)
    // a was emitted early: late. c is still held: counted.
    d.feed(recs(['a', 'c'], 5))
    assert.deepEqual(d.rejected.map((r) => r.index), [0])
    assert.match(d.rejected[0]!.message, /was emitted early because the state bound was reached/)
    d.flush()
    assert.deepEqual(
      d.rows.slice(2).map((r) => [r.window_start, r.k, r.n]),
      [
        [iso(T0), 'c', 2],
        [iso(T0), 'd', 1],
        ...['a', 'b', 'c', 'd'].map((k) => [iso(T0 + MIN), k, 1]),
        ...['a', 'b', 'c'].map((k) => [iso(T0 + 2 * MIN), k, 1]),
      ],
    )
  })

  it('emit_early: a window emitted early as a whole makes later records for it late', async () => {
    const d = new Driver(await build(opts({ max_keys: 2, allowed_lateness: '1h' })))
    d.feed(recs(['a'], 0))
    d.feed(recs(['b'], 60))
    d.feed(recs(['c'], 120)) // 3 > 2: down to 1 entry: windows 0 and 60 emitted
    assert.deepEqual(d.rows.map((r) => r.k), ['a', 'b'])
    d.feed(recs(['new'], 10))
    assert.equal(d.rejected.length, 1)
    assert.match(d.rejected[0]!.message, /emitted early because the state bound was reached/)
  })

  it('emit_early on max_state_bytes, for a global window and for sessions', async () => {
    const g = new Driver(await build({ group_by: ['k'], window: { type: 'global' }, aggregations: { n: 'count()' }, max_state_bytes: '2KiB' }))
    const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`)
    g.feed(keys.map((k) => ({ k })))
    assert.ok(g.rows.length > 0, 'some groups emitted early')
    assert.ok(g.t.stateSize!().bytes <= 2048)
    const early = g.rows.map((r) => r.k)
    assert.deepEqual(early, keys.slice(0, early.length), 'oldest groups first')
    g.feed([{ k: 'key-0' }])
    assert.equal(g.rejected.length, 1, 'a group emitted early is closed')
    g.flush()
    assert.deepEqual(g.rows.map((r) => r.k).sort(), keys.slice().sort())

    const s = new Driver(await build({ group_by: ['k'], window: { type: 'session', gap: '1m' }, time_field: 'ts', aggregations: { n: 'count()' }, max_keys: 4 }))
    s.feed(['a', 'b', 'c', 'd', 'e'].map((k, i) => ({ k, ts: iso(T0 + i * 1000) })))
    assert.deepEqual(s.rows.map((r) => r.k), ['a', 'b'], 'the oldest sessions emitted early, down to 3')
    assert.equal(s.t.stateSize!().keys, 3)
  })

  it('dead_letter: a record that would start a new entry is rejected; existing entries keep counting', async () => {
    const d = new Driver(await build(opts({ max_keys: 3, on_limit: 'dead_letter' })))
    d.feed(recs(['a', 'b', 'c', 'd', 'a']))
    assert.deepEqual(d.rejected.map((r) => r.index), [3])
    assert.equal(d.rejected[0]!.code, 'SLC_RECORD_TRANSFORM')
    assert.match(d.rejected[0]!.message, /^aggregate "agg": state limit reached: 3 \(window, group\) entries \(max_keys 3\)/)
    d.flush()
    assert.deepEqual(d.rows.map((r) => [r.k, r.n]), [['a', 2], ['b', 1], ['c', 1]])
  })

  it('dead_letter with hopping windows rejects the record before touching any window', async () => {
    const d = new Driver(await build(opts({ window: { type: 'hopping', size: '3m', slide: '1m' }, max_keys: 4, on_limit: 'dead_letter' })))
    d.feed(recs(['a'], 150)) // 3 entries
    d.feed(recs(['b'], 150)) // would need 3 more
    assert.equal(d.rejected.length, 1)
    assert.equal(d.t.stateSize!().keys, 3)
  })

  it('dead_letter on max_state_bytes', async () => {
    const d = new Driver(await build({ group_by: ['k'], window: { type: 'global' }, aggregations: { u: 'count_distinct(v)' }, max_state_bytes: '1KiB', on_limit: 'dead_letter' }))
    d.feed(Array.from({ length: 50 }, (_, i) => ({ k: 'a', v: i })))
    d.feed([{ k: 'a', v: 1000 }, { k: 'b', v: 1 }])
    assert.deepEqual(d.rejected.map((r) => r.index), [1], 'a new group is refused; the existing one still grows')
    assert.deepEqual(d.flush(), [{ k: 'a', u: 51 }])
  })

  it('fail: process throws "aggregate <id>: state limit reached"', async () => {
    const d = new Driver(await build(opts({ max_keys: 2, on_limit: 'fail' }), 'per_country'))
    d.feed(recs(['a', 'b']))
    assert.throws(() => d.feed(recs(['c'])), (e: unknown) => e instanceof Error && e.message.startsWith('aggregate "per_country": state limit reached') && /on_limit is "fail"/.test(e.message))
  })
})

describe('aggregate across runs after the end of input', () => {
  const S = 1000
  const rec = (sec: number, k = 'a') => ({ ts: iso(T0 + sec * S), k })
  /** The snapshot a run saves after its input ended, restored into a fresh instance. */
  async function nextRun(d: Driver, options: Record<string, unknown>): Promise<Driver> {
    const text = JSON.stringify(d.t.snapshot())
    const next = new Driver(await build(options))
    next.t.restore(JSON.parse(text))
    return next
  }

  it('tumbling: more input goes on from the watermark; a window emitted at the end takes no partial update', async () => {
    const options = { group_by: ['k'], window: { type: 'tumbling', size: '1m' }, time_field: 'ts', aggregations: { n: 'count()' } }
    const first = new Driver(await build(options))
    first.feed([rec(10), rec(70), rec(75, 'b')], 'f')
    first.end('f')
    first.flush()
    assert.deepEqual(first.rows.map((r) => [r.window_start, r.k, r.n]), [[iso(T0), 'a', 1], [iso(T0 + MIN), 'a', 1], [iso(T0 + MIN), 'b', 1]])
    const second = await nextRun(first, options)
    second.feed([rec(80), rec(190), rec(200, 'b')], 'f')
    second.end('f')
    second.flush()
    assert.deepEqual(second.rows.map((r) => [r.window_start, r.k, r.n]), [[iso(T0 + 3 * MIN), 'a', 1], [iso(T0 + 3 * MIN), 'b', 1]])
    assert.equal(second.rejected.length, 1, 'the record for the window emitted at the end of the first run is late')
    assert.match(second.rejected[0]!.message, /already emitted/)
  })

  it('tumbling, late: update: a record for a window emitted at the end re-emits it corrected', async () => {
    const options = { group_by: ['k'], window: { type: 'tumbling', size: '1m' }, time_field: 'ts', late: 'update', aggregations: { n: 'count()' } }
    const first = new Driver(await build(options))
    first.feed([rec(10), rec(70)], 'f')
    first.end('f')
    first.flush()
    const second = await nextRun(first, options)
    second.feed([rec(80)], 'f')
    second.end('f')
    second.flush()
    assert.deepEqual(second.rows.map((r) => [r.window_start, r.k, r.n]), [[iso(T0 + MIN), 'a', 2]])
  })

  it('global: the next run emits totals over all the input, not the new part alone', async () => {
    const options = { group_by: ['k'], window: { type: 'global' }, aggregations: { n: 'count()' } }
    const first = new Driver(await build(options))
    first.feed([{ k: 'a' }, { k: 'a' }, { k: 'b' }])
    first.flush()
    assert.deepEqual(first.rows, [{ k: 'a', n: 2 }, { k: 'b', n: 1 }])
    const second = await nextRun(first, options)
    second.feed([{ k: 'a' }, { k: 'c' }])
    second.flush()
    assert.deepEqual(second.rows, [{ k: 'a', n: 3 }, { k: 'b', n: 1 }, { k: 'c', n: 1 }])
    assert.equal(second.rejected.length, 0)
  })

  it('a snapshot saved at the end of input by an earlier version (state cleared, watermark +∞) still takes new input', async () => {
    const options = { group_by: ['k'], window: { type: 'tumbling', size: '1m' }, time_field: 'ts', aggregations: { n: 'count()' } }
    const first = new Driver(await build(options))
    first.feed([rec(10), rec(70)], 'f')
    first.end('f')
    first.flush()
    const old = { ...(first.t.snapshot() as Record<string, unknown>), wm: 'Infinity', flushed: true, windows: [] }
    const second = new Driver(await build(options))
    second.t.restore(JSON.parse(JSON.stringify(old)))
    second.feed([rec(100), rec(200)], 'f')
    second.end('f')
    second.flush()
    // Window [1m, 2m) may hold emitted records: closed. Window [3m, 4m) is new.
    assert.deepEqual(second.rows.map((r) => [r.window_start, r.n]), [[iso(T0 + 3 * MIN), 1]])
    assert.equal(second.rejected.length, 1)
  })
})
