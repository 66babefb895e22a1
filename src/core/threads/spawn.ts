// Starting chunk workers (worker.ts), and starting them early: a worker takes ~45 ms to boot
// and load its code (~90 ms when two start while the main thread is busy), which the first
// chunk of a file waited for. `sluice run` prewarms workers before it loads the CLI (~40 ms with
// its code cache, ~120 ms without), and the file source's pool claims them.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { SluiceError } from '../errors.js'

/**
 * Young generation of a chunk worker. Its records live for one 64 KiB slice, and what it sends
 * back for at most one chunk (256 KiB when records come back: the file source's
 * RECORD_CHUNK_BYTES), so a small young generation holds them all; V8's default lets each
 * worker's grow to ~48 MB of RSS. W2 with 2 threads and 256 KiB chunks (7 interleaved runs):
 * peak RSS 154 MB with 16 MB, 138 MB with 8 MB, in the same time (3.23 vs 3.22 s); W1 (1 MiB
 * pre-aggregated chunks) is unchanged (134–136 MB, 0.87–0.90 s), but took 8 MB more with 6 MB.
 * With 1 MiB chunks W2 had needed 16 MB (8 MB: 257 against 251 MB, 4 MB: slower).
 */
const WORKER_YOUNG_GENERATION_MB = 8

/** Prewarmed workers nobody claimed are stopped after this long (a pipeline without threads). */
const PREWARM_TTL_MS = 5000

/**
 * The compiled worker entry. Node 20 cannot start a worker from a `.ts` file (loader hooks do
 * not reach worker threads), so when this module runs from `src/` (tests, tsx) the entry is
 * its build output in `dist/`, which `npm test` builds first. In the CLI bundle (dist/bundle/cli.cjs
 * or launch.cjs) it is dist/bundle/worker.js, which loads worker.cjs with its code cache.
 */
function workerEntry(): URL {
  const here = new URL('./worker.js', import.meta.url)
  if (!import.meta.url.endsWith('.ts')) return here
  const built = new URL(here.href.replace('/src/core/threads/', '/dist/core/threads/'))
  if (!existsSync(fileURLToPath(built))) throw new SluiceError('SLC_INTERNAL', `worker threads need the compiled worker at ${fileURLToPath(built)}: run \`npm run build\``)
  return built
}

/** A new chunk worker, waiting for its setup (the first message it receives). */
export function spawnChunkWorker(name: string): Worker {
  return new Worker(workerEntry(), { name, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } })
}

// Shared through globalThis: the launcher and the CLI are separate bundles (and module copies).
const PREWARMED = Symbol.for('sluice.prewarmedChunkWorkers')
type Registry = { workers: Worker[] }
const registry = (): Registry => ((globalThis as Record<symbol, Registry | undefined>)[PREWARMED] ??= { workers: [] })

/**
 * Start `n` workers now, for a pool to claim later. They do not keep the process alive, and
 * those not claimed within PREWARM_TTL_MS stop. A worker that fails to start is dropped here;
 * the pool then starts its own.
 */
export function prewarmChunkWorkers(n: number): void {
  const r = registry()
  for (let k = 0; k < n; k++) {
    const w = spawnChunkWorker(`sluice-chunks-${k}`)
    w.unref()
    const drop = () => {
      const i = r.workers.indexOf(w)
      if (i >= 0) r.workers.splice(i, 1)
    }
    w.once('error', drop)
    w.once('exit', drop)
    r.workers.push(w)
  }
  setTimeout(() => {
    for (const w of r.workers.splice(0)) void w.terminate()
  }, PREWARM_TTL_MS).unref()
}

/** A prewarmed worker, now the caller's (referenced again), or undefined when none is left. */
export function claimPrewarmed(): Worker | undefined {
  const w = registry().workers.shift()
  if (w === undefined) return undefined
  w.removeAllListeners()
  w.ref()
  return w
}
