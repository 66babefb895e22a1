// The sqlite sink at run time: one IMMEDIATE transaction per batch through a cached prepared
// INSERT (or upsert), schema created and widened from the data, and a row-by-row retry that
// isolates the records a constraint rejects.
//
// Throughput (npx tsx bench/micro/sinks/sqlite.bench.ts: 1M records of 8 fields, batches of
// 10,000, file DB in os.tmpdir(), Node 20, 2-core VM shared with other jobs, median of 3 rounds):
// with one row per INSERT the sink ran on a par with raw better-sqlite3 running that statement
// (~430k and ~400k records/s with upsert_key, raw 420–440k, in one run), so the statement was the
// cost; with 32 rows per INSERT (ROWS_PER_INSERT), 1.04M and 850k/s beside raw single-row
// 600–620k in the next run. F1 (bench: the quickstart's orders, CSV → filter → map → SQLite upsert,
// 2M rows, 5 interleaved runs): 5.39 → 4.18 s. Arguments are spread into `run(...args)`: binding
// an array was ~13% slower (683k vs 782k/s).
import fs from 'node:fs'
import nodePath from 'node:path'
import Database from 'better-sqlite3'
import type { BuildContext, Sink } from '../../component/define.js'
import type { Rec } from '../../core/batch.js'
import { isSluiceError, PartialBatchError, PermanentError, RecordError } from '../../core/errors.js'
import type { Logger } from '../../observe/log.js'
import { classifyFsError } from '../../delivery/classify-fs-error.js'
import { classifySqliteError, toDeliveryError } from './classify-error.js'
import { inferSqlType, quoteIdent, sqlTypeOf, toJsonText, toSqlValue, type ColumnType, type Converter } from './columns.js'
import type { SqliteOptions } from './index.js'

/** A prepared INSERT for one set of columns, with the value converter of each column. */
interface PreparedInsert {
  columns: string[]
  converters: Converter[]
  statement: Database.Statement
  /** The same INSERT for `rows` rows at once (VALUES (…), (…), …), when there are columns to bind. */
  many: { statement: Database.Statement; rows: number } | undefined
}

/**
 * Rows per INSERT on the batch path, and the most bound values per statement (SQLite's limit was
 * 999 before 3.32; fewer values also keep the spread argument list short). One row per statement
 * costs a bind, step and reset each: raw better-sqlite3, 1M upserts of 8 columns in batches of
 * 10,000, went from 460–520k rows/s with one row per statement to 850–960k with 25–50.
 */
const ROWS_PER_INSERT = 32
const MAX_BOUND_VALUES = 999

/** Distinct column sets kept prepared; data with a stable shape uses one. */
const STATEMENT_CACHE_SIZE = 16

interface TableColumn {
  name: string
  pk: number
}

export class SqliteSink implements Sink {
  private readonly file: string
  private readonly table: string
  private readonly quotedTable: string
  private readonly log: Logger
  private db: Database.Database | undefined
  private closed = false
  /** Columns of the table in table order; empty until the table exists. */
  private columns: string[] = []
  private readonly known = new Set<string>()
  private tableExists = false
  private readonly statements = new Map<string, PreparedInsert>()
  private savepoint!: { begin: Database.Statement; release: Database.Statement; rollback: Database.Statement }
  /** Writes a prepared insert for every record not marked in `skip`, in the caller's transaction. */
  private insertAll!: (prepared: PreparedInsert, records: readonly Rec[], skip: Uint8Array | undefined) => void
  private insertRowByRow!: (prepared: PreparedInsert, records: readonly Rec[], skip: Uint8Array | undefined, failed: Map<number, Error>) => void

  constructor(
    private readonly opts: SqliteOptions,
    ctx: BuildContext,
  ) {
    this.file = nodePath.resolve(ctx.baseDir, opts.path)
    this.table = opts.table
    this.quotedTable = quoteIdent(opts.table)
    this.log = ctx.log
  }

  open(): void {
    if (this.db) return
    if (!this.opts.create_table && !fs.existsSync(this.file)) {
      throw new PermanentError(`Database file ${this.file} does not exist and create_table is false: create the table first or set create_table: true.`)
    }
    try {
      fs.mkdirSync(nodePath.dirname(this.file), { recursive: true })
    } catch (e) {
      throw classifyFsError(e, 'create the folder of', this.file)
    }
    let db: Database.Database
    try {
      db = new Database(this.file)
    } catch (e) {
      throw new PermanentError(`Cannot open SQLite database ${this.file}: ${(e as Error).message}.`, { cause: e })
    }
    try {
      db.pragma(`journal_mode = ${this.opts.journal_mode.toUpperCase()}`)
      db.pragma(`synchronous = ${this.opts.synchronous.toUpperCase()}`)
      // Without a busy timeout a second writer (a reader checkpointing WAL, another process) fails
      // at once with SQLITE_BUSY; waiting a little turns most of those into successes.
      db.pragma(`busy_timeout = ${this.opts.busy_timeout}`)
      this.db = db
      this.prepareTransactions(db)
      this.loadTable()
      if (!this.tableExists && !this.opts.create_table) {
        throw new PermanentError(`Table "${this.table}" does not exist in ${this.file} and create_table is false: create it first or set create_table: true.`)
      }
      if (this.opts.columns) this.ensureDeclaredColumns(this.opts.columns)
      if (this.tableExists) this.ensureUpsertIndex()
    } catch (e) {
      db.close()
      this.db = undefined
      throw isSluiceError(e) ? e : toDeliveryError(e, `Cannot prepare table "${this.table}" in ${this.file}`)
    }
  }

  async write(records: Rec[]): Promise<void> {
    if (records.length === 0) return
    if (this.closed) throw new PermanentError(`The sqlite sink for ${this.file} is closed.`)
    if (!this.db) this.open()
    const failed = new Map<number, Error>()
    const present = this.scan(records, failed)

    if (!this.tableExists && present.size === 0) {
      for (let i = 0; i < records.length; i++) {
        if (!failed.has(i)) failed.set(i, new RecordError('SLC_RECORD_REJECTED', `A record without fields cannot define the columns of table "${this.table}".`))
      }
    }
    // Nothing left to write: no schema change either (a table must not be shaped by rejected records).
    if (failed.size === records.length) throw new PartialBatchError(failed)
    try {
      if (!this.tableExists) this.createTable(records, present)
      else if (this.opts.new_columns === 'add') this.addColumns(records, present)
    } catch (e) {
      throw isSluiceError(e) ? e : toDeliveryError(e, `Cannot change the schema of table "${this.table}"`)
    }

    let skip: Uint8Array | undefined
    if (failed.size > 0) {
      skip = new Uint8Array(records.length)
      for (const i of failed.keys()) skip[i] = 1
    }

    const prepared = this.statementFor(this.columns.filter((c) => present.has(c)))
    try {
      this.insertAll(prepared, records, skip)
    } catch (e) {
      if (classifySqliteError(e) !== 'record') throw toDeliveryError(e, `Cannot write to table "${this.table}"`)
      // One bad row aborted the batch: write it again row by row, so the good rows commit and
      // only the bad ones are dead-lettered.
      try {
        this.insertRowByRow(prepared, records, skip, failed)
      } catch (e2) {
        throw toDeliveryError(e2, `Cannot write to table "${this.table}"`)
      }
    }
    if (failed.size > 0) throw new PartialBatchError(failed)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.statements.clear()
    this.db?.close()
    this.db = undefined
  }

  // ─── Schema ─────────────────────────────────────────────────────────────────────────────

  private tableInfo(): TableColumn[] {
    return this.db!.pragma(`table_info(${this.quotedTable})`) as TableColumn[]
  }

  private loadTable(): void {
    const info = this.tableInfo()
    this.tableExists = info.length > 0
    this.columns = info.map((c) => c.name)
    this.known.clear()
    for (const c of this.columns) this.known.add(c)
    this.statements.clear()
  }

  /** Declared columns missing from an existing table are added; a missing table is created now. */
  private ensureDeclaredColumns(declared: Record<string, ColumnType>): void {
    const db = this.db!
    if (!this.tableExists) {
      const defs = Object.entries(declared).map(([name, type]) => `${quoteIdent(name)} ${sqlTypeOf(type)}`)
      db.exec(`CREATE TABLE IF NOT EXISTS ${this.quotedTable} (${defs.join(', ')})`)
      this.loadTable()
      return
    }
    const missing = Object.keys(declared).filter((c) => !this.known.has(c))
    if (missing.length === 0) return
    if (!this.opts.create_table) {
      throw new PermanentError(`Table "${this.table}" in ${this.file} lacks the declared column(s) ${missing.join(', ')} and create_table is false.`)
    }
    db.transaction(() => {
      for (const name of missing) db.exec(`ALTER TABLE ${this.quotedTable} ADD COLUMN ${quoteIdent(name)} ${sqlTypeOf(declared[name]!)}`)
    })()
    this.loadTable()
  }

  /** The table from the first batch: one column per field, typed from the batch's values. */
  private createTable(records: readonly Rec[], present: Set<string>): void {
    const defs = [...present].map((f) => `${quoteIdent(f)} ${inferSqlType(records, f)}`)
    this.db!.exec(`CREATE TABLE IF NOT EXISTS ${this.quotedTable} (${defs.join(', ')})`)
    this.loadTable()
    this.ensureUpsertIndex()
    this.log.info({ table: this.table, columns: this.columns }, 'Created table from the first batch.')
  }

  private addColumns(records: readonly Rec[], present: Set<string>): void {
    let added: string[] | undefined
    for (const f of present) if (!this.known.has(f)) (added ??= []).push(f)
    if (!added) return
    const db = this.db!
    db.transaction(() => {
      for (const f of added) db.exec(`ALTER TABLE ${this.quotedTable} ADD COLUMN ${quoteIdent(f)} ${inferSqlType(records, f)}`)
    })()
    this.loadTable()
    this.log.info({ table: this.table, added }, 'Added columns for new fields.')
  }

  /**
   * ON CONFLICT needs a unique index (or primary key) on exactly the key columns; reuse one that
   * exists, else create one. Existing duplicate keys make creation fail: a permanent error.
   */
  private ensureUpsertIndex(): void {
    const key = this.opts.upsert_key
    if (!key) return
    const missing = key.filter((k) => !this.known.has(k))
    if (missing.length > 0) {
      throw new PermanentError(`upsert_key column(s) ${missing.join(', ')} are not columns of table "${this.table}".`)
    }
    const db = this.db!
    const sameSet = (cols: string[]) => cols.length === key.length && key.every((k) => cols.includes(k))
    if (sameSet(this.tableInfo().filter((c) => c.pk > 0).map((c) => c.name))) return
    const indexes = db.pragma(`index_list(${this.quotedTable})`) as { name: string; unique: number; partial: number }[]
    for (const idx of indexes) {
      if (idx.unique !== 1 || idx.partial === 1) continue
      const cols = (db.pragma(`index_info(${quoteIdent(idx.name)})`) as { name: string }[]).map((c) => c.name)
      if (sameSet(cols)) return
    }
    try {
      db.exec(`CREATE UNIQUE INDEX IF NOT EXISTS ${quoteIdent(`${this.table}_upsert_key`)} ON ${this.quotedTable} (${key.map(quoteIdent).join(', ')})`)
    } catch (e) {
      if (classifySqliteError(e) === 'record') {
        throw new PermanentError(`Cannot create the unique index for upsert_key on table "${this.table}": existing rows have duplicate keys (${(e as Error).message}).`, { cause: e })
      }
      throw e
    }
  }

  // ─── Rows ───────────────────────────────────────────────────────────────────────────────

  /**
   * One pass over the batch: records rejected before any SQL runs (a missing upsert key; a new
   * field when new_columns is `reject`), and the union of the field names of the others.
   */
  private scan(records: readonly Rec[], failed: Map<number, Error>): Set<string> {
    const present = new Set<string>()
    const key = this.opts.upsert_key
    const known = this.known
    const rejectNew = this.tableExists && this.opts.new_columns === 'reject'
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!
      if (key !== undefined) {
        const missing = key.find((k) => r[k] === undefined || r[k] === null)
        if (missing !== undefined) {
          failed.set(i, new RecordError('SLC_RECORD_REJECTED', `Upsert key field "${missing}" is missing or null.`))
          continue
        }
      }
      if (rejectNew) {
        for (const k in r) {
          if (!known.has(k)) {
            failed.set(i, new RecordError('SLC_RECORD_REJECTED', `Field "${k}" is not a column of table "${this.table}" (new_columns: reject).`))
            break
          }
          present.add(k)
        }
      } else {
        for (const k in r) present.add(k)
      }
    }
    return present
  }

  /**
   * The INSERT for a column set, prepared once per set. Only columns present in the batch are
   * listed, so columns the data never mentions keep their DEFAULT and an upsert does not clear them.
   */
  private statementFor(columns: string[]): PreparedInsert {
    const cacheKey = columns.join('\u0000')
    const cached = this.statements.get(cacheKey)
    if (cached) return cached
    const declared = this.opts.columns
    const rows = Math.min(ROWS_PER_INSERT, Math.floor(MAX_BOUND_VALUES / Math.max(1, columns.length)))
    const prepared: PreparedInsert = {
      columns,
      converters: columns.map((c) => (declared?.[c] === 'json' ? toJsonText : toSqlValue)),
      statement: this.db!.prepare(this.insertSql(columns, 1)),
      // The upsert clause applies to each row in turn, so a key repeated within one statement
      // updates the row the earlier one wrote, as row by row.
      many: columns.length > 0 && rows > 1 ? { statement: this.db!.prepare(this.insertSql(columns, rows)), rows } : undefined,
    }
    if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.delete(this.statements.keys().next().value!)
    this.statements.set(cacheKey, prepared)
    return prepared
  }

  /** The INSERT (or upsert) of `rows` rows of `columns`. */
  private insertSql(columns: string[], rows: number): string {
    if (columns.length === 0) return `INSERT INTO ${this.quotedTable} DEFAULT VALUES`
    const row = `(${columns.map(() => '?').join(', ')})`
    let sql = `INSERT INTO ${this.quotedTable} (${columns.map(quoteIdent).join(', ')}) VALUES ${new Array<string>(rows).fill(row).join(', ')}`
    const key = this.opts.upsert_key
    if (key) {
      const updates = columns.filter((c) => !key.includes(c)).map((c) => `${quoteIdent(c)} = excluded.${quoteIdent(c)}`)
      sql += ` ON CONFLICT (${key.map(quoteIdent).join(', ')}) DO ${updates.length > 0 ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING'}`
    }
    return sql
  }

  private prepareTransactions(db: Database.Database): void {
    this.savepoint = {
      begin: db.prepare('SAVEPOINT sluice_row'),
      release: db.prepare('RELEASE sluice_row'),
      rollback: db.prepare('ROLLBACK TO sluice_row'),
    }
    // IMMEDIATE takes the write lock at BEGIN, so a concurrent writer makes us wait (busy_timeout)
    // up front instead of failing at the first INSERT with a lock upgrade we cannot wait for.
    // A row the table rejects fails its whole statement and the transaction; insertRowByRow then
    // writes the batch again one row at a time.
    this.insertAll = db.transaction((prepared: PreparedInsert, records: readonly Rec[], skip: Uint8Array | undefined) => {
      const { columns, converters, statement, many } = prepared
      const n = columns.length
      // Args arrays reused for every statement: allocation per batch, not per record.
      const args = new Array<unknown>(n)
      let i = 0
      if (many !== undefined) {
        const values = new Array<unknown>(n * many.rows)
        let rows = 0
        let start = 0
        for (; i < records.length; i++) {
          if (skip !== undefined && skip[i] === 1) continue
          if (rows === 0) start = i
          const r = records[i]!
          for (let j = 0, v = rows * n; j < n; j++, v++) values[v] = converters[j]!(r[columns[j]!])
          if (++rows === many.rows) {
            many.statement.run(...values)
            rows = 0
          }
        }
        // Fewer than a statement's rows left: one at a time, from the first not written.
        if (rows === 0) return
        i = start
      }
      for (; i < records.length; i++) {
        if (skip !== undefined && skip[i] === 1) continue
        const r = records[i]!
        for (let j = 0; j < n; j++) args[j] = converters[j]!(r[columns[j]!])
        statement.run(...args)
      }
    }).immediate
    // A savepoint per row makes each row all-or-nothing (trigger effects included) whatever the
    // table's conflict clause, inside one transaction so the batch still commits once.
    this.insertRowByRow = db.transaction((prepared: PreparedInsert, records: readonly Rec[], skip: Uint8Array | undefined, failed: Map<number, Error>) => {
      const { columns, converters, statement } = prepared
      const n = columns.length
      const args = new Array<unknown>(n)
      const sp = this.savepoint
      for (let i = 0; i < records.length; i++) {
        if (skip !== undefined && skip[i] === 1) continue
        const r = records[i]!
        sp.begin.run()
        try {
          for (let j = 0; j < n; j++) args[j] = converters[j]!(r[columns[j]!])
          statement.run(...args)
          sp.release.run()
        } catch (e) {
          sp.rollback.run()
          sp.release.run()
          if (classifySqliteError(e) !== 'record') throw e
          failed.set(i, new RecordError('SLC_RECORD_REJECTED', `Table "${this.table}" rejected the record: ${(e as Error).message}`, { cause: e }))
        }
      }
    }).immediate
  }
}
