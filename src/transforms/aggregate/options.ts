// Options of the `aggregate` transform. Aggregation calls and their expressions are checked
// while the options are parsed, so `sluice validate` reports a typo at `aggregations.<name>`.
import { byteSize, celExpression, duration, z } from '../../component/options.js'
import { AGG_FUNCTIONS, parseAggregation } from './functions.js'

const fieldName = z.string().min(1)

const celCheck = celExpression('An aggregation argument.')

/** Why a CEL argument does not compile, or undefined when it does. */
function celExpressionError(source: string): string | undefined {
  const r = celCheck.safeParse(source)
  return r.success ? undefined : r.error.issues.map((i) => i.message).join('; ')
}

const windowType = <T extends string>(name: T, description: string) => z.literal(name).meta({ description })

const windowSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: windowType('tumbling', 'Window kind: `tumbling`, `hopping`, `session` or `global`.'),
      size: duration('Length of each window (`1m`, `1h`). Windows are aligned to the Unix epoch (UTC): `1h` windows start on the hour.'),
    }),
    z.strictObject({
      type: windowType('hopping', 'Window kind: `tumbling`, `hopping`, `session` or `global`.'),
      size: duration('Length of each window (`1m`, `1h`). Windows are aligned to the Unix epoch (UTC): `1h` windows start on the hour.'),
      slide: duration(
        'hopping: how far apart window starts are (at most `size`). A record falls in every window that contains it, about `size / slide` of them.',
      ),
    }),
    z.strictObject({
      type: windowType('session', 'Window kind: `tumbling`, `hopping`, `session` or `global`.'),
      gap: duration(
        'session: a session of a group ends after this much event time without a record of that group. A record that bridges two sessions merges them.',
      ),
    }),
    z.strictObject({
      type: windowType('global', 'Window kind: `tumbling`, `hopping`, `session` or `global`.'),
    }),
  ])
  .meta({
    description:
      'How records are cut into windows: `{ type: tumbling, size: 1m }`, `{ type: hopping, size: 10m, slide: 1m }`, ' +
      '`{ type: session, gap: 30m }`, or `{ type: global }` (the whole input, emitted at the end only).',
  })

const aggregationCall = z
  .string()
  .min(1)
  .meta({ description: `An aggregation call: ${Object.values(AGG_FUNCTIONS).map((f) => `\`${f.signature}\``).join(', ')}.` })
  .superRefine((text, ctx) => {
    const call = parseAggregation(text)
    if (typeof call === 'string') {
      ctx.addIssue({ code: 'custom', message: call, input: text })
      return
    }
    if (call.arg !== undefined && !call.field) {
      const error = celExpressionError(call.arg)
      if (error !== undefined) {
        ctx.addIssue({ code: 'custom', message: `the argument of \`${call.fn}\`: ${error}`, params: { code: 'SLC_CONFIG_EXPRESSION' }, input: text })
      }
    }
  })

export const LATE_POLICIES = ['dead_letter', 'update'] as const
export const LIMIT_POLICIES = ['emit_early', 'dead_letter', 'fail'] as const
export const RESERVED_FIELDS = ['window_start', 'window_end'] as const

export const aggregateOptions = z
  .strictObject({
    group_by: z
      .array(fieldName)
      .default([])
      .meta({
        description:
          'Fields whose values form a group; one output row per window and group. Empty: one group. A missing field or null groups as null. ' +
          'Values are compared by type and value (the number `1` and the string `"1"` are different groups).',
      }),
    window: windowSchema,
    time_field: fieldName.optional().meta({
      description:
        'Field holding the event time of a record: an ISO-8601 string (no zone means UTC) or epoch seconds / milliseconds. ' +
        'Without it, records are placed by processing time (when they arrive). A record whose field is missing or is not a time goes to the dead-letter output.',
    }),
    time_format: z
      .enum(['auto', 'iso', 'epoch_s', 'epoch_ms'])
      .default('auto')
      .meta({
        description:
          'How `time_field` is read. `auto`: strings as ISO-8601 (or numeric strings as epochs), numbers below 100,000,000,000 as epoch seconds, ' +
          'larger ones as milliseconds. `iso`: ISO-8601 strings only. `epoch_s` / `epoch_ms`: numbers (or numeric strings) in seconds / milliseconds.',
      }),
    allowed_lateness: duration(
      'How far behind the newest event time a record may be and still be counted: the watermark trails the event time by this much, so windows are emitted this much later.',
      '0ms',
    ),
    idle_timeout: duration(
      'A partition (input file or source) that sent nothing for this long (processing time) stops holding the watermark back. `0ms` disables it.',
      '30s',
    ),
    late: z
      .enum(LATE_POLICIES)
      .default('dead_letter')
      .meta({
        description:
          'What happens to a record whose window was already emitted. `dead_letter`: it goes to the dead-letter output with its time, window and the watermark. ' +
          "`update`: the window's state is kept for `late_retention`, the record is added and the window's corrected row is emitted again " +
          '(same `window_start` and group: write to a sink with an upsert key to correct the row).',
      }),
    late_retention: duration(
      'late: update — how long (in event time past the end of a window, measured by the watermark) an emitted window is kept for corrections. Later records go to the dead-letter output.',
      '10m',
    ),
    aggregations: z.record(fieldName, aggregationCall).meta({
      description:
        'Output fields, each computed by an aggregation call over the records of a window and group: `revenue: sum(amount)`, ' +
        '`orders: count()`, `p99: percentile(latency_ms, 0.99)`. The argument is a field name or a CEL expression (`sum(price * quantity)`). ' +
        'Null and missing values are skipped by every function but `count()`.',
    }),
    max_keys: z
      .number()
      .int()
      .positive()
      .default(1_000_000)
      .meta({ description: 'Most (window, group) entries held at once (a hopping window counts once per window it overlaps).' }),
    max_state_bytes: byteSize('Most memory the state may take, as estimated (about 200 bytes per entry plus distinct sets, sketches and lists).', '256MiB'),
    on_limit: z
      .enum(LIMIT_POLICIES)
      .default('emit_early')
      .meta({
        description:
          'What happens at `max_keys` or `max_state_bytes`. `emit_early`: the oldest windows are emitted early, entry by entry, until the state is ' +
          'back under 90% of the bound; later records for them are late. `dead_letter`: a record that would create a new entry goes to the ' +
          'dead-letter output. `fail`: the pipeline stops with an error.',
      }),
  })
  .superRefine((o, ctx) => {
    const w = o.window
    if ((w.type === 'tumbling' || w.type === 'hopping') && !(w.size > 0)) {
      ctx.addIssue({ code: 'custom', path: ['window', 'size'], message: 'the window size must be greater than 0', input: w.size })
    }
    if (w.type === 'hopping' && !(w.slide > 0 && w.slide <= w.size)) {
      ctx.addIssue({ code: 'custom', path: ['window', 'slide'], message: `slide must be greater than 0 and at most the window size (${w.size} ms)`, input: w.slide })
    }
    if (w.type === 'session' && !(w.gap > 0)) {
      ctx.addIssue({ code: 'custom', path: ['window', 'gap'], message: 'the session gap must be greater than 0', input: w.gap })
    }
    const seen = new Set<string>()
    for (const [i, f] of o.group_by.entries()) {
      if (seen.has(f)) ctx.addIssue({ code: 'custom', path: ['group_by', i], message: `"${f}" is listed twice`, input: f })
      seen.add(f)
      if ((RESERVED_FIELDS as readonly string[]).includes(f) && w.type !== 'global') {
        ctx.addIssue({ code: 'custom', path: ['group_by', i], message: `"${f}" is an output field of windowed aggregates; rename the field first`, input: f })
      }
    }
    for (const name of Object.keys(o.aggregations)) {
      const clash = seen.has(name) ? 'a group_by field' : (RESERVED_FIELDS as readonly string[]).includes(name) && w.type !== 'global' ? 'a window field' : undefined
      if (clash) ctx.addIssue({ code: 'custom', path: ['aggregations', name], message: `the output field "${name}" is already ${clash}`, input: name })
    }
  })

export type AggregateOptions = z.output<typeof aggregateOptions>
export type WindowOptions = AggregateOptions['window']
