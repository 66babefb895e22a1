// Record encoders for sinks that write text (file, s3, http): JSON lines and RFC 4180 CSV, one
// string per batch so a sink hands a single chunk to its writer.
import type { Rec } from '../core/batch.js'

/**
 * One JSON-lines string for the batch: each record JSON.stringify'd and LF-terminated.
 * A bigint becomes a number when it is exactly representable, else a decimal string.
 * Throws TypeError for a record JSON cannot represent (a cycle).
 */
export function encodeJsonl(records: Rec[]): string {
  let out = ''
  for (let i = 0; i < records.length; i++) {
    const r = records[i]
    if (r instanceof EncodedLine) {
      const end = encodedRunEnd(records, i)
      out += r.bytes.toString('utf8', r.start, (records[(i = end - 1)] as unknown as EncodedLine).end)
    } else out += `${encodeJson(r)}\n`
  }
  return out
}

/**
 * `encodeJsonl` written into `buffer` from byte 0 (UTF-8), growing it when needed: a sink that
 * writes every batch reuses one buffer instead of making a batch-sized string and a new Buffer
 * each time. Returns the buffer (`buffer` or a larger one) and the bytes written.
 */
export function writeJsonl(records: Rec[], buffer: Buffer): { buffer: Buffer; length: number } {
  let at = 0
  const room = (most: number) => {
    if (most <= buffer.length) return
    const larger = Buffer.allocUnsafeSlow(Math.max(most, buffer.length * 2, 64 * 1024))
    buffer.copy(larger, 0, 0, at)
    buffer = larger
  }
  for (let i = 0; i < records.length; i++) {
    const r = records[i]
    if (r instanceof EncodedLine) {
      // Bytes already: the run of lines (LFs included) is copied as it is.
      const end = (records[(i = encodedRunEnd(records, i) - 1)] as unknown as EncodedLine).end
      room(at + end - r.start)
      at += r.bytes.copy(buffer, at, r.start, end)
      continue
    }
    const text = encodeJson(r)
    // UTF-8 takes at most 3 bytes per UTF-16 code unit, plus the newline.
    room(at + text.length * 3 + 1)
    at += buffer.write(text, at)
    buffer[at++] = 0x0a
  }
  return { buffer, length: at }
}

/** Index past the run of EncodedLines from `i` that sit next to each other in one text. */
function encodedRunEnd(records: Rec[], i: number): number {
  const first = records[i] as unknown as EncodedLine
  let end = first.end
  let j = i + 1
  for (; j < records.length; j++) {
    const next = records[j]
    if (!(next instanceof EncodedLine) || next.bytes !== first.bytes || next.start !== end) break
    end = next.end
  }
  return j
}

/**
 * A record that a source's worker thread already encoded as a JSON line, UTF-8, LF included:
 * `bytes[start, end)`. Only a sink that declared `acceptsJsonLines` receives these, through
 * `writeJsonl`/`encodeJsonl`; `recordOf` turns one back into the record (dead letters).
 */
export class EncodedLine {
  constructor(
    readonly bytes: Buffer,
    readonly start: number,
    readonly end: number,
  ) {}
}

/** The record itself, also for one carried as an EncodedLine. */
export function recordOf(r: Rec): Rec {
  return r instanceof EncodedLine ? (JSON.parse(r.bytes.toString('utf8', r.start, r.end)) as Rec) : r
}

/** Records as EncodedLine views of JSON lines in `bytes`, line k ending at `ends[k]`. */
export function encodedLines(bytes: Buffer, ends: ArrayLike<number>): Rec[] {
  const out = new Array<Rec>(ends.length)
  let start = 0
  for (let k = 0; k < ends.length; k++) {
    out[k] = new EncodedLine(bytes, start, ends[k]!) as unknown as Rec
    start = ends[k]!
  }
  return out
}

/**
 * JSON text of a value (bigints as in `encodeJsonl`). The plain call is the fast path; only when
 * it throws (a bigint) does the slower replacer run, so batches without bigints pay nothing for
 * the feature. Throws TypeError for a value JSON cannot represent (a cycle).
 */
export function encodeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null'
  } catch (err) {
    if (!(err instanceof TypeError)) throw err
    return JSON.stringify(value, bigintReplacer) ?? 'null'
  }
}

function bigintReplacer(_key: string, value: unknown): unknown {
  if (typeof value !== 'bigint') return value
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString()
}

export interface CsvEncoderOptions {
  /** One character between fields (default ','). */
  delimiter?: string
  /** Column order; default: the keys of the first record encoded. Other keys are left out. */
  columns?: string[]
  /** Write a header row before the first record. */
  header: boolean
}

export interface CsvEncoder {
  /**
   * CSV text of a batch, each row LF-terminated; the header (if asked) comes before the first
   * row ever encoded. An empty batch gives ''. Quoting follows RFC 4180: fields holding the
   * delimiter, a quote, CR or LF are quoted with quotes doubled. null/undefined → empty field,
   * '' → `""` (so a CSV reader can tell them apart), objects and arrays → JSON, Date → ISO-8601.
   */
  encode(records: Rec[]): string
}

export function createCsvEncoder(options: CsvEncoderOptions): CsvEncoder {
  const d = options.delimiter ?? ','
  if (d.length !== 1 || d === '"' || d === '\r' || d === '\n') {
    throw new RangeError(`CSV delimiter must be one character other than '"', CR and LF, found ${JSON.stringify(d)}`)
  }
  // Built once: one test per string field decides whether it needs quoting.
  const special = new RegExp(`["\\r\\n${d.replace(/[\\\]^-]/g, '\\$&')}]`)
  const field = (value: unknown): string => {
    switch (typeof value) {
      case 'string':
        return value === '' ? '""' : quoteIfNeeded(value, special)
      case 'number':
      case 'bigint':
        return String(value)
      case 'boolean':
        return value ? 'true' : 'false'
      case 'undefined':
        return ''
      case 'object':
        if (value === null) return ''
        if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString()
        return quoteIfNeeded(encodeJson(value), special)
      default:
        return quoteIfNeeded(String(value), special)
    }
  }
  let columns = options.columns
  let headerPending = options.header
  return {
    encode(records: Rec[]): string {
      if (records.length === 0) return ''
      const cols = (columns ??= Object.keys(records[0]!))
      let out = ''
      if (headerPending) {
        headerPending = false
        for (let c = 0; c < cols.length; c++) out += c === 0 ? field(cols[c]) : d + field(cols[c])
        out += '\n'
      }
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!
        for (let c = 0; c < cols.length; c++) out += c === 0 ? field(r[cols[c]!]) : d + field(r[cols[c]!])
        out += '\n'
      }
      return out
    },
  }
}

function quoteIfNeeded(s: string, special: RegExp): string {
  return special.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}
