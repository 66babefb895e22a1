// The decoder contract shared by every source that reads bytes (file, stdin, later kafka/s3):
// a decoder turns a stream of byte chunks into records, keeping line numbers and byte offsets
// so sources can checkpoint and dead letters can say where a bad record came from.
import type { SourceDeadLetter } from '../component/define.js'
import type { Rec } from '../core/batch.js'

/** Columns filled by one `decode` call; the caller owns and resets them between batches. */
export interface DecodeOutput {
  records: Rec[]
  /** 1-based line number where record i starts. */
  lines: number[]
  /** Absolute stream offset just past record i, line terminator included (a resume position). */
  ends: number[]
  /** Records that could not be decoded: code, message, line, offset and the raw bytes (copied). */
  errors: SourceDeadLetter[]
}

/** What a decoder must remember across a restart besides the byte offset and line. */
export interface DecoderState {
  /** CSV header names read from the first row. */
  header?: string[]
}

export interface DecoderPosition {
  /** Absolute stream offset of the first byte that will be passed in. */
  offset: number
  /** Line number (1-based) of that byte. */
  line: number
  state?: DecoderState
}

export interface RecordDecoder {
  /**
   * Decode every complete record in `buf[start, end)` into `out` and return the index in `buf`
   * where the unconsumed tail (an incomplete record) starts. With `final` the input has ended:
   * the tail is decoded too (or reported as an error) and the return value is `end`.
   * Never throws for bad data: bad records go to `out.errors`.
   */
  decode(buf: Buffer, start: number, end: number, final: boolean, out: DecodeOutput): number
  /** The position just past the last consumed byte, for checkpoints. */
  position(): DecoderPosition
  /** Continue from `position` (a record boundary) as if everything before it had been decoded. */
  seek(position: DecoderPosition): void
  /** True while an oversized record is being discarded up to its LF (it ends in a later chunk). */
  readonly discarding: boolean
  /**
   * Rows dropped unbuilt since the last call, by a filter pushed into the decoder
   * (core/threads/portable.ts `pushFilterDown`); absent for decoders that cannot take one.
   */
  takePrefiltered?(): number
}

export function newDecodeOutput(): DecodeOutput {
  return { records: [], lines: [], ends: [], errors: [] }
}

export function resetDecodeOutput(out: DecodeOutput): void {
  out.records = []
  out.lines = []
  out.ends = []
  out.errors = []
}
