// Watermarks, lateness, idle and ended partitions, late policies and end of input, driven with
// explicit processing times (no sleeps).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { build, Driver, iso, MIN, T0 } from './helpers.js'

const S = 1000
const rec = (sec: number, k = 'a', v = 1) => ({ ts: iso(T0 + sec * S), k, v })
const tumbling = (extra: Record<string, unknown> = {}) =>
  build({ group_by: ['k'], window: { type: 'tumbling', size: '1m' }, time_field: 'ts', aggregations: { n: 'count()', total: 'sum(v)' }, ...extra })

describe('aggregate watermarks', () => {
  it('a window is emitted once the watermark (max event time - allowed_lateness) reaches its end', async () => {
    const d = new Driver(await tumbling({ allowed_lateness: '10s' }))
    assert.deepEqual(d.feed([rec(10), rec(65)]), [], 'watermark 55 s')
    assert.deepEqual(d.feed([rec(69)]), [], 'watermark 59 s')
    assert.deepEqual(d.feed([rec(70)]), [{ window_start: iso(T0), window_end: iso(T0 + MIN), k: 'a', n: 1, total: 1 }])
  })

  it('out of order within the lateness: counted', async () => {
    const d = new Driver(await tumbling({ allowed_lateness: '10s' }))
    d.feed([rec(10), rec(65)])
    d.feed([rec(50, 'a', 5)]) // 15 s behind the newest, but its window is still open
    assert.equal(d.rejected.length, 0)
    assert.deepEqual(d.feed([rec(75)]), [{ window_start: iso(T0), window_end: iso(T0 + MIN), k: 'a', n: 2, total: 6 }])
  })

  it('beyond the lateness with late: dead_letter: rejected with its time, window and the watermark', async () => {
    const d = new Driver(await tumbling({ allowed_lateness: '10s' }))
    d.feed([rec(10), rec(75)]) // window [0, 60) emitted, watermark 65 s
    d.feed([rec(30, 'a', 100), rec(61)])
    assert.equal(d.rejected.length, 1)
    assert.equal(d.rejected[0]!.index, 0)
    assert.equal(d.rejected[0]!.code, 'SLC_RECORD_TRANSFORM')
    assert.equal(
      d.rejected[0]!.message,
      `aggregate "agg": late record: event time ${iso(T0 + 30 * S)} falls in window [${iso(T0)}, ${iso(T0 + MIN)}), ` +
        `but that window was already emitted (watermark ${iso(T0 + 65 * S)}, allowed_lateness 10000 ms)`,
    )
    d.flush()
    assert.deepEqual(d.rows.map((r) => r.total), [1, 2])
  })

  it('a window that never existed but is behind the watermark is late too', async () => {
    const d = new Driver(await tumbling())
    d.feed([rec(200)])
    d.feed([rec(10, 'new')])
    assert.equal(d.rejected.length, 1)
  })

  it('late: update re-emits the corrected row of an emitted window, within late_retention', async () => {
    const d = new Driver(await tumbling({ late: 'update', late_retention: '2m' }))
    assert.deepEqual(d.feed([rec(10), rec(20, 'b'), rec(70)]), [
      { window_start: iso(T0), window_end: iso(T0 + MIN), k: 'a', n: 1, total: 1 },
      { window_start: iso(T0), window_end: iso(T0 + MIN), k: 'b', n: 1, total: 1 },
    ])
    // Two late records for group a and a new group c in the emitted window: one corrected row each.
    assert.deepEqual(d.feed([rec(30, 'a', 10), rec(40, 'a', 100), rec(50, 'c', 7)]), [
      { window_start: iso(T0), window_end: iso(T0 + MIN), k: 'a', n: 3, total: 111 },
      { window_start: iso(T0), window_end: iso(T0 + MIN), k: 'c', n: 1, total: 7 },
    ])
    assert.equal(d.rejected.length, 0)
    // Watermark 180 s: window [0, 60) is past 60 s + 2 m: its state is gone, a late record is rejected.
    d.feed([rec(180)])
    d.feed([rec(59, 'a', 1000)])
    assert.equal(d.rejected.length, 1)
    assert.match(d.rejected[0]!.message, /that window was emitted and is older than late_retention \(120000 ms\)/)
    // A late record for a window that had no entry yet, but is within retention, emits a new row.
    assert.deepEqual(d.feed([rec(150, 'z')]), [{ window_start: iso(T0 + 2 * MIN), window_end: iso(T0 + 3 * MIN), k: 'z', n: 1, total: 1 }])
  })

  it('late: update with hopping windows corrects every emitted window the record falls in', async () => {
    const d = new Driver(await build({ window: { type: 'hopping', size: '2m', slide: '1m' }, time_field: 'ts', late: 'update', aggregations: { n: 'count()' } }))
    d.feed([rec(90)])
    d.feed([rec(200)]) // windows ending at 120 s and 180 s emitted
    assert.deepEqual(d.feed([rec(100)]), [
      { window_start: iso(T0), window_end: iso(T0 + 2 * MIN), n: 2 },
      { window_start: iso(T0 + MIN), window_end: iso(T0 + 3 * MIN), n: 2 },
    ])
  })

  it('hopping with late: dead_letter: a record late for some windows still counts in the open ones', async () => {
    const d = new Driver(await build({ window: { type: 'hopping', size: '2m', slide: '1m' }, time_field: 'ts', aggregations: { n: 'count()' } }))
    d.feed([rec(10), rec(130)]) // watermark 130 s: [-60, 60) and [0, 120) emitted
    d.feed([rec(110)]) // [0, 120) is closed, [60, 180) open
    d.feed([rec(50)]) // [-60, 60) and [0, 120) both closed: rejected
    assert.deepEqual(d.rejected.map((r) => r.index), [0])
    assert.deepEqual(d.rejected.length, 1)
    d.flush()
    assert.deepEqual(
      d.rows.map((r) => [r.window_start, r.n]),
      [
        [iso(T0 - MIN), 1],
        [iso(T0), 1],
        [iso(T0 + MIN), 2],
        [iso(T0 + 2 * MIN), 1],
      ],
    )
  })

  it('the slowest of two partitions holds the watermark back; partitionEnded releases it', async () => {
    const d = new Driver(await tumbling())
    d.feed([rec(10)], 'a.csv')
    d.feed([rec(200)], 'b.csv')
    assert.equal(d.rows.length, 0, 'a.csv is at 10 s')
    d.feed([rec(70)], 'a.csv')
    assert.deepEqual(d.rows.map((r) => r.window_start), [iso(T0)], 'both past 60 s now')
    // a.csv ends: only b.csv (200 s) counts.
    assert.deepEqual(d.end('a.csv').map((r) => r.window_start), [iso(T0 + MIN)])
  })

  it('when every partition has ended, the newest event time of all counts', async () => {
    const d = new Driver(await tumbling())
    d.feed([rec(10)], 'a')
    d.feed([rec(130)], 'b')
    d.end('b')
    assert.equal(d.rows.length, 0, 'a is still active at 10 s')
    d.end('a')
    assert.deepEqual(d.rows.map((r) => r.window_start), [iso(T0)], 'watermark 130 s: [120 s, 180 s) stays open')
  })

  it('an idle partition stops holding the watermark back after idle_timeout (via tick)', async () => {
    const d = new Driver(await tumbling({ idle_timeout: '30s' }))
    const t = 1_000_000 // processing clock, unrelated to event time
    d.feed([rec(10)], 'quiet', t)
    d.feed([rec(100)], 'busy', t)
    assert.deepEqual(d.tick(t + 29_999), [], 'quiet is not idle yet')
    assert.deepEqual(d.tick(t + 30_000).map((r) => r.window_start), [iso(T0)], 'quiet is idle: watermark = busy = 100 s')
    // quiet wakes up: its old records are now late (the watermark never goes back)...
    d.feed([rec(20)], 'quiet', t + 31_000)
    assert.equal(d.rejected.length, 1)
    // ...and it holds the watermark again from its own time.
    d.feed([rec(200)], 'busy', t + 31_000)
    assert.equal(d.rows.length, 1, 'quiet is active again at 20 s')
  })

  it('idle is measured by the processing time of process() calls too', async () => {
    const d = new Driver(await tumbling({ idle_timeout: '5s' }))
    d.feed([rec(10)], 'quiet', 0)
    d.feed([rec(100)], 'busy', 4_000)
    assert.equal(d.rows.length, 0)
    d.feed([rec(101)], 'busy', 5_000)
    assert.equal(d.rows.length, 1)
  })

  it('idle_timeout 0ms never marks a partition idle', async () => {
    const d = new Driver(await tumbling({ idle_timeout: '0ms' }))
    d.feed([rec(10)], 'quiet', 0)
    d.feed([rec(100)], 'busy', 0)
    assert.deepEqual(d.tick(1e12), [])
  })

  it('a partition whose records all had bad times holds the watermark until it is idle', async () => {
    const d = new Driver(await tumbling())
    d.feed([{ ts: 'bad' }], 'broken', 0)
    d.feed([rec(10), rec(100)], 'good', 0)
    assert.equal(d.rows.length, 0)
    assert.equal(d.tick(30_000).length, 1)
  })

  it('flush emits everything still open, in window order, and later records are rejected', async () => {
    const d = new Driver(await tumbling({ allowed_lateness: '1h' }))
    d.feed([rec(130, 'x'), rec(10, 'a'), rec(70, 'b'), rec(5, 'c'), rec(75, 'a')])
    assert.equal(d.rows.length, 0)
    assert.deepEqual(
      d.flush().map((r) => [r.window_start, r.k, r.n]),
      [
        [iso(T0), 'a', 1],
        [iso(T0), 'c', 1],
        [iso(T0 + MIN), 'b', 1],
        [iso(T0 + MIN), 'a', 1],
        [iso(T0 + 2 * MIN), 'x', 1],
      ],
    )
    assert.equal(d.t.stateSize!().keys, 5, 'the emitted windows stay in the state for a later run')
    d.feed([rec(500)])
    assert.match(d.rejected[0]!.message, /arrived after the end of input/)
    assert.deepEqual(d.flush(), [])
  })

  it('late session records: dead-lettered, or merged and re-emitted with late: update', async () => {
    const opts = { group_by: ['k'], window: { type: 'session', gap: '1m' }, time_field: 'ts', aggregations: { n: 'count()' } }
    const dl = new Driver(await build(opts))
    dl.feed([rec(0), rec(30), rec(300, 'other')])
    assert.deepEqual(dl.rows, [{ window_start: iso(T0), window_end: iso(T0 + 90 * S), k: 'a', n: 2 }])
    dl.feed([rec(40)])
    assert.equal(dl.rejected.length, 1)
    const up = new Driver(await build({ ...opts, late: 'update' }))
    up.feed([rec(0), rec(30), rec(300, 'other')])
    assert.deepEqual(up.feed([rec(40)]), [{ window_start: iso(T0), window_end: iso(T0 + 100 * S), k: 'a', n: 3 }])
    // Within the retention but touching no kept session: a new session row.
    assert.deepEqual(up.feed([rec(200)]), [{ window_start: iso(T0 + 200 * S), window_end: iso(T0 + 260 * S), k: 'a', n: 1 }])
  })
})
