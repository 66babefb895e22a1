/** The `route` transform: sends each record to the named outputs whose CEL condition holds, the rest to `_unmatched`. */
import { defineTransform, type FieldUse, type RouterTransform } from '../component/define.js'
import { compileExpression, fieldsOf, type CompiledExpression } from '../component/expression.js'
import { celExpression, z } from '../component/options.js'
import type { Rec } from '../core/batch.js'

/** The output that receives records no route matched. */
export const UNMATCHED = '_unmatched'

const ROUTE_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/

const options = z.strictObject({
  routes: z
    .record(z.string(), celExpression('CEL condition; records for which it is true go to this output.', { condition: true }))
    // Names are checked here rather than by a key schema, whose issues zod reports only as
    // "Invalid key in record".
    .superRefine((routes, ctx) => {
      const names = Object.keys(routes)
      if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'route needs at least one route' })
      for (const name of names) {
        if (name === UNMATCHED) {
          ctx.addIssue({ code: 'custom', path: [name], message: '`_unmatched` is reserved for the records no route matches' })
        } else if (!ROUTE_NAME_RE.test(name)) {
          ctx.addIssue({ code: 'custom', path: [name], message: `route name "${name}": expected letters, digits and \`_\`, not starting with a digit` })
        }
      }
    })
    .meta({
      description:
        'Named outputs and their conditions, in order (`big: amount >= 1000`). Downstream components read an output as ' +
        '`<route id>.<name>`. Names are letters, digits and `_`; `_unmatched` is reserved.',
      // For editors: the JSON Schema cannot see the superRefine above.
      propertyNames: { pattern: ROUTE_NAME_RE.source, not: { const: UNMATCHED } },
    }),
  mode: z
    .enum(['all', 'first'])
    .default('all')
    .meta({
      description:
        '`all`: a record goes to every route whose condition holds. ' +
        '`first`: only to the first one, in the order the routes are written.',
    }),
})

export type RouteOptions = z.output<typeof options>

/**
 * Output indexes follow `outputs`: route i is index i, `_unmatched` is the last. The two modes
 * are two classes so each `route` call site stays monomorphic.
 */
class RouteAll implements RouterTransform {
  readonly kind = 'router'
  readonly outputs: readonly string[]
  readonly #conditions: CompiledExpression[]
  readonly #unmatched: number

  constructor(outputs: readonly string[], conditions: CompiledExpression[]) {
    this.outputs = outputs
    this.#conditions = conditions
    this.#unmatched = conditions.length
  }

  route(record: Rec, into: number[]): void {
    const conditions = this.#conditions
    const start = into.length
    try {
      for (let i = 0; i < conditions.length; i++) if (conditions[i]!.test(record)) into.push(i)
    } catch (e) {
      // The record is dead-lettered as a whole: take back the outputs it was already given.
      into.length = start
      throw e
    }
    if (into.length === start) into.push(this.#unmatched)
  }
  fields(): FieldUse | undefined {
    const reads = fieldsOf(this.#conditions)
    return reads && { reads, passes: true }
  }
}

class RouteFirst implements RouterTransform {
  readonly kind = 'router'
  readonly outputs: readonly string[]
  readonly #conditions: CompiledExpression[]
  readonly #unmatched: number

  constructor(outputs: readonly string[], conditions: CompiledExpression[]) {
    this.outputs = outputs
    this.#conditions = conditions
    this.#unmatched = conditions.length
  }

  route(record: Rec, into: number[]): void {
    const conditions = this.#conditions
    for (let i = 0; i < conditions.length; i++) {
      if (conditions[i]!.test(record)) {
        into.push(i)
        return
      }
    }
    into.push(this.#unmatched)
  }
  fields(): FieldUse | undefined {
    const reads = fieldsOf(this.#conditions)
    return reads && { reads, passes: true }
  }
}

function outputsOf(opts: RouteOptions): string[] {
  return [...Object.keys(opts.routes), UNMATCHED]
}

export const route = defineTransform({
  type: 'route',
  status: 'stable',
  summary: 'Send each record to named outputs chosen by conditions.',
  description:
    'Each entry of `routes` names an output and gives a [CEL condition](../../guides/expressions.md). Downstream ' +
    'components read an output as `<route id>.<name>`, and records that no condition matched as `<route id>._unmatched`:\n\n' +
    '```yaml\ntransforms:\n  by_size:\n    type: route\n    inputs: [orders]\n    routes:\n      big: amount >= 1000\n' +
    '      eu: country in ["DE", "FR", "IT"]\nsinks:\n  review: { type: sqlite, inputs: [by_size.big], path: review.db, table: orders }\n' +
    '  rest: { type: sqlite, inputs: [by_size._unmatched], path: rest.db, table: orders }\n```\n\n' +
    'With `mode: all` (the default) a record goes to every output whose condition holds, so a big German order reaches ' +
    'both `by_size.big` and `by_size.eu`; with `mode: first` it goes only to the first matching route in the order written. ' +
    'An output nobody reads discards its records. When a condition cannot be evaluated for a record (a missing field, a ' +
    'type mismatch), the record goes to the dead-letter output with code `SLC_RECORD_TRANSFORM` and reaches no output.',
  options,
  examples: [
    {
      title: 'Split orders by size and region',
      yaml: 'type: route\ninputs: [orders]\nroutes:\n  big: amount >= 1000\n  eu: country in ["DE", "FR", "IT"]',
    },
    {
      title: 'Severity tiers, first match wins',
      yaml: 'type: route\ninputs: [logs]\nmode: first\nroutes:\n  page: level == "fatal"\n  alert: level == "error"\n  warn: level == "warn"',
    },
  ],
  outputs: outputsOf,
  build(opts, ctx) {
    const names = Object.keys(opts.routes)
    const conditions = names.map((name) =>
      compileExpression(opts.routes[name]!, { component: ctx.id, option: `routes.${name}`, type: 'route', condition: true }),
    )
    const outputs = outputsOf(opts)
    return opts.mode === 'first' ? new RouteFirst(outputs, conditions) : new RouteAll(outputs, conditions)
  },
})
