// The HyperLogLog and t-digest written for `aggregate`: accuracy against exact answers, merging,
// serialisation.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { HyperLogLog } from '../../../src/transforms/aggregate/hll.js'
import { TDigest } from '../../../src/transforms/aggregate/tdigest.js'
import { prng } from './helpers.js'

describe('HyperLogLog', () => {
  it('estimates 100k distinct values within 2% (precision 12: standard error 1.6%)', () => {
    const h = new HyperLogLog()
    for (let i = 0; i < 100_000; i++) h.add(`user-${i}`)
    for (let i = 0; i < 100_000; i++) h.add(`user-${i % 5000}`) // repeats change nothing
    const e = h.estimate()
    assert.ok(Math.abs(e / 100_000 - 1) < 0.02, `estimate ${e}`)
  })

  it('is unbiased across seeds and sizes: mean error under 2%, every one under 5%', () => {
    for (const n of [100, 1_000, 10_000, 100_000]) {
      let sum = 0
      for (let seed = 0; seed < 8; seed++) {
        const rnd = prng(seed)
        const h = new HyperLogLog()
        for (let i = 0; i < n; i++) h.add(n % 2 ? i : `${seed}:${i}:${rnd()}`)
        const err = Math.abs(h.estimate() / n - 1)
        assert.ok(err < 0.05, `n=${n} seed=${seed}: error ${err}`)
        sum += err
      }
      assert.ok(sum / 8 < 0.02, `n=${n}: mean error ${sum / 8}`)
    }
  })

  it('small sets are exact or nearly so; numbers and strings are different values', () => {
    const h = new HyperLogLog()
    for (const v of [1, '1', 2, 2, 'a', true, null]) h.add(v)
    assert.equal(h.estimate(), 6)
    assert.equal(new HyperLogLog().estimate(), 0)
  })

  it('merges (the union of two sets) and round-trips through base64', () => {
    const a = new HyperLogLog()
    const b = new HyperLogLog()
    for (let i = 0; i < 60_000; i++) a.add(`k${i}`)
    for (let i = 40_000; i < 100_000; i++) b.add(`k${i}`)
    a.merge(b)
    assert.ok(Math.abs(a.estimate() / 100_000 - 1) < 0.03, `${a.estimate()}`)
    const text = a.toBase64()
    assert.equal(typeof text, 'string')
    assert.equal(HyperLogLog.fromBase64(text).estimate(), a.estimate())
    assert.throws(() => HyperLogLog.fromBase64('AAAA'), /registers/)
  })
})

describe('t-digest', () => {
  const rankError = (sorted: number[], v: number, q: number) => {
    let lo = 0
    let hi = sorted.length
    while (lo < hi) {
      const m = (lo + hi) >> 1
      if (sorted[m]! < v) lo = m + 1
      else hi = m
    }
    let up = lo
    while (up < sorted.length && sorted[up] === v) up++
    // The rank of v is anywhere in [lo, up] when v repeats.
    const r = q * sorted.length
    return r < lo ? (lo - r) / sorted.length : r > up ? (r - up) / sorted.length : 0
  }
  const QS = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999]
  const dists: Record<string, (r: () => number) => number> = {
    uniform: (r) => r() * 1000,
    exponential: (r) => -Math.log(1 - r()) * 100,
    'heavy tail': (r) => 1 / (1 - r()) ** 2,
    'few values': (r) => Math.floor(r() * 5),
    sorted: () => 0, // replaced below by an ascending sequence
  }

  for (const [name, gen] of Object.entries(dists)) {
    it(`${name}: 100k values, every quantile within 1% rank error of the exact sort`, () => {
      const rnd = prng(42)
      const values: number[] = []
      for (let i = 0; i < 100_000; i++) values.push(name === 'sorted' ? i : gen(rnd))
      const d = new TDigest()
      for (const v of values) d.add(v)
      const sorted = values.slice().sort((a, b) => a - b)
      for (const q of QS) {
        const err = rankError(sorted, d.quantile(q)!, q)
        assert.ok(err <= 0.01, `q=${q}: rank error ${err}`)
      }
      assert.equal(d.quantile(0), sorted[0])
      assert.equal(d.quantile(1), sorted.at(-1))
      assert.ok(d.size < 400, `${d.size} centroids`)
    })
  }

  it('merging digests keeps the accuracy, and JSON round trips are exact', () => {
    const rnd = prng(7)
    const parts = [new TDigest(), new TDigest(), new TDigest()]
    const values: number[] = []
    for (let i = 0; i < 90_000; i++) {
      const v = -Math.log(1 - rnd()) * 50
      values.push(v)
      parts[i % 3]!.add(v)
    }
    const all = parts[0]!
    all.merge(parts[1]!)
    all.merge(TDigest.fromJSON(JSON.parse(JSON.stringify(parts[2]!))))
    const sorted = values.slice().sort((a, b) => a - b)
    for (const q of QS) assert.ok(rankError(sorted, all.quantile(q)!, q) <= 0.01, `q=${q}`)
    const copy = TDigest.fromJSON(JSON.parse(JSON.stringify(all)))
    for (const q of QS) assert.equal(copy.quantile(q), all.quantile(q))
  })

  it('small inputs: exact values, and empty is null', () => {
    const d = new TDigest()
    assert.equal(d.quantile(0.5), null)
    for (const v of [5, 1, 3]) d.add(v)
    assert.equal(d.quantile(0.5), 3)
    assert.equal(d.quantile(0), 1)
    assert.equal(d.quantile(1), 5)
  })
})
