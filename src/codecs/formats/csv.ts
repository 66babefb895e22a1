// The streaming CSV decoder (RFC 4180): finds rows and fields from the positions of the
// delimiter, quote and LF bytes that a WebAssembly SIMD kernel indexes (../wasm/csv-index.wat;
// the byte scanner `scan` decides the rows the walk cannot, and every row without WebAssembly),
// decodes only the fields it keeps, and types them with converters chosen once per column. Rows
// a prefilter drops on their bytes are dropped inside the kernel (dropRows). Design and
// measurements: docs/design/0004-csv-index.md.
//
// Measured (bench/micro/codecs/csv.bench.ts: Node 20.20, one core, 200k rows of 73 bytes, 7 columns,
// 64 KiB chunks, median of 7): 2.0-2.3 M rows/s (~150-170 MB/s) with inferred types, 1.7-1.9 M
// with non-ASCII text, 2.9 M with `infer_types: false`, 0.6-0.75 M with declared types where
// Date.parse/toISOString of a timestamp column dominates.
//
// Semantics worth knowing (user docs of the sources and the parse transform should repeat them):
// - A record ends at an LF outside quotes; a CR just before it is dropped. A lone CR is data.
// - Blank lines are skipped but counted. A quoted field may hold delimiters, quotes ("" escape),
//   CR and LF; a record's line is the physical line where it starts.
// - Unquoted empty field → null; quoted empty field ("") → '' (as PostgreSQL's COPY CSV does).
// - Inference (`infer_types`, columns without a declared type), quoted fields included:
//   a JSON-grammar number → number (integers only when safe; no leading zeros, so zip codes and
//   ids like 007 stay strings; a leading '+' stays a string); true/false (any case) → boolean.
// - Timestamps: an all-digit value is epoch seconds (≤ 11 digits) or milliseconds; a date-time
//   without a zone (`2024-05-01 12:00:00`) is read as UTC, not local time, so results do not
//   depend on the host's TZ. Output is `toISOString()`.
// - Header names: an empty name becomes `column_<n>`, a repeated one `<name>_2`, `<name>_3`, …
// - Oversized records: see ByteDecoder; the resync point is the first LF at or after
//   `start + max_record_bytes`, even if that LF is inside quotes.
import { ConfigError } from '../../core/errors.js'
import type { ConditionTree, StringCondition } from '../../component/expression.js'
import type { Rec } from '../../core/batch.js'
import { ByteDecoder, CR, LF, latin1Slice, utf8Slice, validUtf8, type FramingOptions } from '../framing/newline.js'
import { compileRecordBuilder, type RecordBuilder } from '../record-builder.js'
import { CsvIndex, KEPT_HEAD, type ByteTest, type DropProgram } from '../wasm/csv-index.js'
import type { DecodeOutput, DecoderPosition, DecoderState } from '../types.js'

export type CsvColumnType = 'string' | 'int' | 'float' | 'bool' | 'timestamp'

export interface CsvOptions {
  /** One ASCII character between fields (default ','). */
  delimiter?: string
  /** One ASCII character around fields (default '"'). */
  quote?: string
  /** Whether the first row holds the column names (default true). */
  header?: boolean
  /** Declared column types. Without a header, the key order names the columns. */
  columns?: Record<string, CsvColumnType>
  /** Infer number/boolean/null for columns without a declared type (default true). */
  infer_types?: boolean
}

// Column kinds: one small-integer switch per field keeps the conversion loop monomorphic.
const K_TEXT = 0 // as is: no inference, empty → ''
const K_INFER = 1
const K_STRING = 2 // declared string: unquoted empty → null
const K_INT = 3
const K_FLOAT = 4
const K_BOOL = 5
const K_TIMESTAMP = 6
const K_SKIP = 7 // not read by the pipeline and nothing to validate: never decoded

const KIND_OF: Record<CsvColumnType, number> = { string: K_STRING, int: K_INT, float: K_FLOAT, bool: K_BOOL, timestamp: K_TIMESTAMP }

// Field flags in `fq`.
const UNQUOTED = 0
const QUOTED = 1
const QUOTED_ESCAPES = 2 // quoted and holding "" pairs to unescape

// Row faults found by the scanner.
const OK = 0
const AFTER_QUOTE = 1 // a character other than delimiter/newline after a closing quote
const UNCLOSED = 2 // end of input inside a quoted field

// A record up to this size is decoded to one string and its fields sliced from it: one native
// call per record instead of one per field (3x faster, bench/micro/codecs/csv.bench.ts). Kept
// small because a sliced field (≥ 13 chars in V8) keeps its record string alive.
const RECORD_STRING_MAX = 4096

/** Fields up to this many bytes go through the per-column string cache (CsvDecoder.short). */
const SHORT_MAX = 16
const CACHE_SLOTS = 64

/** Returned by a converter for a value that does not fit its declared type. */
const INVALID = Symbol('invalid')

// walkIndex's answers besides a row's end: the window ended first; the byte scanner must decide.
const EXHAUSTED = -2
const BAIL = -3
/** After a dropRows call that dropped nothing, rows handled here before the next call. */
const DROP_BACKOFF_ROWS = 8


interface Prefilter {
  fields: readonly string[]
  keep: (partial: Rec) => boolean
  /** `keep`'s condition when it is only string tests on fields. */
  condition: StringCondition | undefined
  /** Reused for every row: holds the filter's fields of the current row. */
  scratch: Rec
  /** Column of each field once the header is known; undefined: cannot prefilter. */
  columns: Int32Array | undefined
  /** `condition` on the columns' bytes, when every test is on a column that decodes to text. */
  bytes: ConditionTree<ByteTest> | undefined
}


// Answers of a ByteTest (a StringTest's true/false/undefined).
const NO = 0
const YES = 1
const UNDECIDED = 2

export class CsvDecoder extends ByteDecoder {
  private readonly delim: number
  private readonly quote: number
  private readonly quoteStr: string
  private readonly escapedQuote: string
  private readonly headerRow: boolean
  private readonly declared: Record<string, CsvColumnType> | undefined
  private readonly infer: boolean
  /** The fields the pipeline reads (projection pushdown); undefined: all. */
  private readonly fields: ReadonlySet<string> | undefined

  // The schema, known after the header row (or from options / the resumed state).
  private names: string[] | undefined
  private kinds: Uint8Array = new Uint8Array(0)
  private width = 0
  private build: RecordBuilder = () => ({})
  private vals: unknown[] = []
  /** Column i goes to vals[slot[i]]; -1: not in the record (a declared type is still checked). */
  private slot: Int32Array = new Int32Array(0)
  /** The columns of a declared type other than string: checked even in rows nobody reads. */
  private typed: Int32Array = new Int32Array(0)
  /** short(): CACHE_SLOTS strings per column, and per column [misses (-1: off), hits]. */
  private cache: (string | undefined)[] = []
  private cacheStats: Float64Array = new Float64Array(0)
  /** Decode the whole row once and slice fields from it (many text fields) or each field alone. */
  private wholeRow = true

  // Scanner output for the current row, reused across rows: field i is buf[fs[i], fe[i]).
  private fs: number[] = []
  private fe: number[] = []
  private fq: number[] = []
  private nf = 0
  private lfs = 0
  private hi = 0
  private fault = OK
  private faultField = 0

  // The current row's text, decoded lazily once when it is ASCII and short.
  private recS = 0
  private recE = 0
  private recAscii = false
  private recStr: string | undefined
  private convError = ''
  private prefilter: Prefilter | undefined
  private prefiltered = 0

  // The structural index (scanIndexed): undefined when the byte scanner does every row. The
  // window is buf[ixBase, ixEnd); ixAt is the next of its ixCount positions to walk.
  private readonly index: CsvIndex | undefined
  private ixBase = 0
  private ixEnd = 0
  private ixCount = 0
  private ixAt = 0
  /** The prefilter as the kernel's dropRows runs it; null: not compiled yet, undefined: it cannot. */
  private dropProgram: DropProgram | undefined | null = null
  private takenLines = 0

  /** `structuralIndex: false`: scan every byte (the tests compare both ways). */
  constructor(options: CsvOptions & FramingOptions & { fields?: readonly string[]; structuralIndex?: boolean }, position?: DecoderPosition) {
    super(options, position)
    const delimiter = options.delimiter ?? ','
    const quote = options.quote ?? '"'
    this.delim = singleByte('delimiter', delimiter)
    this.quote = singleByte('quote', quote)
    if (this.delim === this.quote) {
      throw new ConfigError('SLC_CONFIG_INVALID', 'csv `delimiter` and `quote` must differ', { path: 'csv.quote' })
    }
    this.quoteStr = quote
    // A CR or LF delimiter or quote would make row ends ambiguous to the index's walk.
    const plain = (b: number) => b !== LF && b !== CR
    this.index = options.structuralIndex !== false && plain(this.delim) && plain(this.quote) ? CsvIndex.get() : undefined
    this.escapedQuote = quote + quote
    this.headerRow = options.header ?? true
    this.declared = options.columns
    this.infer = options.infer_types ?? true
    this.fields = options.fields === undefined ? undefined : new Set(options.fields)
    const resumed = position?.state?.header
    if (resumed !== undefined) this.setSchema(resumed)
    else if (!this.headerRow && this.declared !== undefined) this.setSchema(Object.keys(this.declared))
  }

  protected override state(): DecoderState | undefined {
    return this.names === undefined ? undefined : { header: this.names.slice() }
  }

  protected override restoreState(state: DecoderState | undefined): void {
    const header = state?.header
    // Same header as now: keep the compiled record builder and the string caches.
    if (header !== undefined && (this.names === undefined || header.length !== this.names.length || header.some((h, i) => h !== this.names![i]))) this.setSchema(header)
  }

  protected decodeRecords(buf: Buffer, pos: number, end: number, final: boolean, out: DecodeOutput, delta: number, checkEach: boolean): number {
    const max = this.maxRecordBytes
    let line = this.line
    let s = pos
    const index = this.index
    // A window never outlives the call: the buffer may be compacted, or the index reused, after it.
    this.ixEnd = 0
    // Rows of invalid UTF-8 must reach `row` to be dead-lettered: dropRows assumes valid text.
    // Before the header row there is no schema to judge rows by: asked again once it is read.
    let undecided = index !== undefined && !checkEach
    let drop: DropProgram | undefined
    let backoff = 0
    while (s < end) {
      if (undecided && this.names !== undefined) {
        undecided = false
        drop = this.dropProgramNow()
      }
      if (drop !== undefined && backoff-- <= 0) {
        const from = s
        s = this.dropRows(index!, drop, buf, s, end, line, delta, out)
        if (s === from) backoff = DROP_BACKOFF_ROWS
        else {
          line += this.takenLines
          if (s >= end) break
        }
      }
      const t = index !== undefined ? this.scanIndexed(index, buf, s, end, final) : this.scan(buf, s, end, final)
      if (t < 0) {
        if (end - s > max) {
          s = this.tooLarge(buf, s, end, line, out, delta)
          line = this.line
          continue
        }
        break
      }
      if (t - s > max) {
        s = this.tooLarge(buf, s, end, line, out, delta)
        line = this.line
        continue
      }
      // t is the terminating LF, or `end` when the input ended without one.
      const next = t < end ? t + 1 : end
      const e = t < end && t > s && buf[t - 1] === CR ? t - 1 : t
      this.row(buf, s, e, line, s + delta, next + delta, checkEach, out)
      line += this.lfs + (t < end ? 1 : 0)
      s = next
    }
    this.line = line
    this.offset = s + delta
    return s
  }

  /**
   * scan(), from the positions of the delimiters, quotes and LFs that the WebAssembly kernel
   * found in a window of the input: a row of 7 fields is ~8 steps instead of ~70 bytes. Rows the
   * walk cannot settle (a quote fault, a row longer than a window, the input's unterminated last
   * row) go to the byte scanner, which decides them as it always did.
   * Measured on W1 (5M rows, 2 threads): see the commit that brought it.
   */
  private scanIndexed(index: CsvIndex, buf: Buffer, s: number, end: number, final: boolean): number {
    this.windowAt(index, buf, s, end)
    let t = this.walkIndex(index, buf, s)
    if (t === EXHAUSTED && this.ixEnd < end && s > this.ixBase) {
      // The row runs past the window: index one from its start.
      this.indexWindow(index, buf, s, end)
      t = this.walkIndex(index, buf, s)
    }
    return t >= 0 ? t : this.scan(buf, s, end, final)
  }

  /** A window holding `s`, its cursor at the first position from `s` on. */
  private windowAt(index: CsvIndex, buf: Buffer, s: number, end: number): void {
    const positions = index.positions
    const base = this.ixBase
    let k = this.ixAt
    // The walk's last row ended before s, unless the row was oversized and s is a resync point
    // inside it (ByteDecoder.tooLarge).
    if (s < base || s >= this.ixEnd || (k > 0 && positions[k - 1]! + base >= s)) this.indexWindow(index, buf, s, end)
    else {
      // Past the positions of rows the byte scanner did.
      while (k < this.ixCount && positions[k]! + base < s) k++
      this.ixAt = k
    }
  }

  /**
   * Take the rows from `s` on that the prefilter settles, in WebAssembly (csv-index.wat dropRows:
   * the same string tests on the bytes and the same int/float fit checks as passesPrefilter):
   * drop those it drops, build those it surely keeps from the field positions the kernel listed,
   * up to the first row it cannot settle; returns where that row starts (`s`: none taken) and
   * sets `takenLines`. That row, whatever it is, goes through scanIndexed and `row`.
   * Measured on W1 (5M rows, 6% kept): see the commits that brought it and the kept rows.
   */
  private dropRows(index: CsvIndex, program: DropProgram, buf: Buffer, s: number, end: number, line: number, delta: number, out: DecodeOutput): number {
    this.windowAt(index, buf, s, end)
    const base = this.ixBase
    const dropped = index.dropRows(program, s - base, this.ixAt, this.ixCount, this.ixEnd - base, this.delim, this.quote)
    const kept = index.keptCount
    if (dropped === 0 && kept === 0) return s
    this.ixAt = index.stopCursor
    this.prefiltered += dropped
    this.takenLines = index.linesTaken
    if (kept > 0) this.buildKept(index, program, buf, kept, line, delta, out)
    return base + index.stopAt
  }

  /**
   * The rows dropRows kept, built from the positions it listed: not walked or judged again (a
   * kept row cost a kernel call, a walk and passesPrefilter before; W1 keeps one row in 16).
   */
  private buildKept(index: CsvIndex, program: DropProgram, buf: Buffer, kept: number, line: number, delta: number, out: DecodeOutput): void {
    const table = index.kept
    const base = this.ixBase
    const width = this.width
    const fs = this.fs
    const fe = this.fe
    const fq = this.fq
    for (let r = 0, at = 0; r < kept; r++, at += program.entryWords) {
      const s = table[at]! + base
      const t = table[at + 1]! + base
      for (let i = 0, f = at + KEPT_HEAD; i < width; i++, f += 3) {
        fs[i] = table[f]! + base
        fe[i] = table[f + 1]! + base
        fq[i] = table[f + 2]!
      }
      this.nf = width
      this.lfs = table[at + 2]!
      this.hi = index.mayBeNonAscii(s - base, t - base) ? 0x80 : 0
      this.fault = OK
      // The kernel takes rows of valid UTF-8 only (not checkEach): see decodeRecords.
      this.row(buf, s, t > s && buf[t - 1] === CR ? t - 1 : t, line + table[at + 3]!, s + delta, t + 1 + delta, false, out, true)
    }
  }

  /**
   * The prefilter compiled for dropRows, when it judges rows on bytes alone: a byte condition,
   * and typed columns (checked in rows it drops) that are all int or float.
   */
  private dropProgramNow(): DropProgram | undefined {
    if (this.dropProgram !== null) return this.dropProgram
    const pre = this.prefilter
    const typed: [number, 'int' | 'float'][] = []
    for (const i of this.typed) {
      const kind = this.kinds[i]
      if (kind !== K_INT && kind !== K_FLOAT) return (this.dropProgram = undefined)
      typed.push([i, kind === K_INT ? 'int' : 'float'])
    }
    const bytes = pre?.columns !== undefined ? pre.bytes : undefined
    this.dropProgram = bytes === undefined ? undefined : this.index!.compile(this.width, this.maxRecordBytes, typed, bytes)
    return this.dropProgram
  }

  private indexWindow(index: CsvIndex, buf: Buffer, s: number, end: number): void {
    const length = Math.min(index.window, end - s)
    this.ixCount = index.build(buf, s, length, this.delim, this.quote)
    this.ixBase = s
    this.ixEnd = s + length
    this.ixAt = 0
  }

  /**
   * The row from `s` on, walked along the index from ixAt: its LF's index with fs/fe/fq/nf, lfs,
   * hi and fault set as scan() sets them, or EXHAUSTED / BAIL.
   */
  private walkIndex(index: CsvIndex, buf: Buffer, s: number): number {
    const D = this.delim
    const Q = this.quote
    const positions = index.positions
    const base = this.ixBase
    const count = this.ixCount
    const limit = this.ixEnd
    const fs = this.fs
    const fe = this.fe
    const fq = this.fq
    let k = this.ixAt
    let nf = 0
    let lfs = 0
    let p = s
    let t = -1
    for (;;) {
      if (k >= count) return EXHAUSTED
      const x = positions[k++]! + base
      const c = buf[x]!
      if (c === D) {
        fs[nf] = p
        fe[nf] = x
        fq[nf++] = UNQUOTED
        p = x + 1
        continue
      }
      if (c === LF) {
        fs[nf] = p
        fe[nf] = x > p && buf[x - 1] === CR ? x - 1 : x
        fq[nf++] = UNQUOTED
        t = x
        break
      }
      // A quote inside an unquoted field is data; at a field's start it opens a quoted field.
      if (x !== p) continue
      let flag = QUOTED
      let y = 0
      for (;;) {
        if (k >= count) return EXHAUSTED
        y = positions[k++]! + base
        const cy = buf[y]!
        if (cy === Q) {
          // The byte after the quote decides; past the window it may not be known yet.
          if (y + 1 >= limit) return BAIL
          if (buf[y + 1] !== Q) break
          flag = QUOTED_ESCAPES
          k++
        } else if (cy === LF) lfs++
      }
      fs[nf] = p + 1
      fe[nf] = y
      fq[nf++] = flag
      // After the closing quote: a delimiter, an LF or a CR LF (each the next position).
      const z = y + 1
      const cz = buf[z]!
      k++
      if (cz === D) {
        p = z + 1
        continue
      }
      if (cz === LF) {
        t = z
        break
      }
      if (cz === CR && z + 1 < limit && buf[z + 1] === LF) {
        t = z + 1
        break
      }
      return BAIL
    }
    this.ixAt = k
    this.nf = nf
    this.lfs = lfs
    this.hi = index.mayBeNonAscii(s - base, t - base) ? 0x80 : 0
    this.fault = OK
    return t
  }

  /**
   * Scan one row starting at `s`. Returns the index of its terminating LF, `end` when the input
   * ended (final) without one, or -1 when the row is incomplete. Fills fs/fe/fq/nf, `lfs`
   * (newlines inside quotes), `hi` (OR of the bytes: ≥ 0x80 means non-ASCII) and `fault`.
   */
  private scan(buf: Buffer, s: number, end: number, final: boolean): number {
    const D = this.delim
    const Q = this.quote
    const fs = this.fs
    const fe = this.fe
    const fq = this.fq
    let nf = 0
    let lfs = 0
    let hi = 0
    let p = s
    let c = 0
    let t = -1
    this.fault = OK
    for (;;) {
      if (p >= end) {
        // Input ended right after a delimiter: an empty last field.
        if (!final) return -1
        fs[nf] = p
        fe[nf] = p
        fq[nf++] = UNQUOTED
        t = end
        break
      }
      c = buf[p]!
      if (c !== Q) {
        let q = p
        while (q < end && (c = buf[q]!) !== D && c !== LF) {
          hi |= c
          q++
        }
        if (q >= end && !final) return -1
        fs[nf] = p
        fq[nf] = UNQUOTED
        if (q < end && c === D) {
          fe[nf++] = q
          p = q + 1
          continue
        }
        fe[nf++] = q > p && buf[q - 1] === CR ? q - 1 : q
        t = q
        break
      }
      // Quoted field: find the closing quote, stepping over "" pairs.
      let q = p + 1
      let flag = QUOTED
      for (;;) {
        while (q < end && (c = buf[q]!) !== Q) {
          if (c === LF) lfs++
          hi |= c
          q++
        }
        if (q + 1 < end && buf[q + 1] === Q) {
          flag = QUOTED_ESCAPES
          q += 2
          continue
        }
        break
      }
      if (q + 1 >= end) {
        // The closing quote (if any) is the last byte we have: the next one decides.
        if (!final) return -1
        fs[nf] = p + 1
        if (q >= end) {
          fe[nf++] = end
          fq[nf - 1] = flag
          this.fault = UNCLOSED
        } else {
          fe[nf] = q
          fq[nf++] = flag
        }
        t = end
        break
      }
      fs[nf] = p + 1
      fe[nf] = q
      fq[nf++] = flag
      p = q + 1
      c = buf[p]!
      if (c === D) {
        p++
        continue
      }
      if (c === LF) {
        t = p
        break
      }
      if (c === CR) {
        if (p + 1 >= end) {
          if (!final) return -1
          t = end
          break
        }
        if (buf[p + 1] === LF) {
          t = p + 1
          break
        }
      }
      // Text after a closing quote: the row is malformed. Skip to the end of the field so the
      // row boundary stays where a lenient reader would put it.
      if (this.fault === OK) {
        this.fault = AFTER_QUOTE
        this.faultField = nf
      }
      while (p < end && (c = buf[p]!) !== D && c !== LF) p++
      if (p >= end) {
        if (!final) return -1
        t = end
        break
      }
      if (c === LF) {
        t = p
        break
      }
      p++
    }
    this.nf = nf
    this.lfs = lfs
    this.hi = hi
    return t
  }

  /**
   * Turn the scanned row `buf[s, e)` into a record, the header, nothing (blank) or an error.
   * `judged`: the prefilter already passed it (dropRows).
   */
  private row(buf: Buffer, s: number, e: number, line: number, offset: number, endOffset: number, checkEach: boolean, out: DecodeOutput, judged = false): void {
    const nf = this.nf
    if (this.fault === UNCLOSED) {
      out.errors.push(this.recordError('SLC_RECORD_PARSE', 'unclosed quote at end of input', buf, s, e, line, offset))
      return
    }
    if (nf === 1 && this.fq[0] === UNQUOTED && this.fs[0] === this.fe[0]) return // blank line
    if (checkEach && !validUtf8(buf, s, e)) {
      out.errors.push(this.recordError('SLC_RECORD_INVALID_UTF8', 'record is not valid UTF-8', buf, s, e, line, offset))
      return
    }
    if (this.fault === AFTER_QUOTE) {
      const msg = `unexpected character after the closing quote of field ${this.faultField}`
      out.errors.push(this.recordError('SLC_RECORD_PARSE', msg, buf, s, e, line, offset))
      return
    }
    this.recS = s
    this.recE = e
    this.recAscii = this.hi < 0x80 && e - s <= RECORD_STRING_MAX
    this.recStr = undefined
    if (this.names === undefined) {
      if (this.headerRow) {
        this.setSchema(this.headerNames(buf))
        return
      }
      const names: string[] = []
      for (let i = 1; i <= nf; i++) names.push(`column_${i}`)
      this.setSchema(names)
    }
    if (nf !== this.width) {
      out.errors.push(this.recordError('SLC_RECORD_PARSE', `row has ${nf} fields, expected ${this.width}`, buf, s, e, line, offset))
      return
    }
    const pre = this.prefilter
    if (!judged && pre !== undefined && pre.columns !== undefined && !this.passesPrefilter(pre, buf)) {
      this.prefiltered++
      return
    }
    const kinds = this.kinds
    const vals = this.vals
    const slot = this.slot
    for (let i = 0; i < nf; i++) {
      if (kinds[i] === K_SKIP) continue
      const v = this.fieldValue(i, buf)
      if (v === INVALID) {
        out.errors.push(this.recordError('SLC_RECORD_PARSE', `column "${this.names![i]}": ${this.convError}`, buf, s, e, line, offset))
        return
      }
      const j = slot[i]!
      if (j >= 0) vals[j] = v
    }
    out.records.push(this.build(vals))
    out.lines.push(line)
    out.ends.push(endOffset)
  }

  /** The value of column `i` of the scanned row, or INVALID with `convError` set. */
  private fieldValue(i: number, buf: Buffer): unknown {
    const a = this.fs[i]!
    const b = this.fe[i]!
    const q = this.fq[i]!
    const kind = this.kinds[i]!
    switch (kind) {
      case K_INFER:
        return this.inferred(buf, a, b, q, i)
      case K_TEXT:
        return this.short(buf, a, b, q, i)
      case K_STRING:
        // An empty declared string: unquoted → null, quoted ("") → ''.
        return a !== b ? this.short(buf, a, b, q, i) : q !== UNQUOTED ? '' : null
      default:
        return a === b ? null : this.declaredValue(kind, buf, a, b, q)
    }
  }

  /**
   * Whether the row may pass the pipeline's first filter, judged on the filter's own fields only.
   * False only when the filter would drop the record AND every declared type fits (else the
   * record must be built: to pass, to be dead-lettered by the filter, or by this decoder).
   * The filter's answer comes from the bytes when it can (byteAnswer), else from `keep` on the
   * decoded fields. A short integer or a plain decimal fits without building its value; other
   * fields get declaredValue's verdict.
   * Measured on W1 (5M rows, 6% kept, 2 threads): with `keep` on decoded fields, passesPrefilter
   * and declaredValue were 18% and 11% of a worker's profile; judged on bytes, with the fit
   * checks, the worker's CPU fell from 1.54 to 1.20 s and the run (median of 9 interleaved runs)
   * from 1.68 to 1.36 s wall, 2.79 to 2.16 s user CPU; the fit checks alone: 2.32 → 2.23 s.
   */
  private passesPrefilter(pre: Prefilter, buf: Buffer): boolean {
    const answer = pre.bytes === undefined ? UNDECIDED : this.byteAnswer(pre.bytes, buf)
    if (answer === YES) return true
    if (answer === UNDECIDED) {
      const columns = pre.columns!
      for (let k = 0; k < columns.length; k++) {
        const v = this.fieldValue(columns[k]!, buf)
        if (v === INVALID) return true
        pre.scratch[pre.fields[k]!] = v
      }
      try {
        if (pre.keep(pre.scratch)) return true
      } catch {
        return true
      }
    }
    const typed = this.typed
    for (let k = 0; k < typed.length; k++) {
      const i = typed[k]!
      const a = this.fs[i]!
      const b = this.fe[i]!
      if (a === b) continue
      const kind = this.kinds[i]!
      if (kind === K_INT ? b - a <= 15 && isIntegerText(buf, a, b) : kind === K_FLOAT && plainDecimal(buf, a, b)) continue
      if (this.declaredValue(kind, buf, a, b, this.fq[i]!) === INVALID) return true
    }
    return false
  }

  /**
   * The answer of `condition` for the current row from the fields' bytes, without building
   * strings: a field taken literally (unquoted, or quoted without "" pairs) equals a literal
   * exactly when their UTF-8 bytes do, the row being valid UTF-8 here (checked in `row`).
   * `&&`/`||` combine answers as fastCondition does.
   */
  private byteAnswer(c: ConditionTree<ByteTest>, buf: Buffer): number {
    if ('op' in c) {
      const a = this.byteAnswer(c.left, buf)
      if (c.op === '&&') {
        if (a === NO) return NO
        const b = this.byteAnswer(c.right, buf)
        return b === NO ? NO : a === YES && b === YES ? YES : UNDECIDED
      }
      if (a === YES) return YES
      const b = this.byteAnswer(c.right, buf)
      return b === YES ? YES : a === NO && b === NO ? NO : UNDECIDED
    }
    const i = c.column
    const q = this.fq[i]!
    const a = this.fs[i]!
    const n = this.fe[i]! - a
    if (q === QUOTED_ESCAPES || (n === 0 && q === UNQUOTED && c.emptyIsNull)) return UNDECIDED
    const values = c.values
    for (let k = 0; k < values.length; k++) {
      const v = values[k]!
      if (v.length !== n) continue
      let j = 0
      while (j < n && buf[a + j] === v[j]) j++
      if (j === n) return c.negated ? NO : YES
    }
    return c.negated ? YES : NO
  }

  /**
   * Predicate pushdown: rows `keep` rejects are not built at all (counted by `takePrefiltered`).
   * `keep` sees an object holding only `fields`, so it must read nothing else (a filter's
   * condition, whose fields are what it reads); it may throw, and then the row is built. Rows
   * that do not decode are dead-lettered exactly as without it. `condition`, when given, is
   * `keep`'s condition (CompiledExpression.stringCondition): rows it can judge on the bytes of
   * text columns skip `keep`.
   */
  setPrefilter(fields: readonly string[], keep: (partial: Rec) => boolean, condition?: StringCondition): void {
    this.prefilter = { fields, keep, condition, scratch: {}, columns: undefined, bytes: undefined }
    if (this.names !== undefined) this.resolvePrefilter()
  }

  /** Rows the prefilter dropped since the last call. */
  takePrefiltered(): number {
    const n = this.prefiltered
    this.prefiltered = 0
    return n
  }

  private resolvePrefilter(): void {
    this.dropProgram = null
    const pre = this.prefilter
    if (pre === undefined) return
    const columns = pre.fields.map((f) => this.names!.indexOf(f))
    // A field that is no column is missing from every record: the filter decides, row by row.
    pre.columns = columns.every((c) => c >= 0 && this.kinds[c] !== K_SKIP) ? Int32Array.from(columns) : undefined
    pre.bytes = pre.columns && pre.condition && this.byteCondition(pre.condition)
  }

  /**
   * `condition` on column bytes, or undefined when a test is on a column whose values are not
   * always strings (inferred, or of a declared non-string type) or a literal that UTF-8 cannot
   * hold exactly (a lone surrogate).
   */
  private byteCondition(c: StringCondition): ConditionTree<ByteTest> | undefined {
    if ('op' in c) {
      const left = this.byteCondition(c.left)
      const right = this.byteCondition(c.right)
      return left && right && { op: c.op, left, right }
    }
    const column = this.names!.indexOf(c.field)
    const kind = this.kinds[column]
    if (kind !== K_STRING && kind !== K_TEXT) return undefined
    const values = c.values.map((v) => Buffer.from(v, 'utf8'))
    if (values.some((b, k) => b.toString('utf8') !== c.values[k])) return undefined
    return { column, values, negated: c.negated, emptyIsNull: kind === K_STRING }
  }

  /** The text of field `buf[a, b)`, "" pairs unescaped when the scanner saw any. */
  private text(buf: Buffer, a: number, b: number, q: number): string {
    if (a === b) return ''
    let t: string
    if (this.recAscii) {
      if (!this.wholeRow) t = latin1Slice(buf, a, b)
      else {
        if (this.recStr === undefined) this.recStr = latin1Slice(buf, this.recS, this.recE)
        t = this.recStr.slice(a - this.recS, b - this.recS)
      }
    } else {
      t = utf8Slice(buf, a, b)
    }
    return q === QUOTED_ESCAPES ? t.replaceAll(this.escapedQuote, this.quoteStr) : t
  }

  /**
   * The text of a field, from a small per-column cache when the column repeats short values
   * (country codes, event names, statuses): no native call, no new string, and downstream Map
   * lookups hash one string object once. Each column's cache switches itself off after 4096
   * misses outnumbering its hits (ids, timestamps), leaving one compare per field before that.
   * Measured on W1: latin1Slice and its wrapper were 20% of the profile (event, country).
   */
  private short(buf: Buffer, a: number, b: number, q: number, col: number): string {
    const n = b - a
    if (n > SHORT_MAX || n === 0 || q === QUOTED_ESCAPES || !this.recAscii) return this.text(buf, a, b, q)
    const stats = this.cacheStats
    if (stats[2 * col]! < 0) return this.text(buf, a, b, q)
    let h = n
    for (let k = a; k < b; k++) h = Math.imul(h ^ buf[k]!, 0x01000193)
    const at = col * CACHE_SLOTS + ((h >>> 0) & (CACHE_SLOTS - 1))
    const hit = this.cache[at]
    if (hit !== undefined && hit.length === n) {
      let same = true
      for (let k = 0; k < n; k++) {
        if (hit.charCodeAt(k) !== buf[a + k]) {
          same = false
          break
        }
      }
      if (same) {
        stats[2 * col + 1]!++
        return hit
      }
    }
    const t = latin1Slice(buf, a, b)
    this.cache[at] = t
    const misses = ++stats[2 * col]!
    if (misses >= 4096 && misses > stats[2 * col + 1]!) stats[2 * col] = -1
    return t
  }

  /** Inference from the bytes: numbers are parsed without building a string when short. */
  private inferred(buf: Buffer, a: number, b: number, q: number, col: number): unknown {
    if (a === b) return q === UNQUOTED ? null : ''
    const c = buf[a]!
    const n = b - a
    if ((c >= 0x30 && c <= 0x39) || c === 0x2d) {
      const kind = jsonNumberKind(buf, a, b)
      if (kind === 1) {
        // Up to 15 characters cannot exceed 2^53: accumulate the digits directly.
        if (n <= 15) return digitsValue(buf, a, b)
        const t = this.text(buf, a, b, q)
        const v = Number(t)
        return Number.isSafeInteger(v) ? v : t
      }
      if (kind === 2) {
        const f = fastDecimal(buf, a, b)
        if (f === f) return f
        const t = this.text(buf, a, b, q)
        const v = Number(t)
        return Number.isFinite(v) ? v : t
      }
    } else if (n === 4 || n === 5) {
      const b0 = c | 0x20
      if (n === 4 && b0 === 0x74 && (buf[a + 1]! | 0x20) === 0x72 && (buf[a + 2]! | 0x20) === 0x75 && (buf[a + 3]! | 0x20) === 0x65) return true
      if (n === 5 && b0 === 0x66 && (buf[a + 1]! | 0x20) === 0x61 && (buf[a + 2]! | 0x20) === 0x6c && (buf[a + 3]! | 0x20) === 0x73 && (buf[a + 4]! | 0x20) === 0x65) return false
    }
    return this.short(buf, a, b, q, col)
  }

  /** A non-empty field of a declared non-text type, or INVALID with `convError` set. */
  private declaredValue(kind: number, buf: Buffer, a: number, b: number, q: number): unknown {
    switch (kind) {
      case K_STRING:
        return this.text(buf, a, b, q)
      case K_INT: {
        // One pass for the common short integer: digits checked and accumulated together.
        if (b - a <= 15) {
          const d = intDigits(buf, a, b)
          if (d === d) return d
          return this.invalid('expected an integer', buf, a, b, q)
        }
        if (!isIntegerText(buf, a, b)) return this.invalid('expected an integer', buf, a, b, q)
        const v = Number(this.text(buf, a, b, q))
        if (!Number.isSafeInteger(v)) return this.invalid('integer out of the safe range (±2^53-1); declare it as string', buf, a, b, q)
        return v
      }
      case K_FLOAT: {
        // fastDecimal accepts a subset of isDecimalText's grammar: try it first, in one pass.
        const f = fastDecimal(buf, a, b)
        if (f === f) return f
        if (!isDecimalText(buf, a, b)) return this.invalid('expected a number', buf, a, b, q)
        const v = Number(this.text(buf, a, b, q))
        return Number.isFinite(v) ? v : this.invalid('expected a finite number', buf, a, b, q)
      }
      case K_BOOL: {
        const t = this.text(buf, a, b, q).toLowerCase()
        if (t === 'true' || t === '1' || t === 'yes') return true
        if (t === 'false' || t === '0' || t === 'no') return false
        return this.invalid('expected a boolean (true/false, 1/0, yes/no)', buf, a, b, q)
      }
      default: {
        // Most timestamps already are canonical UTC ISO-8601: check the bytes and skip Date.
        const canonical = q === UNQUOTED ? canonicalUtc(buf, a, b) : undefined
        if (canonical === INVALID_DATE) return this.invalid('expected a timestamp (no such date or time)', buf, a, b, q)
        if (canonical !== undefined) return canonical
        const ms = timestampMs(this.text(buf, a, b, q))
        return Number.isNaN(ms) ? this.invalid('expected a timestamp (ISO-8601, a date Date.parse accepts, or epoch digits)', buf, a, b, q) : new Date(ms).toISOString()
      }
    }
  }

  private invalid(what: string, buf: Buffer, a: number, b: number, q: number): typeof INVALID {
    let t = this.text(buf, a, b, q)
    if (t.length > 80) t = `${t.slice(0, 80)}…`
    this.convError = `${what}, found ${JSON.stringify(t)}`
    return INVALID
  }

  /** Header names from the scanned row: empty names numbered, repeated names suffixed. */
  private headerNames(buf: Buffer): string[] {
    const names: string[] = []
    const seen = new Set<string>()
    for (let i = 0; i < this.nf; i++) {
      let name = this.text(buf, this.fs[i]!, this.fe[i]!, this.fq[i]!)
      if (name === '') name = `column_${i + 1}`
      if (seen.has(name)) {
        let k = 2
        while (seen.has(`${name}_${k}`)) k++
        name = `${name}_${k}`
      }
      seen.add(name)
      names.push(name)
    }
    return names
  }

  private setSchema(names: string[]): void {
    this.names = names
    this.width = names.length
    this.kinds = new Uint8Array(names.length)
    this.slot = new Int32Array(names.length).fill(-1)
    const kept: string[] = []
    for (let i = 0; i < names.length; i++) {
      const declared = this.declared !== undefined && Object.hasOwn(this.declared, names[i]!) ? this.declared[names[i]!] : undefined
      let kind = declared !== undefined ? KIND_OF[declared] : this.infer ? K_INFER : K_TEXT
      if (this.fields === undefined || this.fields.has(names[i]!)) {
        this.slot[i] = kept.length
        kept.push(names[i]!)
      } else if (kind === K_TEXT || kind === K_INFER || kind === K_STRING) {
        // Projection pushdown: a column nobody reads whose every value is valid is never decoded.
        // Declared int/float/bool/timestamp columns are still converted (and dropped) so the
        // same rows are dead-lettered whatever the pipeline reads.
        kind = K_SKIP
      }
      this.kinds[i] = kind
    }
    this.typed = Int32Array.from(names.keys()).filter((i) => this.kinds[i]! >= K_INT && this.kinds[i]! <= K_TIMESTAMP)
    let textual = 0
    for (let i = 0; i < names.length; i++) if (this.slot[i]! >= 0 && (this.kinds[i] === K_TEXT || this.kinds[i] === K_INFER || this.kinds[i] === K_STRING)) textual++
    this.wholeRow = textual >= 3
    this.cache = new Array<string | undefined>(names.length * CACHE_SLOTS).fill(undefined)
    this.cacheStats = new Float64Array(names.length * 2)
    this.vals = new Array<unknown>(kept.length).fill(null)
    this.build = compileRecordBuilder(kept)
    this.resolvePrefilter()
  }
}

function singleByte(option: string, value: string): number {
  const code = value.length === 1 ? value.charCodeAt(0) : -1
  if (code < 0 || code > 0x7f || code === LF || code === CR) {
    throw new ConfigError('SLC_CONFIG_INVALID', `csv \`${option}\` must be one ASCII character other than CR and LF, found ${JSON.stringify(value)}`, {
      path: `csv.${option}`,
    })
  }
  return code
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39

/** 0: not a JSON number; 1: an integer (-?(0|[1-9]\d*)); 2: with fraction or exponent. */
function jsonNumberKind(buf: Buffer, a: number, b: number): number {
  let p = a
  if (buf[p] === 0x2d) p++
  if (p >= b) return 0
  const c = buf[p]!
  if (c === 0x30) p++
  else if (c >= 0x31 && c <= 0x39) {
    p++
    while (p < b && isDigit(buf[p]!)) p++
  } else return 0
  if (p === b) return 1
  if (buf[p] === 0x2e) {
    const d = ++p
    while (p < b && isDigit(buf[p]!)) p++
    if (p === d) return 0
  }
  if (p < b && (buf[p]! | 0x20) === 0x65) {
    p++
    if (p < b && (buf[p] === 0x2b || buf[p] === 0x2d)) p++
    const d = p
    while (p < b && isDigit(buf[p]!)) p++
    if (p === d) return 0
  }
  return p === b ? 2 : 0
}

/** [+-]?\d+ — leading zeros allowed in a declared int column. */
function isIntegerText(buf: Buffer, a: number, b: number): boolean {
  let p = a
  if (buf[p] === 0x2b || buf[p] === 0x2d) p++
  if (p >= b) return false
  for (; p < b; p++) if (!isDigit(buf[p]!)) return false
  return true
}

/** [+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)? */
function isDecimalText(buf: Buffer, a: number, b: number): boolean {
  let p = a
  if (buf[p] === 0x2b || buf[p] === 0x2d) p++
  let digits = 0
  while (p < b && isDigit(buf[p]!)) p++, digits++
  if (p < b && buf[p] === 0x2e) {
    p++
    while (p < b && isDigit(buf[p]!)) p++, digits++
  }
  if (digits === 0) return false
  if (p < b && (buf[p]! | 0x20) === 0x65) {
    p++
    if (p < b && (buf[p] === 0x2b || buf[p] === 0x2d)) p++
    const d = p
    while (p < b && isDigit(buf[p]!)) p++
    if (p === d) return false
  }
  return p === b
}

/** `[+-]?digits[.digits]` with 1 to 15 digits: what fastDecimal reads, so a valid float. */
function plainDecimal(buf: Buffer, a: number, b: number): boolean {
  let p = a
  const sign = buf[p]
  if (sign === 0x2d || sign === 0x2b) p++
  let digits = 0
  let dot = false
  for (; p < b; p++) {
    const c = buf[p]!
    if (c === 0x2e && !dot) dot = true
    else if (c >= 0x30 && c <= 0x39) digits++
    else return false
  }
  return digits > 0 && digits <= 15
}

/** Exact powers of ten: m / 10^k is correctly rounded when m < 2^53 and k ≤ 22. */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i)

/**
 * The value of a validated decimal `[+-]?digits[.digits]` with at most 15 digits in all, straight
 * from the bytes: the digits form an exact integer m < 2^53 and m / 10^k is then the correctly
 * rounded double, the same one Number(text) gives. NaN when the fast path does not apply
 * (exponent, more digits): the caller uses Number(text).
 * Measured on W1 (5M rows): Number(slice) of \`amount\` was most of declaredValue's 19% of CPU.
 */
function fastDecimal(buf: Buffer, a: number, b: number): number {
  let p = a
  const sign = buf[p]
  if (sign === 0x2d || sign === 0x2b) p++
  let m = 0
  let digits = 0
  let frac = -1
  for (; p < b; p++) {
    const c = buf[p]!
    if (c === 0x2e && frac < 0) {
      frac = 0
      continue
    }
    if (c < 0x30 || c > 0x39) return NaN
    m = m * 10 + (c - 0x30)
    digits++
    if (frac >= 0) frac++
  }
  if (digits === 0 || digits > 15) return NaN
  const v = frac > 0 ? m / POW10[frac]! : m
  return sign === 0x2d ? -v : v
}

/** `[+-]?\d+` of at most 15 characters as a number, or NaN when it is not one. */
function intDigits(buf: Buffer, a: number, b: number): number {
  let p = a
  const sign = buf[p]
  if (sign === 0x2d || sign === 0x2b) p++
  if (p >= b) return NaN
  let n = 0
  for (; p < b; p++) {
    const c = buf[p]! - 0x30
    if (c < 0 || c > 9) return NaN
    n = n * 10 + c
  }
  return sign === 0x2d ? -n : n
}

/** The value of a validated integer of at most 15 characters. */
function digitsValue(buf: Buffer, a: number, b: number): number {
  let p = a
  const sign = buf[p]
  if (sign === 0x2d || sign === 0x2b) p++
  let n = 0
  for (; p < b; p++) n = n * 10 + (buf[p]! - 0x30)
  return sign === 0x2d ? -n : n
}

/** Epoch milliseconds of a timestamp field, or NaN (also when out of Date's range). */
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
/** ISO-8601 in shape but not a real instant (2026-02-30, 25:00): Date.parse would roll it over. */
const INVALID_DATE = ''

/** Two ASCII digits at `i` as a number, or -1. */
function twoDigits(buf: Buffer, i: number): number {
  const h = buf[i]! - 0x30
  const l = buf[i + 1]! - 0x30
  return h >= 0 && h <= 9 && l >= 0 && l <= 9 ? h * 10 + l : -1
}

/**
 * `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.sssZ` with valid ranges, returned in
 * `toISOString()` form without going through Date; a real-looking but impossible date →
 * INVALID_DATE; anything else → undefined (the slow path through Date.parse).
 * Measured on the quickstart orders CSV: Date.parse + toISOString was 6.4 % of CPU; this is ~0.5 %.
 */
function canonicalUtc(buf: Buffer, a: number, b: number): string | undefined {
  const n = b - a
  if ((n !== 20 && n !== 24) || buf[b - 1] !== 0x5a /* Z */) return undefined
  if (buf[a + 4] !== 0x2d || buf[a + 7] !== 0x2d || buf[a + 10] !== 0x54 || buf[a + 13] !== 0x3a || buf[a + 16] !== 0x3a) return undefined
  const y1 = twoDigits(buf, a)
  const y2 = twoDigits(buf, a + 2)
  const month = twoDigits(buf, a + 5)
  const day = twoDigits(buf, a + 8)
  const hour = twoDigits(buf, a + 11)
  const minute = twoDigits(buf, a + 14)
  const second = twoDigits(buf, a + 17)
  if (y1 < 0 || y2 < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return undefined
  const year = y1 * 100 + y2
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  if (month < 1 || month > 12 || day < 1 || day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)) return INVALID_DATE
  if (hour > 23 || minute > 59 || second > 59) return INVALID_DATE
  if (n === 24) {
    if (buf[a + 19] !== 0x2e || !isDigit(buf[a + 20]!) || !isDigit(buf[a + 21]!) || !isDigit(buf[a + 22]!)) return undefined
    return latin1Slice(buf, a, b)
  }
  return `${latin1Slice(buf, a, b - 1)}.000Z`
}

function timestampMs(t: string): number {
  let allDigits = t.length > 0
  for (let i = 0; i < t.length && allDigits; i++) allDigits = isDigit(t.charCodeAt(i))
  let ms: number
  if (allDigits) {
    const n = Number(t)
    ms = t.length <= 11 ? n * 1000 : n
  } else {
    ms = Date.parse(zoneless(t) ? `${t.slice(0, 10)}T${t.slice(11)}Z` : t)
  }
  // Date's range is ±8.64e15 ms; beyond it toISOString would throw.
  return Math.abs(ms) <= 8.64e15 ? ms : NaN
}

/** `YYYY-MM-DD[T ]HH:MM…` with no zone designator after the time: read as UTC, not local. */
function zoneless(t: string): boolean {
  if (t.length < 16 || t[4] !== '-' || t[7] !== '-' || (t[10] !== 'T' && t[10] !== ' ') || t[13] !== ':') return false
  for (let i = 11; i < t.length; i++) {
    const c = t[i]
    if (c === 'Z' || c === 'z' || c === '+' || c === '-') return false
  }
  return true
}
