// Pre-aggregation (file sources' worker threads): which aggregates admit it, partials merged in
// chunk order equal the records added one by one, and the admission keeps the state bounds.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Rec } from '../../../src/core/batch.js'
import { PartialRecord } from '../../../src/core/threads/partial.js'
import { Aggregate, PARTIAL_MAX_KEYS, preaggregable } from '../../../src/transforms/aggregate/aggregate.js'
import { aggregate } from '../../../src/transforms/aggregate/index.js'
import { build, Driver, randomRecords, MIN } from './helpers.js'

const MERGEABLE_AGGS = {
  n: 'count()',
  n_amount: 'count(amount)',
  revenue: 'sum(amount)',
  avg_amount: 'avg(amount)',
  min_amount: 'min(amount)',
  max_tag: 'max(tag)',
  approx_users: 'approx_count_distinct(user)',
  scaled: 'sum(latency_ms * 1.1)',
}

const options = (o: Record<string, unknown>) => aggregate.options.parse({ window: { type: 'global' }, group_by: ['country'], aggregations: MERGEABLE_AGGS, ...o })

/** A worker's aggregate: the same options, bounds lifted (as core/threads/worker.ts builds it). */
const workerSide = (o: Record<string, unknown> = {}) => new Aggregate({ ...options(o), max_keys: Number.MAX_SAFE_INTEGER, max_state_bytes: Number.MAX_SAFE_INTEGER }, 'agg')

/** Fold `records` chunk by chunk in a worker-side aggregate; feed each partial to `d`. */
function feedPartials(d: Driver, records: Rec[], chunk: number, o: Record<string, unknown> = {}): void {
  const w = workerSide(o)
  for (let i = 0; i < records.length; i += chunk) {
    const part = records.slice(i, i + chunk)
    w.process(part, { partition: '', now: 0, reject: () => assert.fail('no record is rejected here') })
    const p = w.takePartial(part.length)
    assert.ok(p, 'a few groups fit in a partial')
    d.feed([new PartialRecord(p) as unknown as Rec])
  }
}

describe('aggregate pre-aggregation', () => {
  it('preaggregable: the global window without time_field and with exactly mergeable aggregations only', () => {
    assert.equal(preaggregable(options({})), true)
    assert.equal(preaggregable(options({ group_by: [] })), true)
    assert.equal(preaggregable(options({ window: { type: 'tumbling', size: '1m' }, time_field: 'ts' })), false)
    assert.equal(preaggregable(options({ window: { type: 'session', gap: '1m' }, time_field: 'ts' })), false)
    assert.equal(preaggregable(options({ time_field: 'ts' })), false)
    for (const call of ['first(user)', 'last(user)', 'count_distinct(user)', 'collect(user, 5)', 'p99(latency_ms)', 'percentile(latency_ms, 0.5)']) {
      assert.equal(preaggregable(options({ aggregations: { ...MERGEABLE_AGGS, x: call } })), false, call)
    }
  })

  it('partials merged in chunk order give the rows, group order and sums of the records added one by one', async () => {
    const records = randomRecords(3, 20_000, 10 * MIN, 0)
    const direct = new Driver(await build({ window: { type: 'global' }, group_by: ['country'], aggregations: MERGEABLE_AGGS }))
    for (let i = 0; i < records.length; i += 500) direct.feed(records.slice(i, i + 500))
    direct.flush()
    for (const chunk of [1, 37, 1000, 20_000]) {
      const merged = new Driver(await build({ window: { type: 'global' }, group_by: ['country'], aggregations: MERGEABLE_AGGS }))
      feedPartials(merged, records, chunk)
      merged.flush()
      // deepEqual on numbers: sums to the last bit, whatever the chunking.
      assert.deepEqual(merged.rows, direct.rows, `chunks of ${chunk}`)
      assert.deepEqual((merged.t as Aggregate).stateSize(), (direct.t as Aggregate).stateSize(), `state estimate with chunks of ${chunk}`)
    }
  })

  it('the state estimate does not grow when a partial meets an entry it already has', async () => {
    const d = new Driver(await build({ window: { type: 'global' }, group_by: ['country'], aggregations: MERGEABLE_AGGS }))
    const records = randomRecords(4, 2000, MIN, 0)
    feedPartials(d, records, 100)
    const after = (d.t as Aggregate).stateSize()
    feedPartials(d, records, 100)
    assert.deepEqual((d.t as Aggregate).stateSize(), after, 'HyperLogLog registers merge in place')
  })

  it('reservePartial admits partials only while every one out fits under the bounds', async () => {
    const t = (await build({ window: { type: 'global' }, group_by: ['country'], aggregations: { n: 'count()' }, max_keys: 2 * PARTIAL_MAX_KEYS + 10 })) as Aggregate
    assert.equal(t.reservePartial(), true)
    assert.equal(t.reservePartial(), true)
    assert.equal(t.reservePartial(), false, 'a third could bring the state past max_keys')
    t.releasePartial()
    assert.equal(t.reservePartial(), true)
    t.releasePartial()
    t.releasePartial()
    t.flush()
    assert.equal(t.reservePartial(), false, 'nothing after the end of input')
    const tiny = (await build({ window: { type: 'global' }, aggregations: { n: 'count()' }, max_keys: 100 })) as Aggregate
    assert.equal(tiny.reservePartial(), false, 'max_keys below one partial: records go one by one')
  })

  it('a worker partial that outgrows its bound is refused: the chunk goes as records', () => {
    const w = workerSide({ group_by: ['id'], aggregations: { n: 'count()', total: 'sum(amount)' } })
    const many = Array.from({ length: PARTIAL_MAX_KEYS + 1 }, (_, id) => ({ id, amount: 1 }))
    w.process(many.slice(0, PARTIAL_MAX_KEYS), { partition: '', now: 0, reject: () => {} })
    assert.equal(w.partialFits, true)
    w.process(many.slice(PARTIAL_MAX_KEYS), { partition: '', now: 0, reject: () => {} })
    assert.equal(w.partialFits, false)
    assert.equal(w.takePartial(many.length), undefined)
    // And the worker's aggregate starts the next chunk empty.
    w.process([{ id: 1, amount: 2 }], { partition: '', now: 0, reject: () => {} })
    assert.equal(w.takePartial(1)?.groups.length, 1)
  })
})
