// Lookup keys and row payloads of the `enrich` transform, shared by every kind of table.
//
// A key is compared as text: the record's value and the table's value are both turned into a
// string (`42` and `"42"` match), and the parts of a composite key are joined with a NUL. A
// payload is the list of a row's values in the order of the table's `names` (the added field
// names, prefix applied), so merging it into a record is one loop over two arrays.
import type { Rec } from '../../core/batch.js'
import { previewValue } from '../../observe/format.js'

/** What `enrich` adds for one row: values in the order of the table's column names. */
export type Payload = unknown[]

const SEP = '\u0000'

/** The text form of one key part, or undefined when the value cannot be a key (null, missing, an object). */
export function keyPart(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return v
    case 'number':
      return Number.isFinite(v) ? String(v) : undefined
    case 'bigint':
      return v.toString()
    case 'boolean':
      return v ? 'true' : 'false'
    default:
      return undefined
  }
}

/** Reads the lookup key of records (or table rows) from one or more fields. */
export class KeyReader {
  readonly fields: readonly string[]
  readonly #single: string | undefined

  constructor(fields: readonly string[]) {
    this.fields = fields
    this.#single = fields.length === 1 ? fields[0] : undefined
  }

  /** The key of `row`, or undefined when a key field is missing, null or not a scalar. */
  of(row: Rec): string | undefined {
    if (this.#single !== undefined) return keyPart(row[this.#single])
    let key = ''
    const fields = this.fields
    for (let i = 0; i < fields.length; i++) {
      const part = keyPart(row[fields[i]!])
      if (part === undefined) return undefined
      key = i === 0 ? part : key + SEP + part
    }
    return key
  }

  /** The key of a row given as an array, its key columns at `indexes`. */
  ofArray(row: unknown[], indexes: readonly number[]): string | undefined {
    if (indexes.length === 1) return keyPart(row[indexes[0]!])
    let key = ''
    for (let i = 0; i < indexes.length; i++) {
      const part = keyPart(row[indexes[i]!])
      if (part === undefined) return undefined
      key = i === 0 ? part : key + SEP + part
    }
    return key
  }

  /** The raw key values of a record, for binding to a query (booleans become 1/0 for SQLite). */
  values(row: Rec): unknown[] {
    const fields = this.fields
    const out = new Array<unknown>(fields.length)
    for (let i = 0; i < fields.length; i++) {
      const v = row[fields[i]!]
      out[i] = typeof v === 'boolean' ? (v ? 1 : 0) : v
    }
    return out
  }

  /** A key as a user reads it in a message: `"US"`, or `["US", 2]` for a composite key. */
  describe(row: Rec): string {
    const vals = this.fields.map((f) => row[f])
    return previewValue(vals.length === 1 ? vals[0] : vals)
  }
}

