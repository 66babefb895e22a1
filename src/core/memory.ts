// `memory_limit`: one number for the whole process, turned into V8 heap sizes. Without it V8
// sizes the heap for throughput: 16 MiB semi-spaces and an old space that fills with garbage
// long before a major GC (W4: 32 MiB new space + 27–54 MiB old space for ~16 MiB of live data).
// Heap sizes are fixed when node starts, so the CLI re-runs node with these flags
// (cli/launch.ts); API users start node with them (`memoryFlags`). Free of option schemas: the
// launcher loads this before anything else.
import { availableParallelism } from 'node:os'
import { getHeapStatistics } from 'node:v8'

const MiB = 1024 * 1024

/**
 * RSS outside the V8 heaps: node's own code pages (~40 MiB once a pipeline runs), native buffers
 * and malloc. Measured on W4 with the heap capped: RSS − heap ≈ 45–50 MiB.
 */
export const OUTSIDE_HEAP_MIB = 50
/**
 * What a chunk worker thread adds to RSS besides its young generation (V8's heap flags size every
 * thread's heap alike: 3 semi-spaces of the plan's size): its isolate, code, and the few MiB of
 * old space it uses for one chunk's records. Measured with 256 KiB chunks (the file source's
 * RECORD_CHUNK_BYTES) and 2 MiB semi-spaces, against the same run on one thread: W1 +15, W2
 * +11 MiB per worker.
 */
const WORKER_BASE_MIB = 10
/**
 * What worker threads reading a gzip file add on top (sources/file/reader.ts): the decompressed
 * bytes kept for the chunks still out, the queue ahead of them, and zlib's 256 KiB output
 * buffers, which stay allocated until a GC collects them. Measured on W2 gzipped, 2 threads,
 * 2 MiB semi-spaces: 128–130 MiB of RSS under memory_limit 138MiB and 150MiB, against 108–110 MiB
 * for the plain file (122MiB, 150MiB): ~20 MiB more, of which the plan's other estimates absorb
 * the 4 beyond this reserve (the plain file used 109 of its 122 MiB).
 */
export const GZIP_THREADS_MIB = 16
/** Smallest main-thread heap: the engine's code, option schemas and one batch in flight. */
export const MIN_HEAP_MIB = 24
/** Smallest `memory_limit` accepted. */
export const MIN_MEMORY_LIMIT_MIB = OUTSIDE_HEAP_MIB + MIN_HEAP_MIB
/**
 * The main thread's old space beside chunk workers: it holds their results in order, the
 * channels and the sinks' batches. W2 with 2 workers (256 KiB chunks, 2 MiB semi-spaces): 4.6–5.0 s
 * under 16 MiB, 3.5–3.6 s under 32 MiB, as fast as without a limit.
 */
const MAIN_OLD_WITH_WORKERS_MIB = 34
/** RSS of one chunk worker under semi-spaces of `semiSpaceMiB`. */
export function workerThreadMiB(semiSpaceMiB: number): number {
  return WORKER_BASE_MIB + 3 * semiSpaceMiB
}

export interface HeapPlan {
  /** V8 `--max-semi-space-size`, MiB (a power of two): the young generation is 3 semi-spaces. */
  semiSpaceMiB: number
  /** V8 `--max-old-space-size`, MiB. */
  oldSpaceMiB: number
  /** Chunk worker threads budgeted beside the main thread (1: none, a file is read on the main thread). */
  workers: number
}

/** Semi-space sizes the plan tries, largest first (V8 keeps powers of two as they are). */
const SEMI_SPACES_MIB = [8, 4, 2]

/**
 * Heap sizes for a process of `limitBytes`. Node's heap flags size every thread's heap, the main
 * thread's and each chunk worker's alike; the plan budgets as many workers as fit (`threads:
 * auto` on every core stays within the limit), then the largest semi-space that costs no worker
 * (for a plain file nor for a gzip one): threads are the larger gain (W5: 1.9×). The main thread
 * gets the rest.
 * - With workers, records live for a chunk in a worker and for a batch on the main thread, and
 *   chunks whose records come back are small (the file source's RECORD_CHUNK_BYTES): 2 MiB
 *   semi-spaces cost W2 no time.
 * - Without, the semi-space is as large as the heap allows: records live for a batch, and W2 on
 *   one thread under 2 MiB semi-spaces took 8.4–9.3 s against 6.7–7.4 s under 8 MiB.
 * Measured, peak RSS against unlimited: W4 (one thread, 100 MiB → semi 4, old 38, 20 GB) 87 MiB
 * against 126 MiB at 95% of the throughput; W3 at 100k/s (80 MiB → semi 2, old 24) 77 MiB against
 * 104 MiB, p99 20.6 against 16.6 ms.
 */
export function heapPlan(limitBytes: number, cores = availableParallelism()): HeapPlan {
  const mib = Math.floor(limitBytes / MiB)
  // The smallest semi-space leaves the most room for workers.
  const workers = workersFitting(mib, 2, cores, 0)
  if (workers > 1) {
    const gzipWorkers = workersFitting(mib, 2, cores, GZIP_THREADS_MIB)
    const semiSpaceMiB = SEMI_SPACES_MIB.find((semi) => workersFitting(mib, semi, cores, 0) === workers && workersFitting(mib, semi, cores, GZIP_THREADS_MIB) === gzipWorkers)!
    return { semiSpaceMiB, oldSpaceMiB: mib - OUTSIDE_HEAP_MIB - workers * workerThreadMiB(semiSpaceMiB) - 3 * semiSpaceMiB, workers }
  }
  const heap = mib - OUTSIDE_HEAP_MIB
  const semiSpaceMiB = heap >= 72 ? 8 : heap >= 36 ? 4 : 2
  return { semiSpaceMiB, oldSpaceMiB: heap - 3 * semiSpaceMiB, workers }
}

/** Chunk workers that fit in `mib` beside a main thread, at most `wanted` (1: none). */
function workersFitting(mib: number, semiSpaceMiB: number, wanted: number, reserveMiB: number): number {
  const spare = mib - OUTSIDE_HEAP_MIB - MAIN_OLD_WITH_WORKERS_MIB - 3 * semiSpaceMiB - reserveMiB
  const n = Math.min(wanted, Math.floor(spare / workerThreadMiB(semiSpaceMiB)))
  return n >= 2 ? n : 1
}

/**
 * V8 flags that go with a planned heap. Allocation-site pretenuring makes V8 allocate an object
 * literal's later objects straight in old space once most of those it saw survived a scavenge.
 * Under 2 MiB semi-spaces, records in flight (alive for a sink's linger) look like that: in 4
 * of ~30 runs of W3 under 80MiB (100k events/s) a hot site was tenured at start and stayed so, and
 * the old space filled at ~30 MB/s: a mark-compact every ~140 ms instead of every ~1.2 s, 3.7
 * instead of 0.8 s of GC per 30 s, p99 +60%. With pretenuring off: not once in 24 runs. W1 under
 * 80MiB and W2 under 150MiB took the same time either way (5 interleaved runs each).
 */
const GC_FLAGS = ['--no-allocation-site-pretenuring']

/**
 * The node flags that give this process the heap of `heapPlan(limitBytes, cores)`, and the GC
 * behaviour that suits it (GC_FLAGS). A pipeline
 * without a file source has no chunk workers to make room for: pass `cores` 1, and its main
 * thread gets the whole heap and the largest semi-space (what `sluice run` does). Generator →
 * parse → filter → file under 150 MiB: 78 MB/s with the single-thread plan (semi 8, old 76),
 * 63–64 MB/s with the plan that keeps room for two workers (semi 2, old 62).
 */
export function memoryFlags(limitBytes: number, cores = availableParallelism()): string[] {
  const p = heapPlan(limitBytes, cores)
  return [`--max-old-space-size=${p.oldSpaceMiB}`, `--max-semi-space-size=${p.semiSpaceMiB}`, ...GC_FLAGS]
}

/** Whether this process already runs with the heap `heapPlan(limitBytes, cores)` (V8: old + 3 × semi). */
export function heapMatches(limitBytes: number, cores = availableParallelism()): boolean {
  const p = heapPlan(limitBytes, cores)
  return Math.round(getHeapStatistics().heap_size_limit / MiB) === p.oldSpaceMiB + 3 * p.semiSpaceMiB
}

/**
 * How many chunk workers fit beside the main thread in `limitBytes`, at most `wanted`: those
 * `heapPlan` budgeted, fewer for a `gzip` file (GZIP_THREADS_MIB). On 2 cores two need 122 MiB
 * (138 MiB for a gzip file); more room first goes to larger semi-spaces (4 MiB from 156 MiB, 8 MiB
 * from 192 MiB). Under a tighter limit a file is read on the main thread alone (1), slower but
 * within bounds.
 */
export function threadsWithin(limitBytes: number | undefined, wanted: number, gzip = false, cores = availableParallelism()): number {
  if (limitBytes === undefined) return wanted
  const plan = heapPlan(limitBytes, cores)
  if (plan.workers < 2) return 1
  return workersFitting(Math.floor(limitBytes / MiB), plan.semiSpaceMiB, Math.min(wanted, plan.workers), gzip ? GZIP_THREADS_MIB : 0)
}
