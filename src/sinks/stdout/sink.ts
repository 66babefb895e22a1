// The stdout sink at run time: formats a batch into one string and hands it to the output stream
// (process.stdout unless a test injects another), waiting for the stream's callback and, when its
// buffer is full, for 'drain': a slow reader slows the pipeline instead of growing memory.
import type { Writable } from 'node:stream'
import type { BuildContext, Sink } from '../../component/define.js'
import type { Rec } from '../../core/batch.js'
import { PermanentError, RetryableError } from '../../core/errors.js'
import { encodeJsonl } from '../../codecs/encode.js'
import { classifyFsError } from '../../delivery/classify-fs-error.js'
import type { StdoutOptions } from './index.js'
import { formatTable } from './table.js'

export class StdoutSink implements Sink {
  private readonly format: (records: Rec[]) => string
  private readonly target: string
  /** The stream's last 'error' event: without a listener an EPIPE would crash the process. */
  private streamError: Error | undefined
  private readonly onError = (e: Error) => {
    this.streamError = e
  }
  private listening = false
  private closed = false

  constructor(
    opts: StdoutOptions,
    _ctx: BuildContext,
    private readonly out: Writable = process.stdout,
  ) {
    // Chosen once so the hot path does not branch on the format per batch.
    this.format = opts.format === 'table' ? formatTable : encodeJsonl
    this.target = out === process.stdout ? 'standard output' : 'the output stream'
  }

  open(): void {
    if (this.listening) return
    this.out.on('error', this.onError)
    this.listening = true
  }

  async write(records: Rec[], signal: AbortSignal): Promise<void> {
    if (records.length === 0) return
    if (this.closed) throw new PermanentError(`The stdout sink is closed.`)
    this.open()
    if (this.streamError) throw classifyFsError(this.streamError, 'write to', this.target)
    if (this.out.destroyed || this.out.writableEnded) throw new PermanentError(`Cannot write to ${this.target}: it is closed.`)
    await this.put(this.format(records), signal)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    // The stream is not ours to end (process.stdout outlives the pipeline); only stop listening.
    if (this.listening) this.out.off('error', this.onError)
  }

  /** Resolve once the stream called back for `chunk` and, if its buffer filled up, drained. */
  private put(chunk: string, signal: AbortSignal): Promise<void> {
    const out = this.out
    return new Promise<void>((resolve, reject) => {
      let waits = 1
      let settled = false
      const settle = (err?: Error) => {
        if (settled) return
        if (err === undefined && --waits > 0) return
        settled = true
        out.off('drain', onDrain)
        out.off('close', onClose)
        signal.removeEventListener('abort', onAbort)
        if (err) reject(err)
        else resolve()
      }
      const onDrain = () => settle()
      const onClose = () => settle(new PermanentError(`Cannot write to ${this.target}: it was closed.`))
      // The bytes are in the stream's buffer and will most likely still be written; not
      // acknowledging them only means they may be read again on restart (at-least-once).
      const onAbort = () => settle(new RetryableError(`Stopped waiting for ${this.target} to drain: the pipeline is stopping.`))
      const ok = out.write(chunk, (err) => settle(err ? classifyFsError(err, 'write to', this.target) : undefined))
      // 'drain' is emitted before the write callback runs, and never synchronously inside write().
      if (!ok) {
        waits++
        out.on('drain', onDrain)
      }
      out.on('close', onClose)
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
    })
  }
}
