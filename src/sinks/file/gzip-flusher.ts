// A gzip stream driven one batch at a time: each `compress` returns the bytes of that batch ending
// on a Z_SYNC_FLUSH boundary, so everything written so far decodes even if the process dies before
// `finish` writes the gzip trailer. One compression dictionary spans the whole file, which keeps
// the ratio of small batches close to that of one big stream (a gzip member per batch would not).
import zlib from 'node:zlib'

export class GzipFlusher {
  private readonly gz = zlib.createGzip()
  private chunks: Buffer[] = []
  private failure: Error | undefined

  constructor() {
    // One listener for the stream's whole life: output is pushed before the flush/end callback
    // runs, and a listener added per call would leave gaps where removed listeners drop data.
    this.gz.on('data', (c: Buffer) => this.chunks.push(c))
    this.gz.on('error', (e) => {
      this.failure = e
    })
  }

  /** Whether any data went through the stream (a stream never used need not be finished). */
  used = false

  /** Compress `data` and return every byte produced up to a sync-flush point. */
  compress(data: Buffer): Promise<Buffer> {
    this.used = true
    return this.collect((done) => {
      this.gz.write(data)
      this.gz.flush(zlib.constants.Z_SYNC_FLUSH, done)
    })
  }

  /** End the stream: returns the final block and the trailer (CRC32, size). */
  finish(): Promise<Buffer> {
    return this.collect((done) => {
      this.gz.once('end', done)
      this.gz.end()
    })
  }

  private collect(start: (done: () => void) => void): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e)
      this.gz.once('error', onError)
      start(() => {
        this.gz.off('error', onError)
        const out = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)
        this.chunks = []
        resolve(out)
      })
    })
  }
}

/**
 * Whether a gzip file ends on a sync-flush marker (an empty stored block: 00 00 ff ff), i.e. a
 * writer stopped without its trailer. Appending a new gzip member after such a tail would make
 * the rest of the file undecodable, so the sink starts a new file instead.
 */
export function endsUnterminated(tail: Buffer): boolean {
  const n = tail.length
  return n >= 4 && tail[n - 4] === 0x00 && tail[n - 3] === 0x00 && tail[n - 2] === 0xff && tail[n - 1] === 0xff
}
