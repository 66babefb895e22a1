// The main-thread side of chunk workers: starts N workers for one source, hands them chunks
// round-robin and resolves each chunk's result. Results may complete out of order across
// workers; the source consumes them in the order it submitted them (see sources/file).
import type { Worker } from 'node:worker_threads'
import { SluiceError } from '../errors.js'
import { addThreadProfile, workerProfiling, type CpuProfile } from '../../observe/profile.js'
import type { ChunkResult, ChunkTask, ProfileRequest, WorkerReply, WorkerSetup } from './protocol.js'
import { claimPrewarmed, spawnChunkWorker } from './spawn.js'

/** How long close() waits for a worker's CPU profile (`sluice run --profile`) before stopping it. */
const PROFILE_WAIT_MS = 10_000

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
  /** Per worker, who waits for its CPU profile (close() with `--profile`). */
  private readonly profileWaiters: ((p: CpuProfile | undefined) => void)[] = []
  private profiling = false

  private constructor() {}

  /** Workers of this pool that were prewarmed (spawn.ts) rather than started here. */
  prewarmed = 0

  /** Start `n` workers (prewarmed ones first) and wait until each has built its decoder and steps. */
  static async start(n: number, setup: WorkerSetup): Promise<ChunkWorkers> {
    const pool = new ChunkWorkers()
    const profileIntervalUs = workerProfiling()
    pool.profiling = profileIntervalUs !== undefined
    if (pool.profiling) setup = { ...setup, profileIntervalUs }
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
            else if (m.kind === 'profile') pool.profileWaiters[k]?.(m.profile)
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
    if (this.profiling) await Promise.all(this.workers.map((w, k) => this.collectProfile(w, k)))
    await Promise.all(this.workers.map((w) => w.terminate()))
  }

  /** Ask worker k for its CPU profile and hand it to the running profile (observe/profile.ts). */
  private collectProfile(w: Worker, k: number): Promise<void> {
    return new Promise<void>((resolve) => {
      // A worker that broke or exited never answers.
      const timer = setTimeout(resolve, PROFILE_WAIT_MS)
      this.profileWaiters[k] = (profile) => {
        clearTimeout(timer)
        if (profile) addThreadProfile({ thread: `chunk worker ${w.threadId}`, profile })
        resolve()
      }
      w.postMessage({ kind: 'profile' } satisfies ProfileRequest)
    })
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
