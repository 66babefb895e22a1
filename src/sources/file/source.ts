// The file source at run time: reads each matched file in large chunks into one reused buffer,
// decodes records, and checkpoints the byte offset just past the last acknowledged chunk, so a
// restart (even after kill -9) resumes there. In follow mode it tails growing files and picks up
// new files that match the glob.
import type { Stats } from 'node:fs'
import { open, stat, type FileHandle } from 'node:fs/promises'
import { resolve } from 'node:path'
import { crc32 } from 'node:zlib'
import { glob, isDynamicPattern } from 'tinyglobby'
import { createDecoder, encodedLines, type DecoderOptions } from '../../codecs/index.js'
import type { DecoderPosition, RecordDecoder } from '../../codecs/types.js'
import { LF } from '../../codecs/framing/newline.js'
import { threadsWithin } from '../../core/memory.js'
import { ChunkWorkers } from '../../core/threads/pool.js'
import { PartialRecord } from '../../core/threads/partial.js'
import type { ChunkResult } from '../../core/threads/protocol.js'
import type { ChainReport } from '../../core/topology/fuse.js'
import { WorkBuffer, emitDecoded, newDecodeOutput, pushDownFilter, resetDecodeOutput, type DecodedChunk } from '../../component/byte-source.js'
import type { BuildContext, Source, SourceContext, SourceDeadLetter } from '../../component/define.js'
import type { PositionTracker } from '../../core/checkpoint.js'
import type { Rec } from '../../core/batch.js'
import { SluiceError, errorMessage } from '../../core/errors.js'
import { sleep } from '../../delivery/backoff.js'
import type { FileSourceOptions } from './index.js'
import { GunzipReader, PlainFileReader, type ChunkReader } from './reader.js'
import { isGzip, threadsWanted } from './threads.js'

/** What is stored per file: where to resume, and how to recognise the same file again. */
export interface FilePosition extends DecoderPosition {
  ino: number
  size: number
  /**
   * CRC-32 of the file's first `fingerprintBytes` bytes: a file rewritten in place (same inode,
   * e.g. `cp` over it or a nightly export) is told apart from one that only grew.
   */
  fingerprint?: number
  fingerprintBytes?: number
  /** Set once a bounded read reached the end of the file and everything was acknowledged. */
  done?: boolean
}

const GZIP_CHUNK = 256 * 1024
/** Bytes decoded and emitted at a time out of each read (see WorkBuffer.decodeSlice). */
const DECODE_SLICE = 64 * 1024
/**
 * Bytes read at a time when this thread decodes between worker chunks (catchUp): the header, or
 * the records around a chunk not cut at a boundary. It needs only one whole record (a longer one
 * takes more reads), and the workers wait for it, on a decoder the JIT has not warmed: a whole
 * read_buffer (1 MiB) of W1 took ~25 ms here at the start, 64 KiB 4-16 ms, 8 KiB 0-3 ms.
 */
const CATCH_UP_READ = 8 * 1024
/** Bytes hashed to recognise a file; small files use all they have. */
const FINGERPRINT_BYTES = 1024

/**
 * Chunks in flight per worker thread. Results are emitted in file order, so a worker that falls
 * behind (the workers share the cores with this thread) holds up the chunks after its own; with
 * 2 per worker the others then sat idle (W1: one worker 22% idle). With 4, and each chunk given
 * to the worker with the fewest out (pool.ts), medians of 4 interleaved runs: W1 1.28 → 1.20 s,
 * W2 2.94 → 2.77 s, for 2 MiB more of read buffers per worker.
 */
const CHUNKS_PER_WORKER = 4

/**
 * The most a worker decodes at a time when the chunk's records come back (are not pre-aggregated):
 * they are what is in flight between the threads, and in smaller chunks they die young. W2 on 2
 * threads, 7 interleaved runs: 1 MiB chunks 4.23 s at 186 MB, 256 KiB 4.16 s at 154 MB; under
 * memory_limit's 2 MiB semi-spaces, 1 MiB took 5.4–5.8 s at 214 MB, 256 KiB 3.0–3.6 s at 109 MB.
 * A pre-aggregated chunk comes back as one partial and keeps read_buffer's size: W1 with 256 KiB
 * chunks took 7% longer (1.46 vs 1.36 s). So do a gzip file's without memory_limit: its main
 * thread decompresses, and each chunk costs it (W2 gzipped, 5 runs: 4.26 s at 219 MB with 1 MiB
 * chunks, 4.57 s at 195 MB with 256 KiB); under a limit its records outlive the small semi-spaces
 * (6.6–7.0 s at 166–171 MB against 5.8–6.9 s at 132 MB).
 */
const RECORD_CHUNK_BYTES = 256 * 1024

/** `threads: auto` judges whether workers pay after this many chunks (see AutoThreads). */
const AUTO_THREADS_JUDGE_CHUNKS = 8
/** … and goes back to the main thread when more than this share of records crossed back. */
const AUTO_THREADS_MAX_CROSSING = 0.4

/** CRC-32 of the first `length` bytes of a file, or undefined if it is shorter now. */
async function fingerprintOf(file: string, length: number): Promise<number | undefined> {
  const fh = await open(file, 'r')
  try {
    const buf = Buffer.alloc(length)
    const { bytesRead } = await fh.read(buf, 0, length, 0)
    return bytesRead === length ? crc32(buf) : undefined
  } finally {
    await fh.close()
  }
}

export class FileSource implements Source {
  private readonly pattern: string
  private readonly decoderOptions: DecoderOptions

  constructor(
    private readonly o: FileSourceOptions,
    private readonly build: BuildContext,
  ) {
    this.pattern = resolve(build.baseDir, o.path)
    this.decoderOptions = { csv: o.csv, maxRecordBytes: o.max_record_bytes }
  }

  async run(ctx: SourceContext<Rec>): Promise<void> {
    try {
      await this.readAll(ctx)
    } finally {
      await this.workers?.then((w) => w?.close(), () => undefined)
    }
  }

  private async readAll(ctx: SourceContext<Rec>): Promise<void> {
    const seen = new Set<string>()
    const literal = !isDynamicPattern(this.o.path)
    let first = true
    for (;;) {
      const files = await this.match(literal, first)
      first = false
      const fresh = files.filter((f) => !seen.has(f))
      if (!this.o.follow) {
        for (const f of fresh) {
          if (ctx.signal.aborted) return
          await this.readFile(ctx, f, literal)
          // Windows stop waiting for this file's watermark (it has no more records).
          if (!ctx.signal.aborted) await ctx.endPartition(f)
        }
        return
      }
      for (const f of fresh) seen.add(f)
      // Forget files that disappeared once everything read from them is acknowledged, so a
      // long-running tail of rotating logs keeps a bounded amount of state.
      const present = new Set(files)
      for (const f of seen) {
        if (present.has(f) || (this.states.get(f)?.tracker.inFlight ?? 0) > 0) continue
        seen.delete(f)
        this.states.delete(f)
        this.identity.delete(f)
      }
      // Follow mode: tail every known file round-robin (one at a time keeps order per file).
      for (const f of seen) {
        if (ctx.signal.aborted) return
        await this.readFile(ctx, f, literal)
      }
      try {
        await sleep(this.o.poll_interval, ctx.signal)
      } catch {
        return
      }
    }
  }

  private async match(literal: boolean, first: boolean): Promise<string[]> {
    if (literal) {
      let st: Stats
      try {
        st = await stat(this.pattern)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          if (this.o.follow) return []
          throw new SluiceError('SLC_SOURCE_NOT_FOUND', `file source "${this.build.id}": no file at ${this.o.path} (resolved to ${this.pattern})`)
        }
        throw new SluiceError('SLC_SOURCE_IO', `file source "${this.build.id}": cannot read ${this.pattern}: ${errorMessage(e)}`)
      }
      if (st.isDirectory()) {
        throw new SluiceError('SLC_SOURCE_IO', `file source "${this.build.id}": ${this.pattern} is a directory; use a glob such as "${this.o.path.replace(/\/?$/, '/*.csv')}"`)
      }
      return [this.pattern]
    }
    const files = (await glob(this.pattern, { absolute: true, onlyFiles: true, dot: false, expandDirectories: false })).sort()
    if (files.length === 0 && first && !this.o.follow) this.build.log.warn({ path: this.o.path }, 'No file matches the path.')
    return files
  }

  /** Read one file from its checkpoint to its current end. In follow mode, returns at EOF. */
  private async readFile(ctx: SourceContext<Rec>, file: string, literal: boolean): Promise<void> {
    const checkpoints = ctx.checkpoints
    let st: Stats
    try {
      st = await stat(file)
      if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && this.o.follow) return
      return this.fileFailed(ctx, file, literal, 'SLC_SOURCE_IO', `cannot read ${file}: ${errorMessage(e)}`)
    }
    const gzip = this.isGzip(file)
    // Where this file was left: this run's follow state, else the checkpoint of an earlier run.
    // `size` is the file size seen when that position was reached (compressed size for gzip,
    // whose offsets count decompressed bytes), so growth, truncation and replacement show.
    const state = this.states.get(file)
    const stored = checkpoints.get<FilePosition>(file)
    const known = state ?? stored
    let sameFile = known !== undefined && known.ino === st.ino && st.size >= known.size
    if (sameFile && st.size === known!.size && (known!.done || state !== undefined)) return
    if (sameFile && state === undefined && known!.fingerprintBytes) {
      // Same inode and not shorter, but maybe rewritten in place: compare the first bytes.
      sameFile = (await fingerprintOf(file, known!.fingerprintBytes).catch(() => undefined)) === known!.fingerprint
    }
    if (known && !sameFile) this.build.log.info({ file }, 'File was replaced, truncated or rewritten; reading it from the start.')
    const fingerprintBytes = Math.min(FINGERPRINT_BYTES, st.size)
    const start: FilePosition = sameFile
      ? known!
      : { offset: 0, line: 1, ino: st.ino, size: st.size, fingerprintBytes, fingerprint: fingerprintBytes > 0 ? await fingerprintOf(file, fingerprintBytes).catch(() => undefined) : undefined }
    this.identity.set(file, { fingerprint: start.fingerprint, fingerprintBytes: start.fingerprintBytes })
    ctx.progress({ bytesTotal: Math.max(0, st.size - (gzip ? 0 : start.offset)) })
    const tracker = state?.tracker ?? checkpoints.tracker<FilePosition>(file, sameFile ? stored : undefined)
    const decoder = createDecoder(this.o.format, { ...this.decoderOptions, fields: ctx.fields }, { offset: start.offset, line: start.line, state: start.state })
    // Records this thread decodes skip the rows a filter right after the source drops (emitAt
    // reports them), as the workers' do.
    const pushedDown = pushDownFilter(ctx, decoder)
    this.prefiltered = 0
    try {
      // Workers start while this thread decodes the first bytes (they take ~100 ms to load).
      // A gzip file's offsets count decompressed bytes: what is left to read is not known.
      const workers = this.workersFor(ctx, gzip ? st.size : st.size - start.offset, gzip)
      const seenSize = workers
        ? await this.readParallel(ctx, file, st, decoder, tracker, workers, gzip)
        : gzip
          ? await this.readGzip(ctx, file, st, decoder, tracker, start.offset)
          : await this.readPlain(ctx, file, st, decoder, tracker)
      if (pushedDown && !workers) this.build.log.debug({ file, filter: pushedDown, rows: this.prefiltered }, 'Rows the filter drops were skipped unbuilt by this thread\'s decoder.')
      // Follow mode continues from the decoder's position on the next poll.
      this.states.set(file, { ...decoder.position(), ino: st.ino, size: seenSize, tracker })
    } catch (e) {
      if (e instanceof SluiceError) return this.fileFailed(ctx, file, literal, e.code, e.message)
      return this.fileFailed(ctx, file, literal, 'SLC_SOURCE_IO', `error reading ${file}: ${errorMessage(e)}`)
    }
  }

  private isGzip(file: string): boolean {
    return isGzip(this.o.compression, file)
  }

  /** How each file being read is recognised, copied into every position stored for it. */
  private readonly identity = new Map<string, Pick<FilePosition, 'fingerprint' | 'fingerprintBytes'>>()

  private readonly states = new Map<string, FilePosition & { tracker: PositionTracker<FilePosition> }>()

  private async readPlain(ctx: SourceContext<Rec>, file: string, st: Stats, decoder: RecordDecoder, tracker: PositionTracker<FilePosition>): Promise<number> {
    const work = new WorkBuffer(this.o.read_buffer, this.o.max_record_bytes)
    // The next read runs (on libuv's thread pool) while the current one is decoded: the main
    // thread no longer idles on every read (profiles: "(idle)" 3.2% → <1% of W1, 10.2% → 2.3% of W2).
    const ahead = Buffer.allocUnsafe(this.o.read_buffer)
    let fh: FileHandle | undefined
    let next: Promise<{ bytesRead: number }> | undefined
    let out = newDecodeOutput()
    let pos = decoder.position().offset
    try {
      fh = await open(file, 'r')
      next = fh.read(ahead, 0, ahead.length, pos)
      for (;;) {
        if (ctx.signal.aborted) return pos
        const { bytesRead } = await next!
        next = undefined
        const free = work.freeRegion()
        // The decoder never leaves a tail longer than max_record_bytes, so a whole read fits.
        if (free.length < bytesRead) throw new Error(`work buffer has ${free.length} free bytes for a read of ${bytesRead}`)
        ahead.copy(work.buf, free.offset, 0, bytesRead)
        pos += bytesRead
        // At EOF a bounded read decodes the tail as the last record; follow mode waits for more.
        const final = bytesRead === 0 && !this.o.follow
        if (bytesRead === 0 && !final) return pos
        if (!final) next = fh.read(ahead, 0, ahead.length, pos)
        work.fill(bytesRead)
        ctx.progress({ bytesRead })
        for (let more = true; more; ) {
          const before = decoder.position().offset
          more = work.decodeSlice(DECODE_SLICE, final, decoder, out)
          await this.emit(ctx, file, st, decoder, tracker, out, decoder.position().offset - before, final && !more)
          out = resetDecoded(out)
          if (more && ctx.signal.aborted) return pos
        }
        if (final) return pos
      }
    } finally {
      // A read still in flight must finish before the handle closes.
      if (next) await next.catch(() => undefined)
      await fh?.close()
    }
  }

  /** `threads: auto` found that workers do not pay for this pipeline (see AutoThreads). */
  private threadsDeclined = false
  /** memory_limit allowed fewer threads than asked (said once). */
  private threadsCapped = false

  /** Chunk workers of this source: started with the first file big enough to need them. */
  private workers: Promise<ChunkWorkers> | undefined

  /**
   * The workers to read `bytes` of a file with, or undefined to read it on this thread: see
   * `threadsWanted` (threads.ts), or under `auto` a pipeline they were found not to pay for.
   */
  private workersFor(ctx: SourceContext<Rec>, bytes: number, gzip: boolean): Promise<ChunkWorkers> | undefined {
    const wanted = threadsWanted(this.o.threads, { follow: this.o.follow, bytes })
    const limit = this.build.memoryLimit
    if (wanted === 0 || (this.o.threads === 'auto' && this.threadsDeclined)) return undefined
    // Said only where workers would run without the limit.
    const n = threadsWithin(limit, wanted, gzip)
    if (n < wanted && !this.threadsCapped) {
      this.threadsCapped = true
      this.build.log.info({ threads: n, wanted, memory_limit: limit }, n < 2 ? 'memory_limit leaves no room for worker threads: reading on the main thread.' : `memory_limit leaves room for ${n} worker threads, not ${wanted}.`)
    }
    if (n < 2) return undefined
    if (this.workers) return this.workers
    this.workers = ChunkWorkers.start(n, {
      format: this.o.format,
      decoder: { ...this.decoderOptions, fields: ctx.fields },
      steps: ctx.emitProcessed ? (ctx.portable ?? []) : [],
      jsonLines: ctx.jsonLinesOut === true,
      aggregate: ctx.emitProcessed ? ctx.preaggregate?.step : undefined,
    })
    // A start failure surfaces where the workers are awaited; never as an unhandled rejection.
    this.workers.then((w) => this.build.log.debug({ threads: w.size, prewarmed: w.prewarmed }, 'Worker threads ready.')).catch(() => undefined)
    return this.workers
  }

  /**
   * Read a file with chunk workers. This thread reads line-aligned chunks (cut after the last LF
   * of each read) into pooled shared buffers, from the file or, `gzip`, from what it decompresses
   * to (reader.ts); workers decode them and run the portable steps; results are emitted strictly
   * in file order, so records, acks and checkpoints are exactly what `readPlain` (`readGzip`)
   * produces. Under `auto`, AutoThreads may send the rest of the file back to `readPlain`
   * (`readGzip`).
   *
   * A chunk is decoded on the assumption that it starts at a record boundary. That holds for
   * the first chunk (it starts where this thread's decoder stopped), and for each next one when
   * its predecessor consumed all its bytes. When a chunk does not (a quoted CSV field holds the
   * LF it was cut at, or an oversized record runs past it), its result and every later one are
   * dropped, this thread decodes one read from the chunk's start to find the true boundary, and
   * workers resume there.
   */
  private async readParallel(ctx: SourceContext<Rec>, file: string, st: Stats, decoder: RecordDecoder, tracker: PositionTracker<FilePosition>, starting: Promise<ChunkWorkers>, gzip: boolean): Promise<number> {
    const steps = ctx.emitProcessed ? (ctx.portable ?? []).length : 0
    // Pre-aggregation is admitted chunk by chunk; a chunk whose result is not emitted gives its
    // admission back (the aggregate counts admitted partials against its state bounds).
    const admit = ctx.emitProcessed ? ctx.preaggregate?.target : undefined
    const small = !admit && (!gzip || this.build.memoryLimit !== undefined)
    const size = small ? Math.min(this.o.read_buffer, RECORD_CHUNK_BYTES) : this.o.read_buffer
    const taken = (chunk: { preaggregate: boolean }) => {
      if (chunk.preaggregate) admit!.releasePartial()
    }
    let partials = 0
    const free: SharedArrayBuffer[] = []
    const inFlight: { result: Promise<ChunkResult>; buffer: SharedArrayBuffer; offset: number; length: number; final: boolean; preaggregate: boolean }[] = []
    const gunzip = gzip ? new GunzipReader(file, GZIP_CHUNK) : undefined
    const reader: ChunkReader = gunzip ?? (await PlainFileReader.open(file))
    // Progress counts bytes of the file: the compressed ones of a gzip file.
    const progress = (decoded: number) => ctx.progress({ bytesRead: gunzip ? gunzip.takeFileBytesRead() : decoded })
    let seq = 0
    try {
      let pos = decoder.position().offset
      // A resumed gzip file streams past what was read before.
      reader.release(pos)
      let eof = false
      // Bytes at offset 0 (BOM, CSV header) are decoded here; workers start after them.
      if (pos === 0) ({ offset: pos, eof } = await this.catchUp(ctx, file, st, decoder, tracker, reader, progress))
      const workers = await starting
      let line = decoder.position().line
      let uncut = false
      const judge = new AutoThreads(this.o.threads === 'auto')
      while (!ctx.signal.aborted) {
        const state = decoder.position().state
        // Keep CHUNKS_PER_WORKER chunks per worker in flight (see there).
        while (!eof && !uncut && !judge.declined && inFlight.length < CHUNKS_PER_WORKER * workers.size) {
          const buffer = free.pop() ?? new SharedArrayBuffer(size)
          const view = Buffer.from(buffer)
          const bytesRead = await reader.read(view, 0, size, pos)
          const final = bytesRead < size
          const length = final ? bytesRead : view.lastIndexOf(LF, size - 1) + 1
          if (length === 0) {
            free.push(buffer)
            // No LF in a whole read (a record longer than read_buffer): catch up here below.
            uncut = !final
            eof = final
            break
          }
          eof = final
          const preaggregate = admit?.reservePartial() ?? false
          inFlight.push({ result: workers.submit({ seq: seq++, buffer, length, offset: pos, state, final, preaggregate }), buffer, offset: pos, length, final, preaggregate })
          pos += length
        }
        const head = inFlight.shift()
        if (!head) {
          if (judge.declined && !eof) {
            // Workers do not pay for this pipeline: the rest of the file (and later files) here.
            this.threadsDeclined = true
            this.build.log.info({ file, crossed: judge.share() }, 'Most records cross back from the worker threads as objects; reading on the main thread.')
            // Their heaps are memory this source no longer needs.
            this.workers = undefined
            await workers.close()
            decoder.seek({ offset: pos, line, state })
            // (A gzip file is decompressed again from its start, up to here.)
            return gzip ? this.readGzip(ctx, file, st, decoder, tracker, pos) : this.readPlain(ctx, file, st, decoder, tracker)
          }
          if (!uncut) break
          // Every chunk before the long record is emitted: decode it here, then go on with workers.
          uncut = false
          decoder.seek({ offset: pos, line, state })
          ;({ offset: pos, eof } = await this.catchUp(ctx, file, st, decoder, tracker, reader, progress))
          line = decoder.position().line
          continue
        }
        const r = await head.result
        free.push(head.buffer)
        taken(head)
        if ((r.consumed !== head.length && !head.final) || r.discarding) {
          // Not cut at a record boundary: drop this and later results, decode here from its start.
          for (const later of inFlight.splice(0)) {
            await later.result
            free.push(later.buffer)
            taken(later)
          }
          uncut = false
          decoder.seek({ offset: head.offset, line, state })
          ;({ offset: pos, eof } = await this.catchUp(ctx, file, st, decoder, tracker, reader, progress))
          line = decoder.position().line
          continue
        }
        progress(r.consumed)
        judge.observe(r)
        if (r.partial) partials++
        const base = line - 1
        line += r.lineCount
        const done = head.final && !gunzip?.damage
        await this.emitAt(ctx, file, st, { offset: head.offset + r.consumed, line, state }, tracker, fromWorker(r, base), r.consumed, done, steps > 0 || r.partial ? reportOf(r, base, ctx.id, file) : undefined)
        reader.release(head.offset + r.consumed)
      }
      decoder.seek({ offset: pos, line, state: decoder.position().state })
      this.build.log.debug({ file, threads: workers.size, chunks: seq, chunk_bytes: size, ...(partials > 0 && { aggregate: ctx.preaggregate!.step.id, partials }) }, 'File decoded in worker threads.')
      const damage = gunzip?.damage
      if (damage && !ctx.signal.aborted) {
        // The end of what decompressed was emitted as the end of the input; the damage closes the file.
        const out = newDecodeOutput()
        out.errors.push(truncated(file, damage, pos, line))
        await this.emitAt(ctx, file, st, decoder.position(), tracker, out, 0, true)
      }
      return gzip ? st.size : pos
    } finally {
      // Chunks still out (shutdown) must come back before the file closes; their results are dropped.
      for (const later of inFlight) {
        await later.result.catch(() => undefined)
        taken(later)
      }
      await reader.close()
    }
  }

  /**
   * Decode on this thread from the decoder's position until at least one record ended there and
   * no oversized record is being discarded (or the file ended), emitting as it goes: the first
   * bytes of a file (BOM, CSV header), a chunk not cut at a record boundary, a record longer than
   * a read. Returns where workers resume, and whether the file ended.
   */
  private async catchUp(ctx: SourceContext<Rec>, file: string, st: Stats, decoder: RecordDecoder, tracker: PositionTracker<FilePosition>, reader: ChunkReader, progress: (decoded: number) => void): Promise<{ offset: number; eof: boolean }> {
    const start = decoder.position().offset
    const work = new WorkBuffer(this.o.read_buffer, this.o.max_record_bytes)
    const out = newDecodeOutput()
    let pos = start
    for (;;) {
      const free = work.freeRegion()
      const bytesRead = await reader.read(work.buf, free.offset, Math.min(free.length, CATCH_UP_READ), pos)
      pos += bytesRead
      const final = bytesRead === 0
      const before = decoder.position().offset
      work.commit(bytesRead, final, decoder, out)
      const after = decoder.position().offset
      progress(after - before)
      await this.emit(ctx, file, st, decoder, tracker, out, after - before, final && !damaged(reader))
      resetDecodeOutput(out)
      if (final) return { offset: after, eof: true }
      if ((after > start && !decoder.discarding) || ctx.signal.aborted) return { offset: after, eof: false }
    }
  }

  private async readGzip(ctx: SourceContext<Rec>, file: string, st: Stats, decoder: RecordDecoder, tracker: PositionTracker<FilePosition>, skip: number): Promise<number> {
    const work = new WorkBuffer(GZIP_CHUNK, this.o.max_record_bytes)
    const reader = new GunzipReader(file, GZIP_CHUNK)
    let out = newDecodeOutput()
    // Resume inside a compressed file: decompress from the start and stream past `skip` bytes.
    let pos = skip
    reader.release(pos)
    try {
      for (;;) {
        if (ctx.signal.aborted) return st.size
        const free = work.freeRegion()
        const n = await reader.read(work.buf, free.offset, Math.min(free.length, GZIP_CHUNK), pos)
        if (n === 0) break
        pos += n
        reader.release(pos)
        work.commit(n, false, decoder, out)
        ctx.progress({ bytesRead: reader.takeFileBytesRead() })
        await this.emit(ctx, file, st, decoder, tracker, out, n, false)
        out = resetDecoded(out)
      }
    } finally {
      await reader.close()
    }
    if (ctx.signal.aborted) return st.size
    work.freeRegion()
    work.commit(0, true, decoder, out)
    // A damaged gzip keeps what decoded cleanly and reports the damage once; the file's final
    // position commits only when that dead letter is written too (same chunk, same commit).
    if (reader.damage) out.errors.push(truncated(file, reader.damage, pos, decoder.position().line))
    await this.emit(ctx, file, st, decoder, tracker, out, 0, true)
    return st.size
  }

  /** Rows of the current file this thread's decoder skipped for a pushed-down filter (a debug figure). */
  private prefiltered = 0

  private emit(ctx: SourceContext<Rec>, file: string, st: Stats, decoder: RecordDecoder, tracker: PositionTracker<FilePosition>, out: DecodedChunk, bytes: number, final: boolean): Promise<void> {
    const prefiltered = decoder.takePrefiltered?.() ?? 0
    this.prefiltered += prefiltered
    return this.emitAt(ctx, file, st, decoder.position(), tracker, out, bytes, final, undefined, prefiltered)
  }

  private emitAt(ctx: SourceContext<Rec>, file: string, st: Stats, p: DecoderPosition, tracker: PositionTracker<FilePosition>, out: DecodedChunk, bytes: number, final: boolean, report?: ChainReport, prefiltered?: number): Promise<void> {
    // A plain file may have grown while it was read: its size is at least the offset reached.
    const gzip = this.isGzip(file)
    const position: FilePosition = { offset: p.offset, line: p.line, ino: st.ino, size: gzip ? st.size : Math.max(st.size, p.offset), ...this.identity.get(file) }
    if (p.state) position.state = p.state
    if (final) position.done = true
    const ack = tracker.push(position)
    return emitDecoded(ctx, out, p, { batchSize: this.o.batch_size, file, bytes, onCommit: ack, report, prefiltered })
  }

  private async fileFailed(ctx: SourceContext<Rec>, file: string, literal: boolean, code: SluiceError['code'], message: string): Promise<void> {
    if (literal) throw new SluiceError(code, `file source "${this.build.id}": ${message}`)
    // One bad file in a glob must not stop the others: report it and dead-letter the fact.
    this.build.log.error({ file, code }, message)
    const p = ctx.deadLetter([{ code, message, file }])
    if (p) await p
  }
}

/**
 * Whether workers pay for a pipeline, judged under `threads: auto` on its first chunks. A record
 * that crosses back to the main thread as an object costs about 0.8 µs in structured clone (both
 * sides), about what decoding it costs: when most decoded records cross back (no filter in the
 * workers drops them, no sink takes them as encoded lines), threads add CPU and memory for no
 * speed. Measured, 3M-row CSV → filter (keeps 50%) → map → SQLite: 6.4 s with 2 threads against
 * 6.6 s with one, but 9.5 against 6.5 s of CPU and 225 against 136 MB of RSS. W1 (keeps 6%) and W2
 * (encoded lines) cross far less.
 */
class AutoThreads {
  private chunks = 0
  private decoded = 0
  private crossed = 0
  declined = false

  constructor(private readonly auto: boolean) {}

  observe(r: ChunkResult): void {
    if (!this.auto || this.declined) return
    this.decoded += r.decoded
    this.crossed += r.records.length
    if (++this.chunks === AUTO_THREADS_JUDGE_CHUNKS && this.share() > AUTO_THREADS_MAX_CROSSING) this.declined = true
  }

  /** Records that crossed back as objects per record decoded. */
  share(): number {
    return this.decoded === 0 ? 0 : Math.round((this.crossed / this.decoded) * 100) / 100
  }
}

/** A worker's decoded chunk with absolute lines (`base` = the chunk's first line - 1). */
/** The damage that ended a gzip file early, if `reader` is one. */
function damaged(reader: ChunkReader): NodeJS.ErrnoException | undefined {
  return reader instanceof GunzipReader ? reader.damage : undefined
}

/** The dead letter of a gzip file whose decompression stopped at decompressed `offset`. */
function truncated(file: string, damage: NodeJS.ErrnoException, offset: number, line: number): SourceDeadLetter {
  const what = damage.code === 'Z_BUF_ERROR' ? 'compressed input ended early (truncated gzip)' : errorMessage(damage)
  return { code: 'SLC_SOURCE_TRUNCATED', message: `${file}: ${what}; records before the damage were kept`, file, offset, line }
}

function fromWorker(r: ChunkResult, base: number): DecodedChunk {
  const lines = r.lines
  for (let k = 0; k < lines.length; k++) lines[k] += base
  for (const e of r.errors) {
    if (e.line !== undefined) e.line += base
    // Structured clone turns a Buffer into a plain Uint8Array.
    const raw = e.raw as Uint8Array | string | undefined
    if (raw instanceof Uint8Array && !Buffer.isBuffer(raw)) e.raw = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
  }
  // A partial stands for the chunk's records: one record, at the chunk's first line.
  if (r.partial) return { records: [new PartialRecord(r.partial) as unknown as Rec], lines: Uint32Array.of(base + 1), errors: r.errors }
  return { records: r.encoded ? encodedLines(Buffer.from(r.encoded.bytes), r.encoded.ends) : r.records, lines, errors: r.errors }
}

/** What the worker's steps did, with each failure's origin. */
function reportOf(r: ChunkResult, base: number, source: string, file: string): ChainReport {
  return {
    received: r.decoded,
    passed: r.passed,
    failures: r.failures.map((f) => ({ i: f.i, record: f.record, step: f.step, error: new SluiceError(f.code, f.message), origin: { source, file, line: f.line + base } })),
  }
}

function resetDecoded(out: ReturnType<typeof newDecodeOutput>) {
  resetDecodeOutput(out)
  return out
}
