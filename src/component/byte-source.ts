// Shared machinery of sources that read bytes (file, stdin; later S3 objects): a reusable work
// buffer that keeps the incomplete tail of the previous read in front of the next one, a decoder
// run over it, and the emission of the decoded records as batches whose single ack commits the
// position just past the chunk (records and dead letters of a chunk commit together).
//
//   work: [ tail of previous read | newly read bytes ............ | free ]
//          0                      tailEnd                  end
//   decode(work, 0, end) → consumed; bytes [consumed, end) become the next tail (moved to 0).
import type { DecodeOutput, DecoderPosition, RecordDecoder } from '../codecs/types.js'
import { newDecodeOutput, resetDecodeOutput } from '../codecs/types.js'
import type { RecordTransform, SourceContext, SourceDeadLetter } from './define.js'
import type { ChainReport } from '../core/topology/fuse.js'
import type { Rec } from '../core/batch.js'
import { buildPortableStep, pushFilterDown } from '../core/threads/portable.js'

export class WorkBuffer {
  readonly buf: Buffer
  private tailStart = 0
  private end = 0

  /** `readSize` per read, plus room for a tail of up to `maxRecordBytes`. */
  constructor(readSize: number, maxRecordBytes: number) {
    this.buf = Buffer.allocUnsafe(readSize + maxRecordBytes + 1)
  }

  /** Move the tail to the front; returns the free region to read into. */
  freeRegion(): { offset: number; length: number } {
    if (this.tailStart > 0) {
      this.buf.copy(this.buf, 0, this.tailStart, this.end)
      this.end -= this.tailStart
      this.tailStart = 0
    }
    return { offset: this.end, length: this.buf.length - this.end }
  }

  /** `n` bytes were read into the free region; decode everything complete. */
  commit(n: number, final: boolean, decoder: RecordDecoder, out: DecodeOutput): void {
    this.end += n
    this.tailStart = decoder.decode(this.buf, this.tailStart, this.end, final, out)
    if (final) this.tailStart = this.end
  }

  /** `n` bytes were read into the free region; decode them with `decodeSlice`. */
  fill(n: number): void {
    this.end += n
  }

  /**
   * Decode the complete records of the next `sliceBytes` or so of pending bytes (the whole rest
   * when a record is longer than that). Returns true while pending bytes remain to be sliced;
   * with `final` the last slice decodes the tail as the last record too.
   *
   * Why slices: a 1 MiB read decoded at once keeps ~15k records alive until its batches are
   * emitted; scavenges that hit mid-chunk promote them to the old generation, which then grows
   * to ~90 MB before a full GC (W1 peak RSS 160 MB with projected records). 64 KiB slices keep
   * ~1k records alive at a time (W1: peak RSS 160 → 102 MB, the level before projection).
   */
  decodeSlice(sliceBytes: number, final: boolean, decoder: RecordDecoder, out: DecodeOutput): boolean {
    let stop = Math.min(this.end, this.tailStart + sliceBytes)
    let last = stop === this.end
    let next = decoder.decode(this.buf, this.tailStart, stop, final && last, out)
    if (next === this.tailStart && !last) {
      // No complete record in the slice: take everything there is.
      stop = this.end
      last = true
      next = decoder.decode(this.buf, this.tailStart, stop, final, out)
    }
    this.tailStart = final && last ? this.end : next
    return !last
  }

  /** Copy a chunk produced elsewhere (a decompression stream), decoding as the buffer fills. */
  push(chunk: Buffer, decoder: RecordDecoder, out: DecodeOutput): void {
    let at = 0
    while (at < chunk.length) {
      const free = this.freeRegion()
      const n = Math.min(free.length, chunk.length - at)
      chunk.copy(this.buf, free.offset, at, at + n)
      at += n
      this.commit(n, false, decoder, out)
    }
  }

  get pending(): number {
    return this.end - this.tailStart
  }
}

export interface EmitDecodedOptions {
  /** Most records per emitted batch. */
  batchSize: number
  /** Origin file name written into dead letters and batch origins. */
  file?: string
  /** Called with the decoder position once every batch and dead letter of this chunk is acked. */
  onCommit?: (position: DecoderPosition) => void
  /** Input bytes this chunk represents (for channel accounting). */
  bytes: number
  /**
   * The records already went through the source's portable steps (in a worker thread): what the
   * steps did, sent with the first batch through `ctx.emitProcessed`.
   */
  report?: ChainReport
  /**
   * Rows the decoder dropped unbuilt for the first of the source's portable steps, a filter
   * (predicate pushdown: core/threads/portable.ts): reported as received by it and passed by none.
   */
  prefiltered?: number
}

/** What `emitDecoded` sends: decoded (or decoded and processed) records with their lines. */
export interface DecodedChunk {
  records: Rec[]
  /** 1-based line number where record i starts. */
  lines: ArrayLike<number> & { slice(from: number, to: number): ArrayLike<number> }
  errors: SourceDeadLetter[]
}

/**
 * Emit what one decode produced: record batches plus the dead letters, sharing one commit.
 * Returns a promise when downstream is full; the caller awaits it before reading more.
 */
export async function emitDecoded(ctx: SourceContext<Rec>, out: DecodedChunk, position: DecoderPosition, o: EmitDecodedOptions): Promise<void> {
  const total = out.records.length
  // A processed chunk always sends its report, even when the steps kept nothing.
  const batches = o.report ? Math.max(1, Math.ceil(total / o.batchSize)) : Math.ceil(total / o.batchSize)
  const prefiltered = o.prefiltered ?? 0
  const parts = batches + (out.errors.length > 0 ? 1 : 0) + (prefiltered > 0 ? 1 : 0)
  if (parts === 0) {
    o.onCommit?.(position)
    return
  }
  let remaining = parts
  const ackOne = () => {
    if (--remaining === 0) o.onCommit?.(position)
  }
  if (out.errors.length > 0) {
    if (o.file !== undefined) for (const e of out.errors) e.file ??= o.file
    const p = ctx.deadLetter(out.errors, ackOne)
    if (p) await p
  }
  if (prefiltered > 0) {
    const report = { received: prefiltered, passed: new Int32Array(ctx.portable!.length), failures: [] }
    const p = ctx.emitProcessed!({ records: [], bytes: 0, origin: { source: ctx.id, file: o.file, lines: [] }, onAck: ackOne }, report)
    if (p) await p
  }
  for (let b = 0; b < batches; b++) {
    const from = b * o.batchSize
    const to = Math.min(total, from + o.batchSize)
    const whole = batches === 1
    const init = {
      records: whole ? out.records : out.records.slice(from, to),
      bytes: Math.ceil((o.bytes * (to - from)) / Math.max(1, total)),
      origin: { source: ctx.id, file: o.file, lines: whole ? out.lines : out.lines.slice(from, to) },
      onAck: ackOne,
    }
    const p = o.report ? ctx.emitProcessed!(init, b === 0 ? o.report : undefined) : ctx.emit(init)
    if (p) await p
  }
}

/**
 * Push the filter that directly follows the source into `decoder` when it can take it (a CSV
 * decoder, core/threads/portable.ts): rows the filter drops are not built. The caller passes
 * `decoder.takePrefiltered()` to emitDecoded as `prefiltered` with each chunk. Returns the
 * filter's id when pushed.
 */
export function pushDownFilter(ctx: SourceContext<Rec>, decoder: RecordDecoder): string | undefined {
  // Built once per run: a source makes a decoder per file, and per poll in follow mode.
  let pushable = pushableFilters.get(ctx)
  if (pushable === undefined) {
    const first = ctx.emitProcessed ? ctx.portable?.[0] : undefined
    pushable = first?.type === 'filter' ? { id: first.id, filter: buildPortableStep(first) } : null
    pushableFilters.set(ctx, pushable)
  }
  return pushable !== null && pushFilterDown(decoder, pushable.filter) ? pushable.id : undefined
}
const pushableFilters = new WeakMap<SourceContext<Rec>, { id: string; filter: RecordTransform } | null>()

export { newDecodeOutput, resetDecodeOutput }
