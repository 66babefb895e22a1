// Column helpers of the sqlite sink: identifier quoting, SQL types of declared columns, type
// inference from a batch, and the conversion of record values to values better-sqlite3 can bind.
import type { Rec } from '../../core/batch.js'

export const COLUMN_TYPES = ['text', 'integer', 'real', 'blob', 'json', 'boolean'] as const
export type ColumnType = (typeof COLUMN_TYPES)[number]

/** SQL declared type per option type; json and boolean only change how values are converted. */
const SQL_TYPES: Record<ColumnType, string> = { text: 'TEXT', integer: 'INTEGER', real: 'REAL', blob: 'BLOB', json: 'TEXT', boolean: 'INTEGER' }

export function sqlTypeOf(type: ColumnType): string {
  return SQL_TYPES[type]
}

/** A double-quoted SQL identifier: any field name is safe once its quotes are doubled. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/**
 * The SQL type for a new column, from every value of `field` in the batch: numbers → INTEGER when
 * all are integers else REAL, booleans → INTEGER, Buffers → BLOB, everything else (strings,
 * objects stored as JSON, dates, mixed kinds, only nulls) → TEXT.
 */
export function inferSqlType(records: readonly Rec[], field: string): string {
  let ints = 0, reals = 0, blobs = 0, others = 0
  for (const r of records) {
    const v = r[field]
    if (v === null || v === undefined) continue
    switch (typeof v) {
      case 'number':
        if (Number.isInteger(v)) ints++
        else reals++
        break
      case 'bigint':
      case 'boolean':
        ints++
        break
      default:
        if (v instanceof Uint8Array) blobs++
        else others++
    }
  }
  if (others > 0 || (blobs > 0 && ints + reals > 0)) return 'TEXT'
  if (blobs > 0) return 'BLOB'
  if (reals > 0) return 'REAL'
  if (ints > 0) return 'INTEGER'
  return 'TEXT'
}

export type Converter = (v: unknown) => unknown

/**
 * A record value as a bindable SQLite value: booleans 0/1, undefined NULL, Dates ISO-8601 text,
 * byte arrays BLOB, other objects and arrays JSON text; strings, numbers and bigints unchanged.
 */
export function toSqlValue(v: unknown): unknown {
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'bigint':
      return v
    case 'boolean':
      return v ? 1 : 0
    case 'undefined':
      return null
    case 'object':
      if (v === null || Buffer.isBuffer(v)) return v
      if (v instanceof Date) return v.toISOString()
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
      return JSON.stringify(v)
    default:
      return String(v)
  }
}

/** The value of a declared `json` column: always JSON text (a string becomes a JSON string literal), so reading back with JSON.parse round-trips. */
export function toJsonText(v: unknown): unknown {
  return v === undefined || v === null ? null : JSON.stringify(v)
}
