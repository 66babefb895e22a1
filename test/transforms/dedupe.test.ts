// Tests of the `dedupe` transform: LRU, processing-time and event-time modes, the state bound,
// snapshot/restore continuity through JSON, expiry by tick(now), and event-time parsing.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { BuildContext, StatefulInput } from '../../src/component/define.js'
import type { Rec } from '../../src/core/batch.js'
import { RecordError } from '../../src/core/errors.js'
import { silentLogger } from '../../src/observe/log.js'
import { Dedupe, dedupe, parseEventTime } from '../../src/transforms/dedupe.js'

const ctx: BuildContext = { id: 'once', baseDir: process.cwd(), dataDir: '/tmp/sluice-test', log: silentLogger() }

async function build(options: Record<string, unknown>): Promise<Dedupe> {
  const t = await dedupe.build(dedupe.options.parse(options), ctx)
  assert.equal(t.kind, 'stateful')
  assert.ok(t instanceof Dedupe)
  return t
}

/** Runs a batch at processing time `now`; returns the output and the rejected indexes. */
function run(t: Dedupe, records: Rec[], now = 0): { out: Rec[]; rejected: [number, RecordError][] } {
  const rejected: [number, RecordError][] = []
  const input: StatefulInput = { partition: 'test', now, reject: (i, e) => rejected.push([i, e as RecordError]) }
  return { out: t.process(records, input), rejected }
}

/** 2026-01-01T00:00:00Z in ms (epoch numbers below 1e11 are read as seconds). */
const T0 = Date.UTC(2026, 0, 1)
const ids = (out: Rec[]) => out.map((r) => r.id)

describe('dedupe: without a window (LRU)', () => {
  it('keeps the first occurrence, within and across batches', async () => {
    const t = await build({ key: ['id'] })
    assert.deepEqual(ids(run(t, [{ id: 1 }, { id: 2 }, { id: 1 }, { id: 3 }]).out), [1, 2, 3])
    const { out } = run(t, [{ id: 2, v: 'again' }, { id: 4 }])
    assert.deepEqual(out, [{ id: 4 }])
    assert.equal(t.duplicates(), 2)
    assert.deepEqual(t.flush(), [])
  })

  it('passes a record missing a key field (or with null there) unchanged, without remembering it', async () => {
    const t = await build({ key: ['user', 'session'] })
    const a = { user: 'u', n: 1 }
    const { out } = run(t, [a, { user: 'u', n: 2 }, { user: 'u', session: null }, { user: 'u', session: 's' }, { user: 'u', session: 's' }])
    assert.equal(out[0], a)
    assert.deepEqual(out, [{ user: 'u', n: 1 }, { user: 'u', n: 2 }, { user: 'u', session: null }, { user: 'u', session: 's' }])
    assert.equal(t.stateSize().keys, 1)
  })

  it('composite keys compare as text and do not run into each other', async () => {
    const t = await build({ key: ['a', 'b'] })
    const { out } = run(t, [
      { a: 1, b: 2 },
      { a: '1', b: '2' }, // same as text
      { a: '12', b: '' },
      { a: '1', b: '2x' },
      { a: { x: 1 }, b: [1] },
      { a: { x: 1 }, b: [1] },
    ])
    assert.deepEqual(out, [{ a: 1, b: 2 }, { a: '12', b: '' }, { a: '1', b: '2x' }, { a: { x: 1 }, b: [1] }])
  })

  it('holds at most max_keys keys, forgetting the least recently seen', async () => {
    const t = await build({ key: ['id'], max_keys: 3 })
    run(t, [{ id: 1 }, { id: 2 }, { id: 3 }])
    run(t, [{ id: 1 }]) // a duplicate: 1 is now the most recently seen
    run(t, [{ id: 4 }]) // forgets 2
    assert.equal(t.stateSize().keys, 3)
    assert.equal(t.evicted(), 1)
    assert.deepEqual(ids(run(t, [{ id: 1 }, { id: 3 }, { id: 4 }, { id: 2 }]).out), [2])
    assert.ok(t.stateSize().bytes > 0)
  })

  it('stays bounded over many keys', async () => {
    const t = await build({ key: ['id'], max_keys: 1000 })
    for (let b = 0; b < 50; b++) run(t, Array.from({ length: 1000 }, (_, i) => ({ id: b * 1000 + i })))
    assert.equal(t.stateSize().keys, 1000)
    assert.equal(t.evicted(), 49_000)
  })
})

describe('dedupe: processing time', () => {
  it('drops a key seen less than `within` ago; a duplicate does not extend the window', async () => {
    const t = await build({ key: ['id'], within: '1m' })
    assert.deepEqual(ids(run(t, [{ id: 'a' }], 0).out), ['a'])
    assert.deepEqual(ids(run(t, [{ id: 'a' }, { id: 'b' }], 30_000).out), ['b'])
    assert.deepEqual(ids(run(t, [{ id: 'a' }, { id: 'b' }], 59_999).out), [])
    assert.deepEqual(ids(run(t, [{ id: 'a' }, { id: 'b' }], 60_000).out), ['a'], 'a window starts at the kept record')
    assert.deepEqual(ids(run(t, [{ id: 'b' }], 90_000).out), ['b'])
    assert.equal(t.duplicates(), 4)
  })

  it('tick(now) forgets expired keys', async () => {
    const t = await build({ key: ['id'], within: '10s' })
    run(t, [{ id: 1 }, { id: 2 }], 0)
    run(t, [{ id: 3 }], 5_000)
    assert.equal(t.stateSize().keys, 3)
    assert.deepEqual(t.tick(9_999), [])
    assert.equal(t.stateSize().keys, 3)
    t.tick(10_000)
    assert.equal(t.stateSize().keys, 1)
    t.tick(15_000)
    assert.equal(t.stateSize().keys, 0)
    assert.equal(t.stateSize().bytes, 0)
  })

  it('max_keys bounds the window too, forgetting the oldest', async () => {
    const t = await build({ key: ['id'], within: '1h', max_keys: 2 })
    run(t, [{ id: 1 }], 0)
    run(t, [{ id: 2 }], 1)
    run(t, [{ id: 3 }], 2)
    assert.equal(t.stateSize().keys, 2)
    assert.deepEqual(ids(run(t, [{ id: 2 }, { id: 3 }], 3).out), [])
    assert.deepEqual(ids(run(t, [{ id: 1 }], 3).out), [1], '1 was forgotten')
  })
})

describe('dedupe: event time', () => {
  it('compares event times of ISO strings and epoch numbers', async () => {
    const t = await build({ key: ['id'], within: '10s', time_field: 'ts' })
    const { out } = run(t, [
      { id: 'x', ts: '2026-01-01T00:00:00.000Z' },
      { id: 'x', ts: '2026-01-01T00:00:09.999Z' }, // duplicate
      { id: 'x', ts: 1767225610 }, // 2026-01-01T00:00:10Z in seconds: a new window
      { id: 'x', ts: 1767225612000 }, // milliseconds, 2s later: duplicate
      { id: 'y', ts: '2026-01-01 00:00:05' }, // no zone: UTC
    ])
    assert.deepEqual(out.map((r) => r.ts), ['2026-01-01T00:00:00.000Z', 1767225610, '2026-01-01 00:00:05'])
    assert.equal(t.duplicates(), 2)
  })

  it('an out-of-order record within the window is a duplicate; an older one is kept without moving the window', async () => {
    const t = await build({ key: ['id'], within: '10s', time_field: 't' })
    run(t, [{ id: 1, t: T0 + 100_000 }])
    assert.deepEqual(run(t, [{ id: 1, t: T0 + 95_000 }]).out, [], 'earlier but within 10 s')
    assert.deepEqual(run(t, [{ id: 1, t: T0 + 50_000 }]).out, [{ id: 1, t: T0 + 50_000 }], 'much older: kept')
    assert.deepEqual(run(t, [{ id: 1, t: T0 + 105_000 }]).out, [], 'the window of t=100 s still holds')
  })

  it('forgets keys once the highest event time passed them, whatever the processing time', async () => {
    const t = await build({ key: ['id'], within: '1m', time_field: 'ts' })
    run(t, [{ id: 1, ts: T0 }, { id: 2, ts: T0 + 30_000 }], 0)
    t.tick(T0 + 10 * 3_600_000) // processing time does not expire event-time keys
    assert.equal(t.stateSize().keys, 2)
    run(t, [{ id: 3, ts: T0 + 60_000 }], 0)
    assert.equal(t.stateSize().keys, 2, 'key 1 (window [0, 60 s)) is gone')
    run(t, [{ id: 4, ts: T0 + 200_000 }], 0)
    assert.equal(t.stateSize().keys, 1)
  })

  it('dead-letters a record without a readable time', async () => {
    const t = await build({ key: ['id'], within: '1m', time_field: 'ts' })
    const { out, rejected } = run(t, [{ id: 1, ts: 'yesterday' }, { id: 2 }, { id: 3, ts: 1000 }])
    assert.deepEqual(ids(out), [3])
    assert.deepEqual(rejected.map(([i, e]) => [i, e.code]), [[0, 'SLC_RECORD_TRANSFORM'], [1, 'SLC_RECORD_TRANSFORM']])
    assert.equal(rejected[0]![1].message, 'dedupe "once": field "ts" holds no timestamp ("yesterday")')
    assert.equal(rejected[1]![1].message, 'dedupe "once": field "ts" holds no timestamp (missing)')
  })

  it('needs `within` with `time_field`', () => {
    assert.equal(dedupe.options.safeParse({ key: ['id'], time_field: 'ts' }).success, false)
    assert.equal(dedupe.options.safeParse({ key: [] }).success, false)
    assert.equal(dedupe.options.parse({ key: ['id'], within: '2m' }).within, 120_000)
  })
})

describe('dedupe: snapshot and restore', () => {
  it('a restored instance goes on where the first left off (through JSON)', async () => {
    const a = await build({ key: ['id'], within: '1m', time_field: 'ts' })
    run(a, [{ id: 1, ts: T0 }, { id: 2, ts: T0 + 1000 }, { id: 1, ts: T0 + 2000 }])
    const json = JSON.stringify(a.snapshot())

    const b = await build({ key: ['id'], within: '1m', time_field: 'ts' })
    b.restore(JSON.parse(json))
    assert.equal(b.duplicates(), 1)
    assert.deepEqual(b.stateSize(), a.stateSize())
    // The same continuation gives the same output on both.
    const next = () => [{ id: 1, ts: T0 + 30_000 }, { id: 2, ts: T0 + 61_000 }, { id: 3, ts: T0 + 61_000 }]
    assert.deepEqual(run(b, next()).out, run(a, next()).out)
    assert.deepEqual(b.snapshot(), a.snapshot())
    // Event time reached T0 + 61 s: key 1 (window from T0) is forgotten, keys 2 and 3 are not.
    assert.deepEqual(ids(run(b, next()).out), [1])
  })

  it('restores LRU state in order, and a smaller max_keys keeps the newest keys', async () => {
    const a = await build({ key: ['id'] })
    run(a, [{ id: 1 }, { id: 2 }, { id: 3 }])
    run(a, [{ id: 1 }])
    const snap = JSON.parse(JSON.stringify(a.snapshot()))
    assert.deepEqual(snap.keys.map(([k]: [string]) => k), ['2', '3', '1'])
    assert.equal(snap.duplicates, 1)

    const b = await build({ key: ['id'], max_keys: 2 })
    b.restore(snap)
    assert.deepEqual(ids(run(b, [{ id: 3 }, { id: 1 }]).out), [])
    assert.deepEqual(ids(run(b, [{ id: 2 }]).out), [2], '2, the oldest, was not restored')
  })

  it('processing-time windows survive a restore', async () => {
    const a = await build({ key: ['id'], within: '10s' })
    run(a, [{ id: 'k' }], 1_000)
    const b = await build({ key: ['id'], within: '10s' })
    b.restore(JSON.parse(JSON.stringify(a.snapshot())))
    assert.deepEqual(run(b, [{ id: 'k' }], 10_999).out, [])
    assert.deepEqual(run(b, [{ id: 'k' }], 11_000).out, [{ id: 'k' }])
  })

  it('a snapshot of another clock restores the counters but not the keys', async () => {
    const a = await build({ key: ['id'], within: '1m', time_field: 'ts' })
    run(a, [{ id: 1, ts: T0 }, { id: 1, ts: T0 + 1 }])
    const b = await build({ key: ['id'], within: '1m' })
    b.restore(JSON.parse(JSON.stringify(a.snapshot())))
    assert.deepEqual([b.duplicates(), b.stateSize().keys], [1, 0])
    const lru = await build({ key: ['id'] })
    lru.restore(JSON.parse(JSON.stringify(a.snapshot())))
    assert.equal(lru.stateSize().keys, 1, 'LRU mode only needs the order')
  })

  it('refuses a state that is not a dedupe snapshot', async () => {
    const t = await build({ key: ['id'] })
    assert.throws(() => t.restore({ windows: [] }), /not a dedupe snapshot/)
    assert.throws(() => t.restore(null), /not a dedupe snapshot/)
  })
})

describe('parseEventTime', () => {
  it('reads canonical ISO fast and other forms through Date.parse', () => {
    assert.equal(parseEventTime('2026-01-01T00:00:03.500Z'), Date.UTC(2026, 0, 1, 0, 0, 3, 500))
    assert.equal(parseEventTime('2026-01-01T00:00:03Z'), Date.UTC(2026, 0, 1, 0, 0, 3))
    assert.equal(parseEventTime('2026-01-01T00:00:03.5Z'), Date.UTC(2026, 0, 1, 0, 0, 3, 500))
    assert.equal(parseEventTime('2026-01-01T01:00:00+01:00'), Date.UTC(2026, 0, 1))
    assert.equal(parseEventTime('2026-01-01T00:00:00.123456Z'), Date.UTC(2026, 0, 1, 0, 0, 0, 123))
    assert.equal(parseEventTime('2026-01-01'), Date.UTC(2026, 0, 1))
    assert.equal(parseEventTime('2026-01-01T10:00:00'), Date.UTC(2026, 0, 1, 10))
    assert.equal(parseEventTime(1767225600), Date.UTC(2026, 0, 1))
    assert.equal(parseEventTime(1767225600000), Date.UTC(2026, 0, 1))
    assert.equal(parseEventTime('1767225600'), Date.UTC(2026, 0, 1))
    for (const bad of ['2026-02-31T00:00:00Z', 'soon', '', null, undefined, {}, NaN, '2026-13-01T00:00:00Z']) {
      assert.equal(parseEventTime(bad), undefined, String(bad))
    }
  })
})
