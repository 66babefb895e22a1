// The main-thread side of chunk workers: starts N workers for one source, hands them chunks
// round-robin and resolves each chunk's result. Results may complete out of order across
// workers; the source consumes them in the order it submitted them (see sources/file).
import type { Worker } from 'node:worker_threads'
import { SluiceError } from '../errors.js'
import type { ChunkResult, ChunkTask, WorkerReply, WorkerSetup } from './protocol.js'
import { claimPrewarmed, spawnChunkWorker } from './spawn.js'

interface Pending {
  resolve(r: ChunkResult): void
  reject(e: Error): void
}

export class ChunkWorkers {
  private readonly workers: Worker[] = []
  /** Per worker, the chunks it was given and has not answered yet (it answers in order). */
  private readonly queues: Pending[][] = []
  private next = 0
  private failure: SluiceError | undefined

  private constructor() {}

  /** Workers of this pool that were prewarmed (spawn.ts) rather than started here. */
  prewarmed = 0

  /** Start `n` workers (prewarmed ones first) and wait until each has built its decoder and steps. */
  static async start(n: number, setup: WorkerSetup): Promise<ChunkWorkers> {
    const pool = new ChunkWorkers()
    const ready: Promise<void>[] = []
    for (let k = 0; k < n; k++) {
      let w = claimPrewarmed()
      if (w) pool.prewarmed++
      else w = spawnChunkWorker(`sluice-chunks-${k}`)
      w.postMessage(setup)
      const queue: Pending[] = []
      pool.workers.push(w)
      pool.queues.push(queue)
      ready.push(
        new Promise<void>((resolve, reject) => {
          w.on('message', (m: WorkerReply) => {
            if (m.kind === 'ready') resolve()
            else if (m.kind === 'result') queue.shift()?.resolve(m.result)
            else reject(pool.fail(`a chunk worker failed: ${m.message}`))
          })
          w.on('error', (err) => reject(pool.fail(`a chunk worker crashed: ${err.message}`, (err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY')))
          // Workers only exit when closed or broken: either way no chunk still out will come back.
          w.on('exit', (code) => reject(pool.fail(`a chunk worker exited with code ${code}`)))
        }),
      )
    }
    try {
      await Promise.all(ready)
    } catch (e) {
      await pool.close()
      throw e
    }
    return pool
  }

  get size(): number {
    return this.workers.length
  }

  /** Hand a chunk to a worker; its buffer must stay untouched until the result is in. */
  submit(task: ChunkTask): Promise<ChunkResult> {
    if (this.failure) return Promise.reject(this.failure)
    // The worker with the fewest chunks out (ties: round-robin). Workers share the cores with
    // this thread, so one may fall behind; round-robin left the others idle (W1: 22% idle).
    let k = this.next
    for (let j = 0; j < this.queues.length; j++) if (this.queues[j]!.length < this.queues[k]!.length) k = j
    this.next = (k + 1) % this.workers.length
    return new Promise<ChunkResult>((resolve, reject) => {
      this.queues[k]!.push({ resolve, reject })
      this.workers[k]!.postMessage(task)
    })
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }

  /**
   * A worker broke (a bug, not bad data, or its heap ran out: under `memory_limit` node's heap
   * flags size every thread's heap): every chunk still out fails with the same error.
   */
  private fail(message: string, outOfMemory = false): SluiceError {
    this.failure ??= outOfMemory
      ? new SluiceError('SLC_MEMORY_LIMIT', 'a chunk worker thread ran out of heap: raise memory_limit, or set threads: 1 on the source')
      : new SluiceError('SLC_INTERNAL', message)
    for (const q of this.queues) for (const p of q.splice(0)) p.reject(this.failure)
    return this.failure
  }
}
