// The file sink at run time: encodes each batch once (JSON lines or CSV), gzip-flushes it when
// compressing, writes it with one FileHandle write, and rotates to `<stem>.<n><ext>` by size.
//
// A write that fails midway keeps its remaining bytes as `pending`:
//
//   write(batch) ──encode──► pending {bytes, offset, batch} ──fh.write…──► done (pending cleared)
//                                      │ error: offset stays where the OS stopped
//   write(same batch again) ───────────┴─► finish the remaining bytes only, then return
//
// so a retried batch is never written twice and the gzip stream (whose state already includes
// the batch) stays consistent. If the runner gives up on the batch instead, its remaining bytes
// are still written before the next batch: the file stays decodable, at the cost of those
// records being both in the file and in the dead-letter output.
import fs from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import nodePath from 'node:path'
import type { BuildContext, Sink } from '../../component/define.js'
import type { Rec } from '../../core/batch.js'
import { PartialBatchError, PermanentError, RecordError } from '../../core/errors.js'
import { createCsvEncoder, encodeJsonl, writeJsonl, type CsvEncoder } from '../../codecs/encode.js'
import { classifyFsError, fsErrorCode } from '../../delivery/classify-fs-error.js'
import type { Logger } from '../../observe/log.js'
import { endsUnterminated, GzipFlusher } from './gzip-flusher.js'
import type { FileOptions } from './index.js'

interface OpenFile {
  path: string
  fh: FileHandle
  /** Bytes in the file (compressed bytes with gzip), for rotation. */
  size: number
  gzip: GzipFlusher | undefined
  csv: CsvEncoder | undefined
}

interface Pending {
  bytes: Buffer
  offset: number
  /** The batch these bytes encode; a retry passes the same array. */
  records: Rec[]
  /** The bytes end the file (gzip trailer at rotation): close it and move to the next name once written. */
  closeAfter: boolean
}

const EMPTY = Buffer.alloc(0)
/** A write buffer larger than this is released after its write instead of kept for the next. */
const KEEP_WRITE_BUFFER_MAX = 16 * 1024 * 1024

export class FileSink implements Sink {
  private readonly base: string
  /** `events.jsonl.gz` → dir/`events` + `.jsonl.gz`: rotated names go between the two. */
  private readonly stem: string
  private readonly ext: string
  private readonly gzip: boolean
  private readonly log: Logger
  /** 0 is `path`, n ≥ 1 is `<stem>.<n><ext>`. */
  private index = 0
  private current: OpenFile | undefined
  private pending: Pending | undefined
  private opened = false
  private closed = false
  /**
   * JSON lines are encoded straight into this buffer, reused from write to write (its bytes are
   * free again once `pending` is written). Building one string per batch and copying it into a
   * new Buffer left a batch-sized flat string and ArrayBuffer per write for the GC: in W4 they
   * were 20% of all bytes allocated and most of the old space and external memory at peak.
   */
  private writeBuffer: Buffer = EMPTY

  constructor(
    private readonly opts: FileOptions,
    ctx: BuildContext,
  ) {
    this.base = nodePath.resolve(ctx.baseDir, opts.path)
    this.gzip = (opts.compression ?? (this.base.endsWith('.gz') ? 'gzip' : 'none')) === 'gzip'
    this.log = ctx.log
    const name = nodePath.basename(this.base)
    let ext = nodePath.extname(name)
    if (ext === '.gz') ext = nodePath.extname(name.slice(0, -3)) + ext
    this.ext = ext
    this.stem = this.base.slice(0, this.base.length - ext.length)
  }

  /** The name of file number `n` (0 = `path`). */
  pathOf(n: number): string {
    return n === 0 ? this.base : `${this.stem}.${n}${this.ext}`
  }

  async open(): Promise<void> {
    if (this.opened) return
    try {
      await fs.mkdir(nodePath.dirname(this.base), { recursive: true })
    } catch (e) {
      throw classifyFsError(e, 'create the folder of', this.base)
    }
    const rotating = this.opts.rotate_max_bytes !== undefined
    if (this.opts.append) {
      // Continue the last file of the numbered sequence (it exists after a rotation or after a crash left an unterminated gzip file).
      if (rotating || this.gzip) while (await exists(this.pathOf(this.index + 1))) this.index++
    } else if (rotating) {
      for (let n = 1; await exists(this.pathOf(n)); n++) {
        try {
          await fs.rm(this.pathOf(n))
        } catch (e) {
          throw classifyFsError(e, 'remove the earlier rotated file', this.pathOf(n))
        }
      }
    }
    await this.openCurrent()
    this.opened = true
  }

  async write(records: Rec[]): Promise<void> {
    if (records.length === 0) return
    if (this.closed) throw new PermanentError(`The file sink for ${this.base} is closed.`)
    if (!this.opened) await this.open()
    if (this.pending) {
      const earlier = this.pending.records
      await this.flushPending()
      await this.rotateIfFull(earlier)
      if (earlier === records) return
    }
    const file = this.current ?? (await this.openCurrent())
    let rejected: Map<number, Error> | undefined
    let bytes: Buffer
    try {
      bytes = this.encode(file, records)
    } catch (e) {
      // Only a record JSON cannot represent (a cycle, from a TS pipeline) makes encoding throw:
      // find those, write the rest, and report the bad ones instead of failing the whole batch.
      if (!(e instanceof TypeError)) throw e
      rejected = new Map()
      const good: Rec[] = []
      for (let i = 0; i < records.length; i++) {
        try {
          encodeJsonl([records[i]!])
          good.push(records[i]!)
        } catch (err) {
          rejected.set(i, new RecordError('SLC_RECORD_REJECTED', `Cannot encode the record as ${this.opts.format}: ${(err as Error).message}`, { cause: err }))
        }
      }
      // The failed call may have consumed the CSV header: start the encoder again on a new file.
      if (file.csv && file.size === 0) file.csv = this.csvEncoder(0)
      bytes = this.encode(file, good)
    }
    if (file.gzip) bytes = await file.gzip.compress(bytes)
    this.pending = { bytes, offset: 0, records, closeAfter: false }
    await this.flushPending()
    await this.rotateIfFull(records)
    if (rejected) throw new PartialBatchError(rejected)
  }

  /** The batch's bytes; JSON lines come back as a view of the reused write buffer. */
  private encode(file: OpenFile, records: Rec[]): Buffer {
    if (file.csv) return Buffer.from(file.csv.encode(records), 'utf8')
    const { buffer, length } = writeJsonl(records, this.writeBuffer)
    this.writeBuffer = buffer.length > KEEP_WRITE_BUFFER_MAX ? EMPTY : buffer
    return buffer.subarray(0, length)
  }

  private csvEncoder(size: number): CsvEncoder {
    const { delimiter, columns, header } = this.opts.csv
    return createCsvEncoder({ delimiter, columns, header: header && size === 0 })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      if (this.pending) await this.flushPending()
      const file = this.current
      // An untouched file appended to needs nothing; a new one gets an empty member so it is valid gzip.
      if (file?.gzip && (file.gzip.used || file.size === 0)) {
        this.pending = { bytes: await file.gzip.finish(), offset: 0, records: [], closeAfter: false }
        await this.flushPending()
      }
    } finally {
      const file = this.current
      this.current = undefined
      this.pending = undefined
      await file?.fh.close().catch(() => undefined)
    }
  }

  /**
   * Open file number `this.index`, skipping names that cannot be continued: a file already at the
   * rotation size, or a gzip file a crash left without trailer (a member appended after it would
   * be unreadable).
   */
  private async openCurrent(): Promise<OpenFile> {
    const limit = this.opts.rotate_max_bytes
    for (;;) {
      const path = this.pathOf(this.index)
      let fh: FileHandle
      let size: number
      let created: boolean
      try {
        created = !(await exists(path))
        fh = await fs.open(path, this.opts.append ? 'a' : 'w')
        size = (await fh.stat()).size
      } catch (e) {
        throw classifyFsError(e, 'open', path)
      }
      let skip = limit !== undefined && size >= limit
      if (!skip && this.gzip && size >= 4) {
        const tail = Buffer.alloc(4)
        const file = await fs.open(path, 'r')
        try {
          await file.read(tail, 0, 4, size - 4)
        } finally {
          await file.close()
        }
        if (endsUnterminated(tail)) {
          this.log.warn({ path, next: this.pathOf(this.index + 1) }, 'Gzip file has no trailer (an earlier run stopped abruptly); continuing in the next file.')
          skip = true
        }
      }
      if (skip) {
        await fh.close()
        this.index++
        continue
      }
      if (created && this.opts.fsync) await syncDir(nodePath.dirname(path))
      const csv = this.opts.format === 'csv' ? this.csvEncoder(size) : undefined
      this.current = { path, fh, size, gzip: this.gzip ? new GzipFlusher() : undefined, csv }
      return this.current
    }
  }

  /** Write what is left of `pending`; on failure it stays, with its offset where the OS stopped. */
  private async flushPending(): Promise<void> {
    const p = this.pending!
    const file = this.current!
    try {
      while (p.offset < p.bytes.length) {
        const { bytesWritten } = await file.fh.write(p.bytes, p.offset, p.bytes.length - p.offset)
        p.offset += bytesWritten
        file.size += bytesWritten
      }
      if (this.opts.fsync) await file.fh.datasync()
      if (p.closeAfter) {
        await file.fh.close()
        this.current = undefined
        this.index++
      }
    } catch (e) {
      throw classifyFsError(e, 'write to', file.path)
    }
    this.pending = undefined
  }

  /** After a write: once the file reached `rotate_max_bytes`, end it (gzip trailer) and close it. */
  private async rotateIfFull(records: Rec[]): Promise<void> {
    const limit = this.opts.rotate_max_bytes
    const file = this.current
    if (limit === undefined || file === undefined || file.size < limit) return
    const tail = file.gzip ? await file.gzip.finish() : EMPTY
    this.pending = { bytes: tail, offset: 0, records, closeAfter: true }
    await this.flushPending()
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await fs.stat(path)
    return true
  } catch (e) {
    if (fsErrorCode(e) === 'ENOENT') return false
    throw classifyFsError(e, 'inspect', path)
  }
}

/** fsync the folder so a newly created file's name survives power loss too (Linux; a no-op where unsupported). */
async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined
  try {
    fh = await fs.open(dir, 'r')
    await fh.sync()
  } catch {
    // Some platforms (Windows) cannot open or fsync a folder; the file's own fsync still applies.
  } finally {
    await fh?.close().catch(() => undefined)
  }
}
