// Field templates for connector options that vary per record (`events-{country}` for a Kafka
// topic, later S3 object keys): `{field}` is replaced by the record's field, `{a.b}` reads a
// nested field, `{{` and `}}` are literal braces. Compiled once at build time into parts, so the
// hot path only concatenates.
import type { Rec } from '../core/batch.js'

const FIELD = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/

export interface Template {
  /** The text when the template has no field (a constant), else undefined. */
  readonly constant: string | undefined
  /** Field paths the template reads, in order of appearance. */
  readonly fields: readonly string[]
  /**
   * The rendered text, or `{ missing }` naming the first field that is absent or null (the caller
   * decides whether that rejects the record). Objects render as JSON, other values as text.
   */
  render(record: Rec): string | { missing: string }
}

/** Parse `text`; throws an Error with a message fit for a config diagnostic when it is malformed. */
export function compileTemplate(text: string): Template {
  const literals: string[] = []
  const fields: string[] = []
  let literal = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === '{' && text[i + 1] === '{') {
      literal += '{'
      i++
    } else if (c === '}' && text[i + 1] === '}') {
      literal += '}'
      i++
    } else if (c === '{') {
      const end = text.indexOf('}', i)
      if (end === -1) throw new Error(`unclosed "{" at position ${i + 1} (write "{{" for a literal brace)`)
      const name = text.slice(i + 1, end).trim()
      if (!FIELD.test(name)) throw new Error(`"{${name}}" is not a field name (letters, digits, "_", dots for nested fields)`)
      literals.push(literal)
      fields.push(name)
      literal = ''
      i = end
    } else if (c === '}') {
      throw new Error(`unmatched "}" at position ${i + 1} (write "}}" for a literal brace)`)
    } else literal += c
  }
  literals.push(literal)
  if (fields.length === 0) {
    const constant = literals[0]!
    return { constant, fields, render: () => constant }
  }
  const paths = fields.map((f) => f.split('.'))
  return {
    constant: undefined,
    fields,
    render(record) {
      let out = literals[0]!
      for (let k = 0; k < paths.length; k++) {
        const v = readPath(record, paths[k]!)
        if (v === undefined || v === null) return { missing: fields[k]! }
        out += (typeof v === 'object' && !(v instanceof Date) ? JSON.stringify(v) : v instanceof Date ? v.toISOString() : String(v)) + literals[k + 1]!
      }
      return out
    },
  }
}

function readPath(record: Rec, path: string[]): unknown {
  let v: unknown = record
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<string, unknown>)[p]
  }
  return v
}
