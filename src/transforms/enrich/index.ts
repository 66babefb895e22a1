/** The `enrich` transform: a keyed lookup join of each record with a table read from a CSV/JSON-lines file or queried from SQLite. */
import { resolve } from 'node:path'
import { csvOptionsSchema } from '../../codecs/index.js'
import { defineTransform, type BatchTransform, type BuildContext } from '../../component/define.js'
import { duration, path, z } from '../../component/options.js'
import type { Rec } from '../../core/batch.js'
import { RecordError } from '../../core/errors.js'
import type { Logger } from '../../observe/log.js'
import { FileTable, type LoadedTable } from './file-table.js'
import { KeyReader, type Payload } from './keys.js'
import { KEYS_PLACEHOLDER, SqliteTable, type SqliteLookupStats } from './sqlite-table.js'

const fieldName = z.string().min(1)

function keyColumns(description: string) {
  return z.union([fieldName, z.array(fieldName).min(1)]).meta({ description })
}

// The docs show one row per option name across the table kinds: shared names get one description.
const TABLE_TYPE =
  '`file`: a CSV or JSON-lines file, read whole into memory when the pipeline starts. `sqlite`: a SQLite database, opened ' +
  'read-only and queried for the keys of each batch, with a cache.'
const tablePath = () =>
  path('The table file (CSV, JSON lines, or a SQLite database, which must exist); relative paths resolve against the config file\'s folder. Not compressed.')

const fileTable = z
  .strictObject({
    type: z.literal('file').meta({ description: TABLE_TYPE }),
    path: tablePath(),
    format: z.enum(['csv', 'jsonl']).meta({
      description: '`csv`: rows of a CSV file (the first row names the columns unless `csv.header: false`). `jsonl`: one JSON object per line.',
    }),
    csv: csvOptionsSchema
      .optional()
      .meta({ description: 'CSV dialect and column types, as for the `file` source (`format: csv` only). Declare a key column as `string` to keep leading zeros.' }),
    key: keyColumns('The table column holding the key matched against `on`; a list of columns for a composite key, in the order of `on`.'),
    reload: z.boolean().default(true).meta({
      description:
        'Watch the file (modification time, size and inode, every `reload_interval`) and load it again when it changes. The new version ' +
        'replaces the old one at once, between two batches; a reload that fails (file missing, bad row, too many rows) keeps the old ' +
        'table and logs a warning.',
    }),
    reload_interval: duration('How often the file is checked for changes when `reload` is on.', '5s'),
    max_rows: z.number().int().positive().default(1_000_000).meta({
      description:
        'Most rows the file may have. A larger table stops the pipeline at start (and a reload keeps the previous version): the whole ' +
        'table lives in memory, so this bounds it. Use a `sqlite` table for larger ones.',
    }),
  })
  .superRefine((o, ctx) => {
    if (o.format !== 'csv' && o.csv !== undefined) ctx.addIssue({ code: 'custom', path: ['csv'], message: '`csv` settings apply only with `format: csv`' })
  })

const sqliteTable = z
  .strictObject({
    type: z.literal('sqlite').meta({ description: TABLE_TYPE }),
    path: tablePath(),
    query: z
      .string()
      .min(1)
      .refine((q) => q.includes(KEYS_PLACEHOLDER), { message: 'the query needs the placeholder `{keys}` where the keys of a batch go, e.g. `WHERE id IN ({keys})`' })
      .meta({
        description:
          'The SELECT that finds the rows of a batch\'s keys. `{keys}` is replaced by one `?` per key (`WHERE id IN ({keys})`); for a ' +
          'composite key by one `(?, ?)` per key, to use as `WHERE (a, b) IN (VALUES {keys})`. Up to 500 keys go into one query.',
      }),
    key: keyColumns('The result column holding the key matched against `on`; a list of columns for a composite key, in the order of `on`.'),
    cache: z
      .strictObject({
        max_entries: z.number().int().positive().default(100_000).meta({ description: 'Most keys kept in the cache; the least recently used one is evicted beyond it.' }),
        ttl: duration('How long a cached row (or a cached miss) is used before the database is asked again.', '5m'),
        cache_misses: z.boolean().default(true).meta({ description: 'Also remember keys the table has no row for, so they are not queried again within `ttl`.' }),
      })
      .prefault({})
      .meta({ description: 'The cache of looked-up rows in front of the database (least recently used entries evicted, each expiring after `ttl`).' }),
    busy_timeout: duration('How long a query waits for a lock held by a writer before the batch fails.', '5s'),
  })

const options = z
  .strictObject({
    table: z.discriminatedUnion('type', [fileTable, sqliteTable]).meta({ description: 'Where the rows come from, by `type`: `file` or `sqlite`.' }),
    on: keyColumns(
      'The record field holding the lookup key; a list of fields for a composite key (then `table.key` lists as many columns). ' +
        'Keys compare as text: the number `42` matches the string `"42"`.',
    ),
    fields: z
      .array(fieldName)
      .min(1)
      .optional()
      .meta({ description: 'Table columns to add to the record. Default: every column except the key.' }),
    prefix: z.string().default('').meta({ description: 'Prefix of the added field names (`prefix: country_` adds `country_name` for column `name`).' }),
    target: fieldName.optional().meta({
      description:
        'Field that receives the matched row as an object. When absent, the columns are merged into the record, replacing fields of the same name.',
    }),
    join: z.enum(['left', 'inner']).default('left').meta({
      description: '`left`: every record goes on, matched or not. `inner`: only records with a row go on (see `missing`).',
    }),
    missing: z.enum(['null', 'drop', 'dead_letter']).default('null').meta({
      description:
        'What happens to a record with no row (or no key value): `null` sets the added fields (or `target`) to null (left join only; an ' +
        'inner join drops the record), `drop` drops it, `dead_letter` sends it to the dead-letter output with code `SLC_RECORD_TRANSFORM`.',
    }),
  })
  .superRefine((o, ctx) => {
    const on = typeof o.on === 'string' ? 1 : o.on.length
    const key = typeof o.table.key === 'string' ? 1 : o.table.key.length
    if (on !== key) {
      ctx.addIssue({
        code: 'custom',
        path: ['table', 'key'],
        message: `\`on\` names ${on} field(s) but \`table.key\` names ${key} column(s); a composite key needs one column per field, in the same order`,
      })
    }
  })

export type EnrichOptions = z.output<typeof options>

/** What `enrich` counted since it started. */
export interface EnrichStats extends SqliteLookupStats {
  /** Records that found a row. */
  matched: number
  /** Records without a row or without a key value. */
  unmatched: number
  /** Rows in the loaded file table (0 for SQLite). */
  rows: number
  /** Successful reloads of a file table. */
  reloads: number
  /** Failed reloads (the previous table was kept). */
  reload_failures: number
}

type MissingPolicy = 'null' | 'drop' | 'dead_letter'

/** Optional dependencies, for tests: a clock for the SQLite cache TTL. */
export interface EnrichDependencies {
  now?: () => number
}

/** The running `enrich` transform. */
export class EnrichTransform implements BatchTransform {
  readonly kind = 'batch'
  readonly #id: string
  readonly #log: Logger
  readonly #on: KeyReader
  readonly #target: string | undefined
  readonly #missing: MissingPolicy
  readonly #file: FileTable | undefined
  readonly #sqlite: SqliteTable | undefined
  #matched = 0
  #unmatched = 0

  constructor(id: string, log: Logger, opts: EnrichOptions, table: FileTable | SqliteTable) {
    this.#id = id
    this.#log = log
    this.#on = new KeyReader(toList(opts.on))
    this.#target = opts.target
    // An inner join never keeps an unmatched record: it is dropped unless it should be dead-lettered.
    this.#missing = opts.join === 'inner' && opts.missing === 'null' ? 'drop' : opts.missing
    if (table instanceof FileTable) this.#file = table
    else this.#sqlite = table
  }

  process(records: Rec[], reject: (index: number, error: unknown) => void): Rec[] {
    const n = records.length
    const on = this.#on
    let names: readonly string[]
    let keys: (string | undefined)[] | undefined
    let rows: ReadonlyMap<string, Payload | null>
    if (this.#sqlite !== undefined) {
      // One pass for the distinct keys, one query for those not cached, then one pass to join.
      keys = new Array<string | undefined>(n)
      const distinct = new Map<string, unknown[]>()
      for (let i = 0; i < n; i++) {
        const k = on.of(records[i]!)
        keys[i] = k
        if (k !== undefined && !distinct.has(k)) distinct.set(k, on.values(records[i]!))
      }
      const before = this.#log.isLevelEnabled('debug') ? this.#sqlite.stats() : undefined
      rows = this.#sqlite.lookup(distinct)
      names = this.#sqlite.names
      if (before !== undefined) {
        const after = this.#sqlite.stats()
        this.#log.debug(
          { keys: distinct.size, hits: after.hits - before.hits, misses: after.misses - before.misses, queries: after.queries - before.queries },
          'enrich lookups',
        )
      }
    } else {
      const table: LoadedTable = this.#file!.current()
      rows = table.rows
      names = table.names
    }

    const out: Rec[] = []
    const target = this.#target
    const width = names.length
    for (let i = 0; i < n; i++) {
      const record = records[i]!
      const key = keys !== undefined ? keys[i] : on.of(record)
      const payload = key === undefined ? undefined : rows.get(key)
      if (payload) {
        this.#matched++
        if (target !== undefined) {
          const obj: Rec = {}
          for (let j = 0; j < width; j++) obj[names[j]!] = payload[j]
          record[target] = obj
        } else {
          for (let j = 0; j < width; j++) record[names[j]!] = payload[j]
        }
        out.push(record)
        continue
      }
      this.#unmatched++
      switch (this.#missing) {
        case 'null':
          if (target !== undefined) record[target] = null
          else for (let j = 0; j < width; j++) record[names[j]!] = null
          out.push(record)
          break
        case 'drop':
          break
        case 'dead_letter':
          reject(i, this.#noRow(record, key))
          break
      }
    }
    return out
  }

  #noRow(record: Rec, key: string | undefined): RecordError {
    if (key === undefined) {
      const fields = this.#on.fields
      const message =
        fields.length === 1
          ? `enrich "${this.#id}": the record has no key: field "${fields[0]}" is ${describeMissing(record[fields[0]!])}`
          : `enrich "${this.#id}": the record has no key: a field of ${fields.map((f) => `"${f}"`).join(', ')} is missing, null or not a scalar`
      return new RecordError('SLC_RECORD_TRANSFORM', message)
    }
    return new RecordError('SLC_RECORD_TRANSFORM', `enrich "${this.#id}": no row in table for key ${this.#on.describe(record)}`)
  }

  /** Counters since start: matches, cache hits and misses, queries, reloads. */
  stats(): EnrichStats {
    const lookups = this.#sqlite?.stats() ?? { hits: 0, misses: 0, queries: 0, cached: 0, evictions: 0 }
    return {
      ...lookups,
      matched: this.#matched,
      unmatched: this.#unmatched,
      rows: this.#file?.current().rows.size ?? 0,
      reloads: this.#file?.reloads ?? 0,
      reload_failures: this.#file?.reloadFailures ?? 0,
    }
  }

  /** File tables: read the file again now and swap it in (true), or keep the old table on failure (false). */
  reloadNow(): Promise<boolean> {
    return this.#file?.reloadNow() ?? Promise.resolve(false)
  }

  /** File tables: reload if the file's modification time, size or inode changed (what the timer does). */
  checkForChanges(): Promise<boolean> {
    return this.#file?.checkForChanges() ?? Promise.resolve(false)
  }

  close(): void {
    const s = this.stats()
    this.#log.debug({ matched: s.matched, unmatched: s.unmatched, hits: s.hits, misses: s.misses, queries: s.queries, reloads: s.reloads }, 'enrich closed')
    this.#file?.close()
    this.#sqlite?.close()
  }
}

function toList(v: string | string[]): string[] {
  return typeof v === 'string' ? [v] : v
}

function describeMissing(v: unknown): string {
  if (v === undefined) return 'missing'
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  return typeof v === 'object' ? 'an object' : `not usable as a key (${String(v)})`
}

/** Build the transform; `deps.now` replaces the clock of the SQLite cache (tests). */
export async function createEnrich(opts: EnrichOptions, ctx: BuildContext, deps: EnrichDependencies = {}): Promise<EnrichTransform> {
  const t = opts.table
  const common = { id: ctx.id, file: resolve(ctx.baseDir, t.path), displayPath: t.path, key: toList(t.key), fields: opts.fields, prefix: opts.prefix }
  const table =
    t.type === 'file'
      ? await FileTable.open({
          ...common,
          format: t.format,
          csv: t.csv,
          maxRows: t.max_rows,
          reloadInterval: t.reload ? t.reload_interval : 0,
          log: ctx.log,
        })
      : new SqliteTable({
          ...common,
          query: t.query,
          maxEntries: t.cache.max_entries,
          ttl: t.cache.ttl,
          cacheMisses: t.cache.cache_misses,
          busyTimeout: t.busy_timeout,
          now: deps.now ?? Date.now,
        })
  return new EnrichTransform(ctx.id, ctx.log, opts, table)
}

export const enrich = defineTransform({
  type: 'enrich',
  status: 'beta',
  summary: 'Join each record with the row of a lookup table (CSV, JSON lines or SQLite) that has its key.',
  description:
    'A keyed lookup join: the value of `on` in each record is looked up in `table`, and the row\'s columns are added to the record ' +
    '(all but the key, or the `fields` listed; renamed with `prefix`; nested under `target` if set).\n\n' +
    '**Tables.**\n\n' +
    '- `type: file` reads a CSV or JSON-lines file whole into memory when the pipeline starts (at most `max_rows` rows), and by ' +
    'default reloads it when it changes: the new version replaces the old one between two batches, and a reload that fails keeps ' +
    'the old table and logs a warning. A row with an empty key is left out (with a warning); of two rows with the same key, the later one wins.\n' +
    '- `type: sqlite` opens a database read-only and runs `query` for the keys of each batch that are not in its cache: one ' +
    'query per batch (per 500 distinct keys), never one per record. Rows (and, with `cache_misses`, keys without a row) stay in a ' +
    'least-recently-used cache of `max_entries` for `ttl`. Of several rows for one key, the first is used.\n' +
    '- PostgreSQL tables will follow the same `query` / `{keys}` / `cache` shape.\n\n' +
    '**Keys** compare as text (`42` matches `"42"`); a composite key lists several fields in `on` and as many columns in `table.key`. ' +
    'A record whose key field is missing, null, or not a scalar counts as having no row.\n\n' +
    '**Records without a row.** With `join: left` (the default) they go on with the added fields set to null (`missing: null`), or ' +
    'are dropped (`missing: drop`) or dead-lettered with code `SLC_RECORD_TRANSFORM` and the key in the message (`missing: dead_letter`). ' +
    'With `join: inner` they are dropped, unless `missing: dead_letter`.\n\n' +
    'A missing or malformed table file, a query that does not compile, or a key or field column the table lacks stops the pipeline ' +
    'at start with a message naming the table.',
  options,
  examples: [
    {
      title: 'Country names from a CSV file',
      yaml: 'type: enrich\ninputs: [events]\ntable:\n  type: file\n  path: data/countries.csv\n  format: csv\n  key: code\non: country\nfields: [name, region]\nprefix: country_',
    },
    {
      title: 'Customers from SQLite, only records that match',
      yaml:
        'type: enrich\ninputs: [orders]\ntable:\n  type: sqlite\n  path: data/crm.db\n  query: SELECT id, name, tier FROM customers WHERE id IN ({keys})\n  key: id\n' +
        '  cache: { max_entries: 50000, ttl: 10m }\non: customer_id\ntarget: customer\njoin: inner',
    },
    {
      title: 'A composite key; unknown keys to the dead-letter output',
      yaml:
        'type: enrich\ninputs: [prices]\ntable:\n  type: file\n  path: data/rates.jsonl\n  format: jsonl\n  key: [currency, day]\n  reload_interval: 1m\n' +
        'on: [currency, date]\nfields: [rate]\nmissing: dead_letter',
    },
  ],
  build(opts, ctx) {
    return createEnrich(opts, ctx)
  },
})
