// A least-recently-used cache whose entries also expire after a time to live. A Map keeps
// insertion order, so moving an entry to the end on a hit (delete + set) makes the first entry
// the least recently used one: eviction is `keys().next()`, O(1).

interface Entry<V> {
  value: V
  expires: number
}

export class LruTtlCache<V> {
  readonly #entries = new Map<string, Entry<V>>()
  readonly #maxEntries: number
  readonly #ttl: number
  #evictions = 0

  /** `ttl` in ms: an entry set at `t` is served until `t + ttl` (exclusive). */
  constructor(maxEntries: number, ttl: number) {
    this.#maxEntries = maxEntries
    this.#ttl = ttl
  }

  /** The cached value (`null` is a value: a cached miss), or undefined when absent or expired. */
  get(key: string, now: number): V | undefined {
    const e = this.#entries.get(key)
    if (e === undefined) return undefined
    this.#entries.delete(key)
    if (now >= e.expires) return undefined
    this.#entries.set(key, e)
    return e.value
  }

  set(key: string, value: V, now: number): void {
    if (this.#maxEntries <= 0) return
    this.#entries.delete(key)
    this.#entries.set(key, { value, expires: now + this.#ttl })
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value!
      this.#entries.delete(oldest)
      this.#evictions++
    }
  }

  has(key: string, now: number): boolean {
    const e = this.#entries.get(key)
    return e !== undefined && now < e.expires
  }

  get size(): number {
    return this.#entries.size
  }

  /** Entries removed to stay within `maxEntries`. */
  get evictions(): number {
    return this.#evictions
  }

  clear(): void {
    this.#entries.clear()
  }
}
