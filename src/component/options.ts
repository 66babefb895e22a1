// Option schema helpers shared by every component declaration. A component declares its options
// once with these (zod underneath); validation, `sluice components`, `sluice schema` and the
// generated reference docs all read that one declaration.
import { z } from 'zod'
import { DURATION_RE, parseByteSize, parseDuration, SIZE_RE } from '../core/units.js'
import { expressionProblem } from './expression.js'

export { parseByteSize, parseDuration }

export { z }

function durationSchema(description: string) {
  return z
    .union([z.string().regex(DURATION_RE, 'expected a duration such as "200ms", "5s" or "1m"'), z.number().nonnegative()])
    .transform((v) => (typeof v === 'number' ? v : parseDuration(v)))
    .meta({ description, examples: ['200ms', '5s', '1m'], format: 'duration' })
}

/** A duration option: a string like "200ms" (or a number of milliseconds); parsed to ms. */
export function duration(description: string): ReturnType<typeof durationSchema>
export function duration(description: string, fallback: string): z.ZodPrefault<ReturnType<typeof durationSchema>>
export function duration(description: string, fallback?: string) {
  const schema = durationSchema(description)
  return fallback === undefined ? schema : schema.prefault(fallback)
}

function byteSizeSchema(description: string) {
  return z
    .union([z.string().regex(SIZE_RE, 'expected a size such as "64KiB", "4MiB" or "1GB"'), z.number().int().nonnegative()])
    .transform((v) => (typeof v === 'number' ? v : parseByteSize(v)))
    .meta({ description, examples: ['64KiB', '4MiB'], format: 'byte-size' })
}

/** A size option: a string like "4MiB" (or a number of bytes); parsed to bytes. */
export function byteSize(description: string): ReturnType<typeof byteSizeSchema>
export function byteSize(description: string, fallback: string): z.ZodPrefault<ReturnType<typeof byteSizeSchema>>
export function byteSize(description: string, fallback?: string) {
  const schema = byteSizeSchema(description)
  return fallback === undefined ? schema : schema.prefault(fallback)
}

/** A relative or absolute filesystem path; relative paths resolve against the config file's folder. */
export function path(description: string) {
  return z.string().min(1).meta({ description, format: 'path' })
}

/** A CEL expression evaluated against each record (fields are top-level variables). */
export function expression(description: string) {
  return z.string().min(1).meta({ description, format: 'cel-expression' })
}

export interface BatchDefaults {
  max_records: number
  max_bytes: string
  linger: string
}

/** The shared `batch` block of sinks: how many records a single write carries and how long to wait. */
export function batchOptions(defaults: BatchDefaults) {
  return z
    .strictObject({
      max_records: z.number().int().positive().default(defaults.max_records).meta({ description: 'Most records in one write.' }),
      max_bytes: byteSize('Most bytes (approximate, as read) in one write.', defaults.max_bytes),
      linger: duration('Longest time a partial batch waits for more records before it is written.', defaults.linger),
    })
    .prefault({})
    .meta({ description: 'How records are grouped into writes.' })
}

export type BatchPolicy = z.output<ReturnType<typeof batchOptions>>

/** The shared `retry` block of sinks. */
export function retryOptions() {
  return z
    .strictObject({
      max_attempts: z.number().int().min(0).default(10).meta({ description: 'Retries after the first try before the batch is dead-lettered (0 = never retry).' }),
      initial_backoff: duration('Wait before the first retry; doubles each attempt, with full jitter.', '100ms'),
      max_backoff: duration('Longest wait between retries.', '30s'),
    })
    .prefault({})
    .meta({ description: 'Retries of a failed write (transient errors only).' })
}

export type RetryPolicy = z.output<ReturnType<typeof retryOptions>>

/** Kafka bootstrap brokers: a list of `host:port`, or one comma-separated string (`${KAFKA_BROKERS}`). */
export function brokerList(description: string) {
  return z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
    .transform((v) => (typeof v === 'string' ? v.split(',').map((b) => b.trim()).filter(Boolean) : v))
    .pipe(z.array(z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port')).min(1))
    .meta({ description, examples: [['127.0.0.1:9092'], 'kafka-1:9092,kafka-2:9092'] })
}

/**
 * An option holding a CEL expression, compiled while the options are parsed so `sluice
 * validate` reports a bad expression at its file:line:column without building anything. The
 * zod issue carries `params.code = 'SLC_CONFIG_EXPRESSION'` for the config layer.
 */
export function celExpression(description: string, opts: { condition?: boolean } = {}) {
  const condition = opts.condition === true
  return expression(description).superRefine((source, ctx) => {
    const problem = expressionProblem(source, condition)
    if (problem !== undefined) {
      ctx.addIssue({ code: 'custom', message: problem, params: { code: 'SLC_CONFIG_EXPRESSION' }, input: source })
    }
  })
}
