// Maps better-sqlite3 errors to what the sqlite sink does with them: retry the batch, reject the
// record (and write the rest of the batch row by row), or fail permanently.
import { PermanentError, RetryableError } from '../../core/errors.js'

/** `retryable`: try the batch again later; `record`: this row is bad; `permanent`: nothing will help. */
export type SqliteOutcome = 'retryable' | 'record' | 'permanent'

/**
 * Primary result codes (the part before an extended suffix: SQLITE_BUSY_SNAPSHOT → SQLITE_BUSY).
 * BUSY/LOCKED: another connection holds the lock longer than busy_timeout. IOERR/FULL/NOMEM:
 * the OS or disk; space or memory may come back. SCHEMA: another connection changed the schema
 * between prepare and step; a fresh attempt re-prepares.
 */
const RETRYABLE = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_NOMEM', 'SQLITE_PROTOCOL', 'SQLITE_SCHEMA', 'SQLITE_INTERRUPT'])
/** Errors caused by one row's values: NOT NULL/UNIQUE/CHECK/FOREIGN KEY, STRICT datatype, too big. */
const RECORD = new Set(['SQLITE_CONSTRAINT', 'SQLITE_MISMATCH', 'SQLITE_TOOBIG', 'SQLITE_RANGE'])

function primaryCode(code: string): string {
  const second = code.indexOf('_', 'SQLITE_'.length)
  return second === -1 ? code : code.slice(0, second)
}

/** Classify an error thrown while writing rows. */
export function classifySqliteError(err: unknown): SqliteOutcome {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code === 'string' && code.startsWith('SQLITE_')) {
    const primary = primaryCode(code)
    if (RETRYABLE.has(primary)) return 'retryable'
    if (RECORD.has(primary)) return 'record'
    return 'permanent'
  }
  // better-sqlite3 throws TypeError/RangeError for values it cannot bind (an integer outside
  // 64 bits) and our conversion throws them for values it cannot encode (an invalid Date, a BigInt
  // inside an object given to JSON.stringify): both are about one row.
  if (err instanceof TypeError || err instanceof RangeError) return 'record'
  return 'permanent'
}

/** The delivery error for a batch-level failure (`what` says which operation, for the message). */
export function toDeliveryError(err: unknown, what: string): RetryableError | PermanentError {
  const code = (err as { code?: unknown } | null)?.code
  const detail = `${what}: ${err instanceof Error ? err.message : String(err)}${typeof code === 'string' ? ` (${code})` : ''}.`
  return classifySqliteError(err) === 'retryable' ? new RetryableError(detail, { cause: err }) : new PermanentError(detail, { cause: err })
}
