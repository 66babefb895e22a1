// A lookup table read whole from a CSV or JSON-lines file into a Map, optionally reloaded when the
// file changes. The file is decoded in chunks through the shared codecs, so `max_rows` stops a
// table that is too large before it is all in memory. A reload builds a complete new table and
// swaps it in with one assignment: a batch sees either the old table or the new one, never a mix.
import { open, stat } from 'node:fs/promises'
import { createDecoder, newDecodeOutput, resetDecodeOutput, type CsvOptions } from '../../codecs/index.js'
import { WorkBuffer } from '../../component/byte-source.js'
import { SluiceError, errorMessage, isSluiceError } from '../../core/errors.js'
import type { Logger } from '../../observe/log.js'
import { KeyReader, type Payload } from './keys.js'

const READ_SIZE = 1024 * 1024
/** Longest row of a table file, in bytes; a longer one fails the load. */
export const MAX_TABLE_ROW_BYTES = 1024 * 1024

export interface FileTableOptions {
  /** Component name, for messages. */
  id: string
  /** Absolute path of the table file. */
  file: string
  /** The path as the user wrote it, for messages. */
  displayPath: string
  format: 'csv' | 'jsonl'
  csv?: CsvOptions
  /** Table column(s) holding the key. */
  key: readonly string[]
  /** Columns to add; default: every column but the key columns. */
  fields?: readonly string[]
  /** Prefix of the added field names. */
  prefix: string
  maxRows: number
  /** Poll interval in ms; 0 or less: no polling. */
  reloadInterval: number
  log: Logger
}

/** One version of the table: added field names (prefix applied) and the payload of each key. */
export interface LoadedTable {
  readonly names: readonly string[]
  readonly rows: ReadonlyMap<string, Payload>
  /** Rows read from the file (rows with an empty key included). */
  readonly rowsRead: number
  /** Rows without a usable key value, left out. */
  readonly skipped: number
}

interface FileIdentity {
  mtimeMs: number
  size: number
  ino: number
}

export class FileTable {
  readonly #o: FileTableOptions
  #table: LoadedTable
  #identity: FileIdentity
  #timer: NodeJS.Timeout | undefined
  #inFlight: Promise<boolean> | undefined
  #reloads = 0
  #reloadFailures = 0
  #closed = false

  private constructor(o: FileTableOptions, table: LoadedTable, identity: FileIdentity) {
    this.#o = o
    this.#table = table
    this.#identity = identity
    if (o.reloadInterval > 0) {
      this.#timer = setInterval(() => void this.checkForChanges(), o.reloadInterval)
      this.#timer.unref()
    }
  }

  /** Load the file; throws a SluiceError when it is missing, unreadable, malformed or too large. */
  static async open(o: FileTableOptions): Promise<FileTable> {
    const { table, identity } = await load(o)
    o.log.debug({ table: o.displayPath, rows: table.rows.size, skipped: table.skipped }, 'enrich table loaded')
    if (table.skipped > 0) warnSkipped(o, table)
    return new FileTable(o, table, identity)
  }

  /** The current table version. Take it once per batch. */
  current(): LoadedTable {
    return this.#table
  }

  get reloads(): number {
    return this.#reloads
  }

  get reloadFailures(): number {
    return this.#reloadFailures
  }

  /**
   * Compare the file's modification time, size and inode with those of the loaded version and
   * reload when one differs. Resolves true when a new table was swapped in. Never rejects.
   */
  async checkForChanges(): Promise<boolean> {
    if (this.#inFlight !== undefined || this.#closed) return false
    let now: FileIdentity
    try {
      now = identityOf(await stat(this.#o.file))
    } catch (e) {
      // Missing for a moment while it is replaced, or gone: keep the current table.
      this.#o.log.debug({ table: this.#o.displayPath, err: errorMessage(e) }, 'enrich table not readable; keeping the loaded one')
      return false
    }
    const was = this.#identity
    if (now.mtimeMs === was.mtimeMs && now.size === was.size && now.ino === was.ino) return false
    return this.reloadNow()
  }

  /**
   * Read the file again now, whether or not it changed, and swap the new table in. A failure
   * (missing file, bad row, too many rows) keeps the current table, logs a warning and resolves
   * false. Concurrent calls share one reload.
   */
  reloadNow(): Promise<boolean> {
    if (this.#inFlight !== undefined) return this.#inFlight
    const run = async (): Promise<boolean> => {
      try {
        const { table, identity } = await load(this.#o)
        if (this.#closed) return false
        this.#table = table
        this.#identity = identity
        this.#reloads++
        this.#o.log.info({ table: this.#o.displayPath, rows: table.rows.size }, 'enrich table reloaded')
        if (table.skipped > 0) warnSkipped(this.#o, table)
        return true
      } catch (e) {
        this.#reloadFailures++
        this.#o.log.warn(
          { table: this.#o.displayPath, err: errorMessage(e) },
          `enrich "${this.#o.id}": reloading the table failed; keeping the previous version (${this.#table.rows.size} rows)`,
        )
        return false
      } finally {
        this.#inFlight = undefined
      }
    }
    this.#inFlight = run()
    return this.#inFlight
  }

  close(): void {
    this.#closed = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }
}

function identityOf(s: { mtimeMs: number; size: number; ino: number }): FileIdentity {
  return { mtimeMs: s.mtimeMs, size: s.size, ino: s.ino }
}

function warnSkipped(o: FileTableOptions, table: LoadedTable): void {
  o.log.warn(
    { table: o.displayPath, skipped: table.skipped },
    `enrich "${o.id}": ${table.skipped} row(s) of the table have no value in key column ${o.key.map((k) => `"${k}"`).join(', ')} and were left out`,
  )
}

async function load(o: FileTableOptions): Promise<{ table: LoadedTable; identity: FileIdentity }> {
  const where = `enrich "${o.id}": table ${o.displayPath}`
  let handle
  try {
    handle = await open(o.file, 'r')
  } catch (e) {
    throw fsError(where, e)
  }
  try {
    const identity = identityOf(await handle.stat())
    const decoder = createDecoder(o.format, { csv: o.csv, maxRecordBytes: MAX_TABLE_ROW_BYTES, maxRawBytes: 256 })
    const work = new WorkBuffer(READ_SIZE, MAX_TABLE_ROW_BYTES)
    const out = newDecodeOutput()
    const reader = new KeyReader(o.key)
    const keySet = new Set(o.key)
    // Rows go straight into payload arrays (no decoded row is kept). Without `fields` the columns
    // are every non-key column seen so far; a JSON-lines row may bring a new one, and payloads
    // built before it are padded with null at the end.
    const columns = new Set<string>()
    const source: string[] = o.fields !== undefined ? [...o.fields] : []
    const rows = new Map<string, Payload>()
    let widened = false
    let rowsRead = 0
    let skipped = 0
    for (;;) {
      const free = work.freeRegion()
      let n: number
      try {
        n = (await handle.read(work.buf, free.offset, free.length, null)).bytesRead
      } catch (e) {
        throw fsError(where, e)
      }
      const final = n === 0
      work.commit(n, final, decoder, out)
      const bad = out.errors[0]
      if (bad !== undefined) {
        throw new SluiceError('SLC_SOURCE_IO', `${where}, line ${bad.line ?? '?'}: ${bad.message}`)
      }
      const records = out.records
      rowsRead += records.length
      if (rowsRead > o.maxRows) {
        throw new SluiceError(
          'SLC_CONFIG_INVALID',
          `${where} has more than max_rows (${o.maxRows}) rows; raise \`table.max_rows\` if the memory is there, or use a \`sqlite\` table, which is queried with a bounded cache`,
        )
      }
      for (let i = 0; i < records.length; i++) {
        const row = records[i]!
        for (const c in row) {
          if (columns.has(c)) continue
          columns.add(c)
          if (o.fields === undefined && !keySet.has(c)) {
            source.push(c)
            if (rows.size > 0) widened = true
          }
        }
        const key = reader.of(row)
        if (key === undefined) {
          skipped++
          continue
        }
        const payload = new Array<unknown>(source.length)
        for (let j = 0; j < source.length; j++) payload[j] = row[source[j]!] ?? null
        rows.set(key, payload) // a later row replaces an earlier one with the same key
      }
      resetDecodeOutput(out)
      if (final) break
    }
    if (rowsRead > 0) {
      const missingKey = o.key.filter((k) => !columns.has(k))
      if (missingKey.length > 0) {
        throw new SluiceError('SLC_CONFIG_INVALID', `${where} has no column ${quoteList(missingKey)} to use as \`key\` (columns: ${quoteList([...columns])})`)
      }
      const missingFields = (o.fields ?? []).filter((f) => !columns.has(f))
      if (missingFields.length > 0) {
        throw new SluiceError('SLC_CONFIG_INVALID', `${where} has no column ${quoteList(missingFields)} listed in \`fields\` (columns: ${quoteList([...columns])})`)
      }
    }
    if (widened) {
      for (const payload of rows.values()) for (let j = payload.length; j < source.length; j++) payload.push(null)
    }
    return { table: { names: source.map((c) => o.prefix + c), rows, rowsRead, skipped }, identity }
  } finally {
    await handle.close().catch(() => undefined)
  }
}

function fsError(where: string, e: unknown): SluiceError {
  if (isSluiceError(e)) return e
  const code = (e as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return new SluiceError('SLC_SOURCE_NOT_FOUND', `${where} does not exist`, { cause: e })
  return new SluiceError('SLC_SOURCE_IO', `${where} cannot be read: ${errorMessage(e)}`, { cause: e })
}

function quoteList(names: readonly string[]): string {
  return names.map((n) => `"${n}"`).join(', ')
}
