// Maps a Node fs error (errno code) to the delivery outcome a sink throws: RetryableError when the
// condition can clear by itself (disk full, I/O hiccup, too many open files), PermanentError when
// retrying the same write cannot help (permission, wrong kind of path, read-only filesystem).
import { PermanentError, RetryableError, SluiceError } from '../core/errors.js'

/** errno codes that may succeed on a later attempt without operator action on the sink's config. */
const RETRYABLE = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EAGAIN', 'EBUSY', 'EINTR', 'EMFILE', 'ENFILE', 'ETIMEDOUT', 'ESTALE'])

/** Plain-language reasons, so a log line says what to fix rather than only an errno. */
const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error from the device',
  EAGAIN: 'resource temporarily unavailable',
  EBUSY: 'resource busy',
  EINTR: 'interrupted system call',
  EMFILE: 'too many open files in this process',
  ENFILE: 'too many open files in the system',
  ETIMEDOUT: 'operation timed out',
  ESTALE: 'stale network file handle',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'the path is a directory',
  ENOTDIR: 'a parent of the path is not a directory',
  ENOENT: 'no such file or directory',
  EROFS: 'read-only filesystem',
  EEXIST: 'the path already exists',
  ENAMETOOLONG: 'the path is too long',
  ELOOP: 'too many symbolic links in the path',
  EFBIG: 'the file is larger than the filesystem allows',
  EBADF: 'the file is no longer open',
  EPIPE: 'the reading end was closed',
}

/** The errno code of a Node system error, if it is one. */
export function fsErrorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  // errno names only (ENOSPC), not Node's own ERR_* codes, which say nothing about the device.
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined
}

/**
 * Turn a failed fs call into the error a sink's `write`/`open` throws. `action` completes the
 * sentence "Cannot <action> <target>", e.g. `classifyFsError(e, 'write to', '/data/out.jsonl')`.
 *
 * The returned error's `cause` is a SluiceError with code SLC_SINK_IO (whose own `cause` is the
 * original fs error): RetryableError/PermanentError carry fixed delivery codes, and the chain keeps
 * both the delivery outcome and the I/O code visible in logs and dead letters.
 * Unknown errno codes are treated as retryable: retries are bounded, then the batch is
 * dead-lettered, so guessing "transient" never loses data while guessing "permanent" might.
 */
export function classifyFsError(err: unknown, action: string, target: string): RetryableError | PermanentError {
  const code = fsErrorCode(err)
  const reason = code === undefined ? (err instanceof Error ? err.message : String(err)) : `${REASONS[code] ?? (err as Error).message} (${code})`
  const message = `Cannot ${action} ${target}: ${reason}.`
  const io = new SluiceError('SLC_SINK_IO', message, { cause: err })
  if (code === undefined) return new PermanentError(message, { cause: io })
  if (RETRYABLE.has(code) || !(code in REASONS)) return new RetryableError(message, { cause: io })
  return new PermanentError(message, { cause: io })
}
