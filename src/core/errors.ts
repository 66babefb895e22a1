// The one error catalog of Sluice: every error a user can see carries a stable code listed here.
// Codes are documented in docs/reference/errors.md (generated from ERROR_CATALOG) and never reused.

export const ERROR_CATALOG = {
  SLC_CONFIG_SYNTAX: 'The config file is not valid YAML.',
  SLC_CONFIG_INVALID: 'An option has the wrong type, a wrong value, or is missing.',
  SLC_CONFIG_UNKNOWN_KEY: 'An option name is not known to the component (a near-miss name is suggested).',
  SLC_CONFIG_UNKNOWN_TYPE: 'A component `type` is not registered.',
  SLC_CONFIG_ENV: 'A `${VAR}` reference names an environment variable that is not set and has no default.',
  SLC_CONFIG_TOPOLOGY: 'The component graph is invalid: unknown input, cycle, or a component nothing reads from.',
  SLC_CONFIG_EXPRESSION: 'An expression (filter condition, map value, route condition) does not compile.',
  SLC_CONFIG_FILE: 'The config file cannot be read.',
  SLC_USAGE: 'The command line is wrong (unknown command or option).',
  SLC_SOURCE_NOT_FOUND: 'A source path names a file that does not exist.',
  SLC_SOURCE_IO: 'A source could not read its input (permission denied, a directory, a device error).',
  SLC_SOURCE_TRUNCATED: 'A compressed input ended early or is corrupt; records decoded before the damage were kept.',
  SLC_RECORD_PARSE: 'A record could not be decoded (invalid JSON, malformed CSV row).',
  SLC_RECORD_TOO_LARGE: 'A record is larger than `max_record_bytes`; its first bytes are kept in the dead letter.',
  SLC_RECORD_INVALID_UTF8: 'A record is not valid UTF-8.',
  SLC_RECORD_TRANSFORM: 'A transform failed on a record (expression error, cast failure, user function threw).',
  SLC_RECORD_REJECTED: 'A sink rejected a record permanently (constraint violation, wrong type).',
  SLC_DELIVERY_RETRYABLE: 'A sink write failed in a way that may succeed on retry.',
  SLC_DELIVERY_PERMANENT: 'A sink write failed in a way that retrying cannot fix.',
  SLC_DELIVERY_PARTIAL: 'Some records of a batch failed permanently; the rest were written.',
  SLC_SINK_IO: 'A sink could not open or write its target.',
  SLC_CHECKPOINT: 'The checkpoint store in `data_dir` could not be read or written.',
  SLC_SHUTDOWN_TIMEOUT: 'In-flight batches did not drain within `shutdown_timeout`; unacknowledged input will be read again on restart.',
  SLC_FUNCTION_LOAD: 'A `function` transform module could not be loaded or exports no usable function.',
  SLC_MEMORY_LIMIT: 'The pipeline needed more memory than `memory_limit` allows (its heap ran out); unacknowledged input will be read again on restart.',
  SLC_INTERNAL: 'A bug in Sluice. Please report it with the log.',
} as const

export type ErrorCode = keyof typeof ERROR_CATALOG
export const ERROR_CODES = Object.keys(ERROR_CATALOG) as ErrorCode[]

const BRAND = Symbol.for('sluice.error')

/**
 * Brands of the error classes that code from outside this copy of Sluice may throw. A user's
 * module imports its RecordError from `sluice` (dist/index.js) while the CLI runs its own copy of
 * the classes (the bundle in dist/bundle/), and a plugin may carry its own copy of the package:
 * `instanceof` is false across copies, a `Symbol.for` key is shared by all of them. Subclasses
 * (a user's `class NotFound extends RecordError`) inherit the brand.
 */
const CONFIG_BRAND = Symbol.for('sluice.error.config')
const RETRYABLE_BRAND = Symbol.for('sluice.error.retryable')
const PARTIAL_BATCH_BRAND = Symbol.for('sluice.error.partial-batch')
const RECORD_BRAND = Symbol.for('sluice.error.record')

const branded = (e: unknown, brand: symbol): boolean => typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[brand] === true

/** Base of every error Sluice throws on purpose. Match on `code`, not on the class. */
export class SluiceError extends Error {
  readonly code: ErrorCode
  readonly [BRAND] = true
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = 'SluiceError'
  }
}

/** Brand check that survives two loaded copies of the package. */
export function isSluiceError(e: unknown): e is SluiceError {
  return branded(e, BRAND)
}

/** Where a config error points: file:line:column, component and option path. */
export interface ConfigLocation {
  file?: string
  line?: number
  column?: number
  component?: string
  path?: string
}

/** An error in the user's config. Shown to users without a stack trace. */
export class ConfigError extends SluiceError {
  readonly [CONFIG_BRAND] = true
  readonly location: ConfigLocation
  readonly expected?: string
  readonly found?: string
  readonly suggestion?: string
  constructor(
    code: Extract<ErrorCode, `SLC_CONFIG_${string}`>,
    message: string,
    details: ConfigLocation & { expected?: string; found?: string; suggestion?: string } = {},
  ) {
    super(code, message)
    this.name = 'ConfigError'
    const { expected, found, suggestion, ...location } = details
    this.location = location
    this.expected = expected
    this.found = found
    this.suggestion = suggestion
  }
}

/** Several config errors found in one pass; the CLI prints them all. */
export class ConfigErrors extends SluiceError {
  readonly errors: ConfigError[]
  constructor(errors: ConfigError[]) {
    super(errors[0]?.code ?? 'SLC_CONFIG_INVALID', errors.map((e) => e.message).join('\n'))
    this.name = 'ConfigErrors'
    this.errors = errors
  }
}

/** A sink write that may succeed if tried again. `retryAfterMs` honours a server's hint. */
export class RetryableError extends SluiceError {
  readonly [RETRYABLE_BRAND] = true
  readonly retryAfterMs?: number
  constructor(message: string, options?: ErrorOptions & { retryAfterMs?: number }) {
    super('SLC_DELIVERY_RETRYABLE', message, options)
    this.name = 'RetryableError'
    this.retryAfterMs = options?.retryAfterMs
  }
}

/** A sink write that retrying cannot fix: the batch goes to the dead-letter output. */
export class PermanentError extends SluiceError {
  constructor(message: string, options?: ErrorOptions) {
    super('SLC_DELIVERY_PERMANENT', message, options)
    this.name = 'PermanentError'
  }
}

/** Per-record outcomes of a batch write: indexes in `failed` were rejected, the rest are durable. */
export class PartialBatchError extends SluiceError {
  readonly [PARTIAL_BATCH_BRAND] = true
  readonly failed: Map<number, Error>
  constructor(failed: Map<number, Error>, message = `${failed.size} record(s) rejected by the sink`) {
    super('SLC_DELIVERY_PARTIAL', message)
    this.name = 'PartialBatchError'
    this.failed = failed
  }
}

/** A record-level failure inside a transform; the runtime dead-letters the record with this code. */
export class RecordError extends SluiceError {
  readonly [RECORD_BRAND] = true
  constructor(code: Extract<ErrorCode, `SLC_RECORD_${string}`>, message: string, options?: ErrorOptions) {
    super(code, message, options)
    this.name = 'RecordError'
  }
}

// Brand checks: `instanceof` that also holds for an error from another loaded copy of Sluice.
export const isConfigError = (e: unknown): e is ConfigError => branded(e, CONFIG_BRAND)
export const isRetryableError = (e: unknown): e is RetryableError => branded(e, RETRYABLE_BRAND)
export const isPartialBatchError = (e: unknown): e is PartialBatchError => branded(e, PARTIAL_BATCH_BRAND)
export const isRecordError = (e: unknown): e is RecordError => branded(e, RECORD_BRAND)

/** Message of any thrown value, for logs and dead letters. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message
  return String(e)
}
