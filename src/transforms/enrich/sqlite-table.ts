// A lookup table queried from a SQLite database, read-only, with an LRU + TTL cache in front.
// Lookups are batched: the distinct keys of a record batch that are not cached go to the database
// in one query per 500 keys (`WHERE id IN ({keys})`), never one query per record.
// better-sqlite3 is synchronous, so a batch is enriched without a promise.
import { statSync } from 'node:fs'
import Database from 'better-sqlite3'
import { RecordError, SluiceError, errorMessage } from '../../core/errors.js'
import { KeyReader, type Payload } from './keys.js'
import { LruTtlCache } from './lru.js'

/** Most keys bound in one query. */
export const KEYS_PER_QUERY = 500
/** Statement sizes: a query for n keys uses the smallest size ≥ n, padded by repeating a key. */
const SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256, KEYS_PER_QUERY]

export const KEYS_PLACEHOLDER = '{keys}'

export interface SqliteTableOptions {
  id: string
  /** Absolute database path. */
  file: string
  displayPath: string
  /** SQL with one or more `{keys}` placeholders. */
  query: string
  /** Result column(s) holding the key. */
  key: readonly string[]
  fields?: readonly string[]
  prefix: string
  maxEntries: number
  ttl: number
  cacheMisses: boolean
  busyTimeout: number
  now: () => number
}

export interface SqliteLookupStats {
  /** Distinct keys of a batch answered from the cache (cached misses included). */
  hits: number
  /** Distinct keys of a batch that had to be queried. */
  misses: number
  /** Queries run against the database. */
  queries: number
  /** Entries in the cache now. */
  cached: number
  /** Entries evicted from the cache to stay within `max_entries`. */
  evictions: number
}

export class SqliteTable {
  readonly names: readonly string[]
  readonly #o: SqliteTableOptions
  readonly #db: Database.Database
  readonly #parts: string[]
  readonly #statements = new Map<number, Database.Statement>()
  readonly #keyIndexes: number[]
  readonly #fieldIndexes: number[]
  readonly #keyReader: KeyReader
  readonly #cache: LruTtlCache<Payload | null>
  #hits = 0
  #misses = 0
  #queries = 0

  /** Opens the database read-only and checks the query; throws a SluiceError when either fails. */
  constructor(o: SqliteTableOptions) {
    this.#o = o
    const where = `enrich "${o.id}": table ${o.displayPath}`
    try {
      statSync(o.file)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code === 'ENOENT') throw new SluiceError('SLC_SOURCE_NOT_FOUND', `${where} does not exist`, { cause: e })
      throw new SluiceError('SLC_SOURCE_IO', `${where} cannot be read: ${errorMessage(e)}`, { cause: e })
    }
    try {
      this.#db = new Database(o.file, { readonly: true, fileMustExist: true, timeout: o.busyTimeout })
    } catch (e) {
      throw new SluiceError('SLC_SOURCE_IO', `${where} cannot be opened: ${errorMessage(e)}`, { cause: e })
    }
    try {
      this.#parts = o.query.split(KEYS_PLACEHOLDER)
      const probe = this.#statement(1)
      const columns = probe.columns().map((c) => c.name)
      const indexOf = (name: string, option: string): number => {
        const i = columns.indexOf(name)
        if (i < 0) {
          throw new SluiceError(
            'SLC_CONFIG_INVALID',
            `${where}: the query returns no column "${name}" named in \`${option}\` (it returns ${columns.map((c) => `"${c}"`).join(', ')})`,
          )
        }
        return i
      }
      this.#keyIndexes = o.key.map((k) => indexOf(k, 'table.key'))
      const keySet = new Set(o.key)
      const fields = o.fields ?? columns.filter((c) => !keySet.has(c))
      this.#fieldIndexes = fields.map((f) => indexOf(f, 'fields'))
      this.names = fields.map((f) => o.prefix + f)
    } catch (e) {
      this.#db.close()
      throw e
    }
    this.#keyReader = new KeyReader(o.key)
    this.#cache = new LruTtlCache(o.maxEntries, o.ttl)
  }

  /** A prepared statement for `n` keys (n one of SIZES), raw mode (rows as arrays). */
  #statement(n: number): Database.Statement {
    let stmt = this.#statements.get(n)
    if (stmt !== undefined) return stmt
    const width = this.#o.key.length
    const one = width === 1 ? '?' : `(${new Array<string>(width).fill('?').join(', ')})`
    const sql = this.#parts.join(new Array<string>(n).fill(one).join(', '))
    try {
      stmt = this.#db.prepare(sql)
    } catch (e) {
      throw new SluiceError('SLC_CONFIG_INVALID', `enrich "${this.#o.id}": the table query does not compile: ${errorMessage(e)}`, { cause: e })
    }
    if (!stmt.reader || !stmt.readonly) {
      throw new SluiceError('SLC_CONFIG_INVALID', `enrich "${this.#o.id}": the table query must be a SELECT that only reads (it ${stmt.reader ? 'writes' : 'returns no rows'})`)
    }
    stmt.raw(true)
    this.#statements.set(n, stmt)
    return stmt
  }

  /**
   * Resolve the distinct keys of a batch (key → its raw values, bound to the query): each gets its
   * payload, or null when the table has no row. Cached keys are not queried again.
   */
  lookup(keys: ReadonlyMap<string, unknown[]>): Map<string, Payload | null> {
    const now = this.#o.now()
    const found = new Map<string, Payload | null>()
    const pending: string[] = []
    for (const key of keys.keys()) {
      const cached = this.#cache.get(key, now)
      if (cached !== undefined) {
        found.set(key, cached)
        this.#hits++
      } else {
        pending.push(key)
        this.#misses++
      }
    }
    for (let from = 0; from < pending.length; from += KEYS_PER_QUERY) {
      const chunk = pending.slice(from, from + KEYS_PER_QUERY)
      this.#query(chunk, keys, found, now)
    }
    return found
  }

  #query(chunk: string[], keys: ReadonlyMap<string, unknown[]>, found: Map<string, Payload | null>, now: number): void {
    const size = SIZES.find((s) => s >= chunk.length)!
    const stmt = this.#statement(size)
    const perKey: unknown[] = []
    for (let i = 0; i < size; i++) {
      const values = keys.get(chunk[Math.min(i, chunk.length - 1)]!)!
      for (let j = 0; j < values.length; j++) perKey.push(values[j])
    }
    const occurrences = this.#parts.length - 1
    const params = occurrences === 1 ? perKey : new Array<unknown[]>(occurrences).fill(perKey).flat()
    let rows: unknown[][]
    try {
      rows = stmt.all(params) as unknown[][]
    } catch (e) {
      throw new RecordError('SLC_RECORD_TRANSFORM', `enrich "${this.#o.id}": the lookup query on ${this.#o.displayPath} failed: ${errorMessage(e)}`, { cause: e })
    }
    this.#queries++
    const wanted = new Set(chunk)
    const fieldIndexes = this.#fieldIndexes
    for (const row of rows) {
      const key = this.#keyReader.ofArray(row, this.#keyIndexes)
      // Only keys asked for; of several rows for one key, the first wins.
      if (key === undefined || !wanted.delete(key)) continue
      const payload = new Array<unknown>(fieldIndexes.length)
      for (let j = 0; j < fieldIndexes.length; j++) payload[j] = row[fieldIndexes[j]!] ?? null
      found.set(key, payload)
      this.#cache.set(key, payload, now)
    }
    for (const key of wanted) {
      found.set(key, null)
      if (this.#o.cacheMisses) this.#cache.set(key, null, now)
    }
  }

  stats(): SqliteLookupStats {
    return { hits: this.#hits, misses: this.#misses, queries: this.#queries, cached: this.#cache.size, evictions: this.#cache.evictions }
  }

  close(): void {
    if (this.#db.open) this.#db.close()
  }
}
