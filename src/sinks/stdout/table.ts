// The `table` format of the stdout sink: one aligned text table per batch, columns in order of
// first appearance, widths measured per batch, long values cut, numbers right-aligned.
import type { Rec } from '../../core/batch.js'

/** Longest cell in characters; longer values end with an ellipsis. */
export const MAX_CELL = 40
const GAP = '  '

/** A value as one line of text: no raw newlines or tabs, so rows stay one line each. */
function cellText(v: unknown): string {
  let s: string
  switch (typeof v) {
    case 'string':
      s = v
      break
    case 'undefined':
      return ''
    case 'object':
      if (v === null) return ''
      s = v instanceof Date ? (Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString()) : safeJson(v)
      break
    default:
      s = String(v)
  }
  if (/[\n\r\t]/.test(s)) s = s.replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/\t/g, '\\t')
  return truncate(s)
}

function safeJson(v: object): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? String(v)
  } catch {
    return String(v)
  }
}

/** Cut to MAX_CELL code points (never inside a surrogate pair). */
function truncate(s: string): string {
  if (s.length <= MAX_CELL) return s
  const points = Array.from(s)
  return points.length <= MAX_CELL ? s : `${points.slice(0, MAX_CELL - 1).join('')}…`
}

/** Width in code points (what a terminal shows for most text; wide CJK glyphs are not measured). */
function width(s: string): number {
  let n = 0
  for (const _ of s) n++
  return n
}

/**
 * The table text of a batch, ending with a blank line:
 *
 *   id  name   amount
 *   --  -----  ------
 *    1  Alice   12.50
 */
export function formatTable(records: readonly Rec[]): string {
  if (records.length === 0) return ''
  const index = new Map<string, number>()
  for (const r of records) for (const k in r) if (!index.has(k)) index.set(k, index.size)
  const columns = [...index.keys()]
  const cells: string[][] = []
  const widths = columns.map((c) => width(truncate(c)))
  // A column is right-aligned when every non-empty value in it is a number.
  const numeric = columns.map(() => true)
  for (const r of records) {
    const row = new Array<string>(columns.length)
    for (let c = 0; c < columns.length; c++) {
      const v = r[columns[c]!]
      if (v !== null && v !== undefined && typeof v !== 'number' && typeof v !== 'bigint') numeric[c] = false
      const text = cellText(v)
      row[c] = text
      const w = width(text)
      if (w > widths[c]!) widths[c] = w
    }
    cells.push(row)
  }
  const line = (row: readonly string[]) => {
    let out = ''
    for (let c = 0; c < row.length; c++) {
      const text = row[c]!
      const pad = ' '.repeat(widths[c]! - width(text))
      out += (c === 0 ? '' : GAP) + (numeric[c] ? pad + text : text + pad)
    }
    return out.trimEnd() + '\n'
  }
  let out = line(columns.map(truncate))
  out += line(widths.map((w) => '-'.repeat(w)))
  for (const row of cells) out += line(row)
  return out + '\n'
}
