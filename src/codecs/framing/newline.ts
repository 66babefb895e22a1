// Byte-level framing shared by every record decoder (csv, jsonl, lines): absolute offsets and line
// numbers, the UTF-8 BOM, the `max_record_bytes` cap with its skip mode, chunk-level UTF-8
// validation and dead-letter construction. Formats only say where a record ends and what it holds.
import { isUtf8 } from 'node:buffer'
import type { SourceDeadLetter } from '../../component/define.js'
import type { ErrorCode } from '../../core/errors.js'
import type { DecodeOutput, DecoderPosition, DecoderState, RecordDecoder } from '../types.js'

export const LF = 0x0a
export const CR = 0x0d

/** Default cap on the raw bytes copied into one dead letter. */
export const DEFAULT_MAX_RAW_BYTES = 64 * 1024

export interface FramingOptions {
  /** Longest record, terminator excluded; a longer one is dead-lettered as SLC_RECORD_TOO_LARGE. */
  maxRecordBytes: number
  /** Cap on the raw bytes copied into a dead letter (default 64 KiB). */
  maxRawBytes?: number
  /** Skip a UTF-8 byte order mark at absolute offset 0 (default true). */
  bom?: boolean
}

type RecordErrorCode = Extract<ErrorCode, `SLC_RECORD_${string}`>

/**
 * Base of the byte decoders. It owns the position (absolute offset and line of the first
 * unconsumed byte) and the work every format shares; a subclass implements `decodeRecords`.
 *
 * Chunk contract (from RecordDecoder): the caller keeps the unconsumed tail `buf[ret, end)`,
 * appends the next chunk after it and calls `decode` again, so `buf[start]` is always the byte at
 * absolute offset `this.offset`. An index `i` of the current call is at absolute offset
 * `i + delta` with `delta = this.offset - start`.
 *
 * Oversized records: a record is too large when the bytes from its start to its terminating LF
 * (or to the end of input) exceed `maxRecordBytes`. The decoder then emits one
 * SLC_RECORD_TOO_LARGE dead letter with the first bytes, and resumes after the first LF at or
 * after `start + maxRecordBytes`. Across chunks it enters skip mode and consumes (returns `end`)
 * until that LF shows up, so a 50 MB line costs no more memory than one chunk. The rule depends
 * only on the bytes, never on how they were chunked. For line formats that LF is the record's
 * own terminator; for CSV it may be a newline inside a quoted field, in which case parsing
 * resynchronises there and what follows may produce further parse errors.
 */
export abstract class ByteDecoder implements RecordDecoder {
  /** Absolute offset of the next unconsumed byte. */
  protected offset: number
  /** Line number of the next unconsumed byte. */
  protected line: number
  protected readonly maxRecordBytes: number
  protected readonly maxRawBytes: number
  /** Discarding an oversized record until the next LF. */
  private skipping = false
  /** A UTF-8 BOM may still appear: only at absolute offset 0. */
  private bomPending: boolean
  private readonly bomAllowed: boolean

  constructor(options: FramingOptions, position?: DecoderPosition) {
    if (!(options.maxRecordBytes > 0)) throw new RangeError('maxRecordBytes must be a positive number')
    this.maxRecordBytes = options.maxRecordBytes
    this.maxRawBytes = Math.max(0, options.maxRawBytes ?? DEFAULT_MAX_RAW_BYTES)
    this.offset = position?.offset ?? 0
    this.line = position?.line ?? 1
    this.bomAllowed = options.bom !== false
    this.bomPending = this.offset === 0 && this.bomAllowed
  }

  decode(buf: Buffer, start: number, end: number, final: boolean, out: DecodeOutput): number {
    const delta = this.offset - start
    let pos = start
    if (this.bomPending) {
      const n = end - start
      // Wait for three bytes before deciding, unless they can no longer be a BOM.
      if (n < 3 && !final && isBomPrefix(buf, start, end)) return start
      this.bomPending = false
      if (n >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) {
        pos += 3
        this.offset += 3
      }
    }
    // A view ending at `end` bounds native searches: bytes past `end` are the caller's garbage.
    const view = end === buf.length ? buf : buf.subarray(0, end)
    if (this.skipping) {
      const lf = view.indexOf(LF, pos)
      if (lf < 0) {
        this.offset = end + delta
        if (final) this.skipping = false
        return end
      }
      this.skipping = false
      this.line++
      pos = lf + 1
      this.offset = pos + delta
    }
    if (pos >= end) return end
    // One native check for the chunk's complete lines; per-record checks only when it fails.
    // Ranges bounded by LF (ASCII) split valid UTF-8 into valid pieces, so a valid chunk range
    // means every record in it is valid. The tail after the last LF is checked when complete.
    let checkEach = false
    const vEnd = final ? end : view.lastIndexOf(LF, end - 1) + 1
    if (vEnd > pos) checkEach = !isUtf8(view.subarray(pos, vEnd))
    return this.decodeRecords(view, pos, end, final, out, delta, checkEach)
  }

  /**
   * Continue from `position` as if every byte before it had been decoded (worker threads decode
   * line-aligned chunks of one file with one decoder each). Never at offset 0, so no BOM.
   */
  seek(position: DecoderPosition): void {
    this.offset = position.offset
    this.line = position.line
    this.skipping = false
    this.bomPending = position.offset === 0 && this.bomAllowed
    this.restoreState(position.state)
  }

  /** Inside an oversized record, discarding bytes until its LF (the chunk did not end it). */
  get discarding(): boolean {
    return this.skipping
  }

  /** Take back what `state()` returned (the CSV header). */
  protected restoreState(_state: DecoderState | undefined): void {}

  position(): DecoderPosition {
    const state = this.state()
    return state === undefined ? { offset: this.offset, line: this.line } : { offset: this.offset, line: this.line, state }
  }

  /** What must survive a restart besides offset and line (the CSV header). */
  protected state(): DecoderState | undefined {
    return undefined
  }

  /**
   * Decode the records of `buf[pos, end)` (after the BOM and skip handling), advancing
   * `this.offset` and `this.line` past every consumed record. With `checkEach` the chunk is not
   * valid UTF-8 and each record's bytes must be checked with `validUtf8` before decoding.
   */
  protected abstract decodeRecords(
    buf: Buffer,
    pos: number,
    end: number,
    final: boolean,
    out: DecodeOutput,
    delta: number,
    checkEach: boolean,
  ): number

  /**
   * The record starting at `s` (on `line`) exceeds `maxRecordBytes`: dead-letter its head, then
   * resume after the first LF at or after `s + maxRecordBytes`, or enter skip mode. Requires
   * `end > s + maxRecordBytes`. Sets `this.offset`/`this.line`; returns the index to resume at.
   */
  protected tooLarge(buf: Buffer, s: number, end: number, line: number, out: DecodeOutput, delta: number): number {
    const max = this.maxRecordBytes
    out.errors.push({
      code: 'SLC_RECORD_TOO_LARGE',
      message: `record is larger than max_record_bytes (${max} bytes)`,
      line,
      offset: s + delta,
      raw: copyBytes(buf, s, s + Math.min(this.maxRawBytes, max)),
      rawTruncated: true,
    })
    const from = s + max
    // Newlines inside the discarded head (quoted CSV newlines) still count as lines.
    this.line = line + countByte(buf, LF, s, from)
    const lf = buf.indexOf(LF, from)
    if (lf < 0 || lf >= end) {
      this.skipping = true
      this.offset = end + delta
      return end
    }
    this.line++
    this.offset = lf + 1 + delta
    return lf + 1
  }

  /** A dead letter for the record `buf[s, e)` (terminator excluded), raw bytes copied and capped. */
  protected recordError(code: RecordErrorCode, message: string, buf: Buffer, s: number, e: number, line: number, offset: number): SourceDeadLetter {
    const truncated = e - s > this.maxRawBytes
    return {
      code,
      message,
      line,
      offset,
      raw: copyBytes(buf, s, truncated ? s + this.maxRawBytes : e),
      rawTruncated: truncated,
    }
  }
}

interface SliceMethods {
  utf8Slice(start: number, end: number): string
  latin1Slice(start: number, end: number): string
}
const proto = Buffer.prototype as unknown as Partial<SliceMethods>

/**
 * `buf.toString('utf8', s, e)` without its argument checks: Buffer's own (untyped) slice method,
 * 2.8 → 3.3 M rows/s of field decoding in a quiet run of bench/micro/codecs/csv.bench.ts (noisy
 * under load). Falls back to toString if a Node lacks it.
 */
export const utf8Slice: (buf: Buffer, s: number, e: number) => string =
  typeof proto.utf8Slice === 'function'
    ? (buf, s, e) => (buf as unknown as SliceMethods).utf8Slice(s, e)
    : (buf, s, e) => buf.toString('utf8', s, e)

/** `buf.toString('latin1', s, e)` without argument checks; equals UTF-8 for pure-ASCII bytes. */
export const latin1Slice: (buf: Buffer, s: number, e: number) => string =
  typeof proto.latin1Slice === 'function'
    ? (buf, s, e) => (buf as unknown as SliceMethods).latin1Slice(s, e)
    : (buf, s, e) => buf.toString('latin1', s, e)

/** Whether `buf[s, e)` is valid UTF-8 (per-record check after a chunk failed). */
export function validUtf8(buf: Buffer, s: number, e: number): boolean {
  return isUtf8(buf.subarray(s, e))
}

/** A copy of `buf[s, e)`: dead letters outlive the caller's (pooled, reused) chunk. */
export function copyBytes(buf: Buffer, s: number, e: number): Buffer {
  const out = Buffer.allocUnsafe(e - s)
  buf.copy(out, 0, s, e)
  return out
}

/** Occurrences of `byte` in `buf[s, e)`. */
export function countByte(buf: Buffer, byte: number, s: number, e: number): number {
  let n = 0
  for (let i = buf.indexOf(byte, s); i >= 0 && i < e; i = buf.indexOf(byte, i + 1)) n++
  return n
}

function isBomPrefix(buf: Buffer, s: number, e: number): boolean {
  const bom = [0xef, 0xbb, 0xbf]
  for (let i = s; i < e; i++) if (buf[i] !== bom[i - s]) return false
  return true
}

/**
 * Base of the LF-framed formats (jsonl, lines): a record is one line, LF-terminated, a CR before
 * the LF stripped. A subclass turns one line into a record, an error, or nothing.
 */
export abstract class LineDecoder extends ByteDecoder {
  /** Bytes at the start of the pending tail already known to hold no LF (saves rescans). */
  private scanned = 0

  override seek(position: DecoderPosition): void {
    this.scanned = 0
    super.seek(position)
  }

  protected decodeRecords(buf: Buffer, pos: number, end: number, final: boolean, out: DecodeOutput, delta: number, checkEach: boolean): number {
    const max = this.maxRecordBytes
    let line = this.line
    let s = pos
    let from = pos + this.scanned
    this.scanned = 0
    while (s < end) {
      let lf = buf.indexOf(LF, from)
      let next: number
      if (lf < 0) {
        if (end - s > max) {
          s = this.tooLarge(buf, s, end, line, out, delta)
          line = this.line
          from = s
          continue
        }
        if (!final) {
          this.scanned = end - s
          break
        }
        lf = end
        next = end
      } else {
        if (lf - s > max) {
          s = this.tooLarge(buf, s, end, line, out, delta)
          line = this.line
          from = s
          continue
        }
        next = lf + 1
      }
      const e = lf > s && buf[lf - 1] === CR ? lf - 1 : lf
      if (checkEach && !validUtf8(buf, s, e)) {
        out.errors.push(this.recordError('SLC_RECORD_INVALID_UTF8', 'record is not valid UTF-8', buf, s, e, line, s + delta))
      } else {
        this.onLine(buf, s, e, line, s + delta, next + delta, out)
      }
      if (next > lf) line++
      s = next
      from = next
    }
    this.line = line
    this.offset = s + delta
    return s
  }

  /**
   * One complete line `buf[s, e)` (terminator and CR excluded) starting at absolute `offset`,
   * ending (terminator included) at absolute `endOffset`: push a record with its line and end,
   * push an error, or skip it.
   */
  protected abstract onLine(buf: Buffer, s: number, e: number, line: number, offset: number, endOffset: number, out: DecodeOutput): void
}
