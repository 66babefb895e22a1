// Formats config errors for people, in the rustc layout: code and message, file:line:column, the
// offending line with a caret under the token, then expected / found / help. Never a stack trace.
import type { ConfigError, ConfigErrors } from '../core/errors.js'

export interface FormatOptions {
  /** The config text, for the source snippet; without it only the location is printed. */
  source?: string
  /** ANSI colours (for a terminal). */
  color?: boolean
}

const STYLE = { error: '1;31', bold: '1', gutter: '1;34', caret: '1;31' } as const

/**
 * One error:
 *
 *     error[SLC_CONFIG_UNKNOWN_KEY]: unknown option "lingr" in sink "db"
 *       --> examples/bad.yaml:12:5
 *        |
 *     12 |     lingr: 200ms
 *        |     ^^^^^
 *        = expected: one of path, table, batch, retry, upsert_key
 *        = help: did you mean "linger"?
 */
export function formatConfigError(e: ConfigError, opts: FormatOptions = {}): string {
  const paint = (style: keyof typeof STYLE, s: string) => (opts.color ? `\x1b[${STYLE[style]}m${s}\x1b[0m` : s)
  const { file, line, column } = e.location
  const width = line === undefined ? 1 : String(line).length
  const pad = ' '.repeat(width)
  const bar = paint('gutter', '|')
  const out = [`${paint('error', `error[${e.code}]`)}${paint('bold', `: ${e.message}`)}`]

  const where = line === undefined ? file : `${file ?? '<config>'}:${line}:${column ?? 1}`
  if (where !== undefined) out.push(`${pad}${paint('gutter', '-->')} ${where}`)

  const text = line === undefined ? undefined : opts.source?.split(/\r?\n/)[line - 1]
  if (text !== undefined) {
    const start = Math.max(0, (column ?? 1) - 1)
    // Keep the line's own tabs in the indent so the caret lines up however tabs render.
    const indent = text.slice(0, start).replace(/[^\t]/g, ' ')
    out.push(`${pad} ${bar}`)
    out.push(`${paint('gutter', `${line} |`)} ${text}`)
    out.push(`${pad} ${bar} ${indent}${paint('caret', '^'.repeat(spanLength(text, start)))}`)
  }
  if (e.expected !== undefined) out.push(`${pad} ${paint('gutter', '=')} ${paint('bold', 'expected:')} ${e.expected}`)
  if (e.found !== undefined) out.push(`${pad} ${paint('gutter', '=')} ${paint('bold', 'found:')} ${e.found}`)
  if (e.suggestion !== undefined) out.push(`${pad} ${paint('gutter', '=')} ${paint('bold', 'help:')} did you mean "${e.suggestion}"?`)
  return out.join('\n')
}

/** Every error of a failed load, one block each, then a count when there are several. */
export function formatConfigErrors(errs: ConfigErrors, opts: FormatOptions = {}): string {
  const blocks = errs.errors.map((e) => formatConfigError(e, opts))
  if (errs.errors.length > 1) blocks.push(`${opts.color ? '\x1b[1;31merror\x1b[0m' : 'error'}: found ${errs.errors.length} config errors`)
  return blocks.join('\n\n')
}

/**
 * How many characters of the YAML token starting at `start` to underline: a quoted string or a
 * flow collection to its end, a key to its colon, a plain value to the end of the line (or, in
 * a flow collection, to the next `,` `]` `}`), never including a trailing comment.
 */
function spanLength(line: string, start: number): number {
  const rest = line.slice(start)
  const first = rest[0]
  if (first === '"' || first === "'") {
    const close = first === '"' ? /(?<!\\)"/g : /'/g
    close.lastIndex = 1
    const m = close.exec(rest)
    return m ? m.index + 1 : rest.length
  }
  if (first === '[' || first === '{') {
    let depth = 0
    for (let i = 0; i < rest.length; i++) {
      if (rest[i] === '[' || rest[i] === '{') depth++
      else if ((rest[i] === ']' || rest[i] === '}') && --depth === 0) return i + 1
    }
    return rest.length
  }
  const inFlow = /[[{]/.test(line.slice(0, start))
  const stop = (inFlow ? /:(?=\s|$)|\s#|[,\]}]/ : /:(?=\s|$)|\s#/).exec(rest)
  const token = (stop ? rest.slice(0, stop.index) : rest).trimEnd()
  return Math.max(1, token.length)
}
