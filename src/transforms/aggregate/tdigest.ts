// A merging t-digest (Dunning & Ertl, "Computing extremely accurate quantiles using t-digests",
// 2019): incoming values are buffered, then sorted and merged with the centroids in one pass
// under the k1 scale function k(q) = δ/(2π)·asin(2q − 1), which keeps centroids small near the
// tails (accurate p99/p999) and larger in the middle. Compression δ = 100 keeps at most ~2δ
// centroids. Mergeable (another digest's centroids are re-merged as weighted points) and
// serialisable as plain numbers.

export const TDIGEST_DEFAULT_COMPRESSION = 100

export interface TDigestState {
  /** Compression. */
  d: number
  /** Centroid means, ascending. */
  m: number[]
  /** Centroid weights. */
  w: number[]
  min: number
  max: number
  /** Points not merged yet (kept as they are, so a restored digest equals the saved one). */
  b?: number[]
  /** Their weights, when not all 1. */
  bw?: number[]
}

export class TDigest {
  readonly compression: number
  #means: number[] = []
  #weights: number[] = []
  #total = 0
  // Unmerged points (weights in a parallel array only once a weighted point arrives).
  #buf: number[] = []
  #bufWeights: number[] | undefined
  #bufWeight = 0
  #min = Infinity
  #max = -Infinity
  readonly #bufferCap: number

  constructor(compression = TDIGEST_DEFAULT_COMPRESSION) {
    this.compression = compression
    this.#bufferCap = Math.ceil(compression * 5)
  }

  get count(): number {
    return this.#total + this.#bufWeight
  }

  /** Centroids held (for size estimates). */
  get size(): number {
    return this.#means.length + this.#buf.length
  }

  add(x: number, w = 1): void {
    if (x < this.#min) this.#min = x
    if (x > this.#max) this.#max = x
    if (w !== 1 && this.#bufWeights === undefined) this.#bufWeights = this.#buf.map(() => 1)
    this.#buf.push(x)
    this.#bufWeights?.push(w)
    this.#bufWeight += w
    if (this.#buf.length >= this.#bufferCap) this.#compress()
  }

  merge(other: TDigest): void {
    other.#compress()
    const m = other.#means
    const w = other.#weights
    for (let i = 0; i < m.length; i++) this.add(m[i]!, w[i]!)
    if (other.#min < this.#min) this.#min = other.#min
    if (other.#max > this.#max) this.#max = other.#max
  }

  /** Estimated value at quantile q (0..1); null for an empty digest. */
  quantile(q: number): number | null {
    this.#compress()
    const n = this.#means.length
    if (n === 0) return null
    const means = this.#means
    const weights = this.#weights
    if (n === 1) return means[0]!
    const total = this.#total
    const index = q * total
    if (index < 1) return this.#min
    if (index > total - 1) return this.#max
    // Left tail: between the minimum and the first centroid (whose first point is the minimum).
    if (weights[0]! > 1 && index < weights[0]! / 2) {
      return this.#min + ((index - 1) / (weights[0]! / 2 - 1)) * (means[0]! - this.#min)
    }
    if (weights[n - 1]! > 1 && total - index <= weights[n - 1]! / 2) {
      return this.#max - ((total - index - 1) / (weights[n - 1]! / 2 - 1)) * (this.#max - means[n - 1]!)
    }
    // Interpolate between the centres of the two centroids around `index`.
    let cum = weights[0]! / 2
    for (let i = 0; i < n - 1; i++) {
      const dw = (weights[i]! + weights[i + 1]!) / 2
      if (cum + dw > index) {
        // Singletons are exact points: do not interpolate past them.
        let left = 0
        if (weights[i] === 1) {
          if (index - cum < 0.5) return means[i]!
          left = 0.5
        }
        let right = 0
        if (weights[i + 1] === 1) {
          if (cum + dw - index <= 0.5) return means[i + 1]!
          right = 0.5
        }
        const z1 = index - cum - left
        const z2 = cum + dw - index - right
        return (means[i]! * z2 + means[i + 1]! * z1) / (z1 + z2)
      }
      cum += dw
    }
    return this.#max
  }

  /** The state as it is (not compressed first: a digest restored from it behaves identically). */
  toJSON(): TDigestState {
    const s: TDigestState = { d: this.compression, m: this.#means.slice(), w: this.#weights.slice(), min: this.#min, max: this.#max }
    if (this.#buf.length > 0) s.b = this.#buf.slice()
    if (this.#bufWeights !== undefined) s.bw = this.#bufWeights.slice()
    return s
  }

  static fromJSON(s: TDigestState): TDigest {
    const t = new TDigest(s.d)
    t.#means = s.m.slice()
    t.#weights = s.w.slice()
    t.#total = s.w.reduce((a, b) => a + b, 0)
    t.#buf = s.b ? s.b.slice() : []
    t.#bufWeights = s.bw ? s.bw.slice() : undefined
    t.#bufWeight = s.bw ? s.bw.reduce((a, b) => a + b, 0) : t.#buf.length
    const empty = t.#means.length === 0 && t.#buf.length === 0
    t.#min = empty ? Infinity : s.min
    t.#max = empty ? -Infinity : s.max
    return t
  }

  #compress(): void {
    const nb = this.#buf.length
    if (nb === 0) return
    // All points (old centroids and new values) sorted by mean.
    const n = this.#means.length + nb
    const xs = new Float64Array(n)
    const ws = new Float64Array(n)
    const order = new Uint32Array(n)
    for (let i = 0; i < this.#means.length; i++) {
      xs[i] = this.#means[i]!
      ws[i] = this.#weights[i]!
    }
    const bw = this.#bufWeights
    for (let i = 0; i < nb; i++) {
      xs[this.#means.length + i] = this.#buf[i]!
      ws[this.#means.length + i] = bw ? bw[i]! : 1
    }
    for (let i = 0; i < n; i++) order[i] = i
    order.sort((a, b) => xs[a]! - xs[b]!)
    const total = this.#total + this.#bufWeight
    const means: number[] = []
    const weights: number[] = []
    const d = this.compression
    const normalizer = d / (2 * Math.PI)
    const kOf = (q: number) => normalizer * Math.asin(2 * Math.min(1, Math.max(0, q)) - 1)
    const qOf = (k: number) => (Math.sin(Math.min(Math.PI / 2, Math.max(-Math.PI / 2, k / normalizer))) + 1) / 2
    let soFar = 0
    let curMean = xs[order[0]!]!
    let curWeight = ws[order[0]!]!
    let limit = total * qOf(kOf(0) + 1)
    for (let j = 1; j < n; j++) {
      const i = order[j]!
      const proposed = soFar + curWeight + ws[i]!
      if (proposed <= limit) {
        curWeight += ws[i]!
        curMean += ((xs[i]! - curMean) * ws[i]!) / curWeight
      } else {
        means.push(curMean)
        weights.push(curWeight)
        soFar += curWeight
        limit = total * qOf(kOf(soFar / total) + 1)
        curMean = xs[i]!
        curWeight = ws[i]!
      }
    }
    means.push(curMean)
    weights.push(curWeight)
    this.#means = means
    this.#weights = weights
    this.#total = total
    this.#buf = []
    this.#bufWeights = undefined
    this.#bufWeight = 0
  }
}
