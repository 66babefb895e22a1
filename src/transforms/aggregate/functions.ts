// The aggregation functions of `aggregate` and the parser of their calls (`sum(amount)`,
// `percentile(latency_ms, 0.99)`, `collect(user, 10)`). Parsed once when the options are
// validated, so a typo is a config error at `aggregations.<name>` with a near-miss suggestion.
import { suggest } from '../../component/suggest.js'

export type AggFn =
  | 'count'
  | 'sum'
  | 'min'
  | 'max'
  | 'avg'
  | 'first'
  | 'last'
  | 'count_distinct'
  | 'approx_count_distinct'
  | 'percentile'
  | 'collect'

/** One parsed aggregation call. */
export interface AggCall {
  fn: AggFn
  /** The argument: a field name or a CEL expression; undefined for `count()`. */
  arg?: string
  /** The argument is a plain field name (read directly, no expression). */
  field: boolean
  /** percentile: the quantile in [0, 1]. */
  q?: number
  /** collect: most values kept. */
  limit?: number
}

interface FnSpec {
  signature: string
  description: string
  /** Allowed argument counts (the value argument included). */
  arity: readonly number[]
}

/** Every function, for parsing, "did you mean" and the docs. */
export const AGG_FUNCTIONS: Record<string, FnSpec> = {
  count: { signature: 'count()', description: 'Number of records (`count(x)`: records where `x` is not null).', arity: [0, 1] },
  sum: { signature: 'sum(x)', description: 'Sum of the numbers, with compensated (Neumaier) addition: the result does not depend on the order of the records or on threads.', arity: [1] },
  min: { signature: 'min(x)', description: 'Smallest value (numbers, or strings compared as text; numbers sort before strings).', arity: [1] },
  max: { signature: 'max(x)', description: 'Largest value (numbers, or strings compared as text).', arity: [1] },
  avg: { signature: 'avg(x)', description: 'Mean of the numbers.', arity: [1] },
  first: { signature: 'first(x)', description: 'Value of the earliest record by event time (ties: the first to arrive).', arity: [1] },
  last: { signature: 'last(x)', description: 'Value of the latest record by event time (ties: the last to arrive).', arity: [1] },
  count_distinct: { signature: 'count_distinct(x)', description: 'Exact number of distinct values (keeps every value: mind the memory).', arity: [1] },
  approx_count_distinct: {
    signature: 'approx_count_distinct(x)',
    description: 'Estimated number of distinct values (HyperLogLog, 4 KiB per group, about 1.6% standard error).',
    arity: [1],
  },
  percentile: { signature: 'percentile(x, q)', description: 'Estimated quantile `q` (0 to 1) of the numbers (t-digest, compression 100).', arity: [2] },
  p50: { signature: 'p50(x)', description: 'Median, as `percentile(x, 0.5)`.', arity: [1] },
  p90: { signature: 'p90(x)', description: '90th percentile, as `percentile(x, 0.9)`.', arity: [1] },
  p99: { signature: 'p99(x)', description: '99th percentile, as `percentile(x, 0.99)`.', arity: [1] },
  collect: { signature: 'collect(x, limit)', description: 'List of the values in arrival order, at most `limit` (default 100).', arity: [1, 2] },
}

const SHORTHAND_Q: Record<string, number> = { p50: 0.5, p90: 0.9, p99: 0.99 }
const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*$/
const CALL_RE = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(([\s\S]*)\)\s*$/

/** Parse `fn(args)`; a string is the reason it is not valid. */
export function parseAggregation(text: string): AggCall | string {
  const m = CALL_RE.exec(text)
  if (!m) {
    const name = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(text)?.[1]
    if (name && AGG_FUNCTIONS[name.toLowerCase()]) return `expected a call such as \`${AGG_FUNCTIONS[name.toLowerCase()]!.signature}\`, found \`${text}\` (parentheses missing)`
    return `expected a function call such as \`sum(amount)\` or \`count()\`, found \`${text}\``
  }
  const name = m[1]!
  const spec = AGG_FUNCTIONS[name]
  if (!spec) {
    const near = suggest(name, Object.keys(AGG_FUNCTIONS))
    return `unknown aggregation function \`${name}\`${near ? `; did you mean \`${near}\`?` : ''} (known: ${Object.keys(AGG_FUNCTIONS).join(', ')})`
  }
  const args = splitArgs(m[2]!)
  if (typeof args === 'string') return args
  if (!spec.arity.includes(args.length)) {
    const n = spec.arity.map(String).join(' or ')
    return `\`${name}\` takes ${n} argument${spec.arity.length === 1 && spec.arity[0] === 1 ? '' : 's'} (\`${spec.signature}\`), found ${args.length}`
  }
  if (name === 'count') return args.length === 0 ? { fn: 'count', field: false } : valueArg('count', args[0]!)
  if (name in SHORTHAND_Q) return { ...valueArg('percentile', args[0]!), q: SHORTHAND_Q[name] }
  if (name === 'percentile') {
    const q = Number(args[1])
    if (!/^\s*\d*\.?\d+(?:e-?\d+)?\s*$/i.test(args[1]!) || !(q >= 0 && q <= 1)) {
      return `the quantile of \`percentile\` must be a number from 0 to 1 (0.99 for the 99th percentile), found \`${args[1]!.trim()}\``
    }
    return { ...valueArg('percentile', args[0]!), q }
  }
  if (name === 'collect') {
    let limit = 100
    if (args.length === 2) {
      limit = Number(args[1])
      if (!/^\s*\d+\s*$/.test(args[1]!) || limit < 1 || limit > 1_000_000) {
        return `the limit of \`collect\` must be a whole number from 1 to 1000000, found \`${args[1]!.trim()}\``
      }
    }
    return { ...valueArg('collect', args[0]!), limit }
  }
  return valueArg(name as AggFn, args[0]!)
}

function valueArg(fn: AggFn, arg: string): AggCall {
  const a = arg.trim()
  return { fn, arg: a, field: IDENT_RE.test(a) }
}

/** Split top-level comma-separated arguments, respecting (), [], {} and quotes. */
function splitArgs(text: string): string[] | string {
  if (text.trim() === '') return []
  const out: string[] = []
  let depth = 0
  let quote = ''
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quote) {
      if (c === '\\') i++
      else if (c === quote) quote = ''
      continue
    }
    if (c === '"' || c === "'") quote = c
    else if (c === '(' || c === '[' || c === '{') depth++
    else if (c === ')' || c === ']' || c === '}') {
      if (--depth < 0) return `unbalanced \`${c}\` in \`${text}\``
    } else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i))
      start = i + 1
    }
  }
  if (quote || depth !== 0) return `unbalanced brackets or quotes in \`${text}\``
  out.push(text.slice(start))
  for (const a of out) if (a.trim() === '') return `an empty argument in \`${text}\``
  return out
}
