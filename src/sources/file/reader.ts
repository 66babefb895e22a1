// Where the chunk reader of the file source (readParallel) gets its bytes: the file itself, or
// its gzip-decompressed content. Both are read at absolute offsets, and the reader goes back a
// little when a chunk was not cut at a record boundary: a gzip stream only goes forward, so the
// gzip reader keeps what it decompressed from the oldest chunk still out to the workers.
import { createReadStream, type ReadStream } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { createGunzip, type Gunzip } from 'node:zlib'
import { errorMessage } from '../../core/errors.js'

/** Compressed bytes read from a gzip file at a time. */
const RAW_READ_BYTES = 256 * 1024

export interface ChunkReader {
  /**
   * Fill `target[at, at + length)` with the bytes from `position` on; fewer only at the end of
   * the input. `position` is never before the last `release`.
   */
  read(target: Buffer, at: number, length: number, position: number): Promise<number>
  /** Nothing before `position` will be read again (also where a resumed read starts). */
  release(position: number): void
  close(): Promise<void>
}

/** A plain file, read with positional reads. */
export class PlainFileReader implements ChunkReader {
  private constructor(private readonly fh: FileHandle) {}

  static async open(file: string): Promise<PlainFileReader> {
    return new PlainFileReader(await open(file, 'r'))
  }

  async read(target: Buffer, at: number, length: number, position: number): Promise<number> {
    return (await this.fh.read(target, at, length, position)).bytesRead
  }

  release(): void {}

  close(): Promise<void> {
    return this.fh.close()
  }
}

/**
 * A gzip file's decompressed bytes. Damage to the compressed data (a truncated file, a bad
 * block) ends the input where it happened, as the end of the file would, and is kept in
 * `damage` for the source to report; a read error of the file itself is thrown. Everything
 * zlib put out before the damage is read, however fast it is consumed (a stream's async
 * iterator drops what is still buffered when the stream fails: which records survived a
 * truncation depended on timing).
 */
export class GunzipReader implements ChunkReader {
  private readonly raw: ReadStream
  private readonly gunzip: Gunzip
  /** Put out by zlib, not read yet (~`queueBytes` at most: the file pauses above). */
  private readonly queue: Buffer[] = []
  private queued = 0
  /** Decompressed pieces from `keptFrom` on, in order; `streamed` is where the last one ends. */
  private readonly kept: Buffer[] = []
  private keptFrom = 0
  private streamed = 0
  /** Nothing before this is read again: pieces that end before it are dropped. */
  private released = 0
  private ended = false
  private failure: NodeJS.ErrnoException | undefined
  private wake: (() => void) | undefined
  private reported = 0
  /** What stopped the decompression early (a `Z_*` error), if anything. */
  damage: NodeJS.ErrnoException | undefined

  constructor(
    file: string,
    chunkSize: number,
    private readonly queueBytes = 16 * chunkSize,
  ) {
    // The decompressor is never paused: what it puts out goes to `queue` at once, so none of it
    // sits in the stream's own buffer, which a failing stream drops. The file is what pauses
    // (no pipe(), which would resume it on the decompressor's 'drain'), in small reads: one
    // read decompresses to ~10× its size before the pause takes effect.
    this.raw = createReadStream(file, { highWaterMark: RAW_READ_BYTES })
    this.gunzip = createGunzip({ chunkSize })
    this.raw.on('data', (c: string | Buffer) => {
      if (!this.gunzip.write(c)) this.raw.pause()
    })
    this.raw.on('end', () => this.gunzip.end())
    this.raw.on('error', (e) => this.gunzip.destroy(e))
    this.gunzip.on('drain', () => this.feed())
    this.gunzip.on('data', (c: Buffer) => {
      this.queue.push(c)
      this.queued += c.length
      if (this.queued >= this.queueBytes) this.raw.pause()
      this.notify()
    })
    this.gunzip.on('end', () => {
      this.ended = true
      this.notify()
    })
    this.gunzip.on('error', (e: NodeJS.ErrnoException) => {
      this.failure = e
      this.notify()
    })
  }

  /** Read on from the file while the decompressor takes input and the queue has room. */
  private feed(): void {
    if (this.raw.isPaused() && this.queued < this.queueBytes && !this.gunzip.writableNeedDrain) this.raw.resume()
  }

  /** Compressed bytes read from the file since the last call (the source's progress counts these). */
  takeFileBytesRead(): number {
    const n = this.raw.bytesRead - this.reported
    this.reported = this.raw.bytesRead
    return n
  }

  async read(target: Buffer, at: number, length: number, position: number): Promise<number> {
    if (position < this.released) throw new Error(`gzip reader: offset ${position} was released (up to ${this.released})`)
    let filled = 0
    while (filled < length) {
      const from = position + filled
      while (this.streamed <= from && (await this.pull()));
      if (this.streamed <= from) break
      // Find the piece holding `from` (the kept pieces are few: a chunk's worth per worker slot).
      let start = this.keptFrom
      let k = 0
      while (start + this.kept[k]!.length <= from) start += this.kept[k++]!.length
      const piece = this.kept[k]!
      const n = Math.min(length - filled, start + piece.length - from)
      piece.copy(target, at + filled, from - start, from - start + n)
      filled += n
    }
    return filled
  }

  release(position: number): void {
    if (position > this.released) this.released = position
    while (this.kept.length > 0 && this.keptFrom + this.kept[0]!.length <= this.released) this.keptFrom += this.kept.shift()!.length
  }

  /** Take the next decompressed piece; false at the end of the input (or at damage). */
  private async pull(): Promise<boolean> {
    while (this.queue.length === 0 && !this.ended && !this.failure) await new Promise<void>((resolve) => (this.wake = resolve))
    const piece = this.queue.shift()
    if (piece) {
      this.queued -= piece.length
      this.feed()
      this.kept.push(piece)
      this.streamed += piece.length
      // Resuming a file skips what was read before (release(start)) as it streams past.
      this.release(this.released)
      return true
    }
    if (this.failure && !this.damage) {
      // Only the decompression itself is damage; a read error of the file is an I/O failure.
      if (!this.failure.code?.startsWith('Z_')) throw new Error(errorMessage(this.failure), { cause: this.failure })
      this.damage = this.failure
    }
    return false
  }

  private notify(): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  async close(): Promise<void> {
    this.raw.destroy()
    this.gunzip.destroy()
  }
}
