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
 * What a chunk worker thread adds to RSS: its isolate, code, an 8 MiB semi-space pair and the
 * few MiB of old space it uses (it holds one chunk's records at a time). Measured on W2.
 */
export const WORKER_THREAD_MIB = 36
/**
 * What worker threads reading a gzip file add on top (sources/file/reader.ts): the decompressed
 * bytes kept for the chunks still out, the queue ahead of them, and zlib's 256 KiB output
 * buffers, which stay allocated until a GC collects them. Measured on W2 gzipped, 2 threads:
 * 199–206 MiB of RSS under memory_limit 200–256MiB, against 159 MiB for the plain file.
 */
export const GZIP_THREADS_MIB = 16
/** Smallest main-thread heap: the engine's code, option schemas and one batch in flight. */
export const MIN_HEAP_MIB = 24
/** Smallest `memory_limit` accepted. */
export const MIN_MEMORY_LIMIT_MIB = OUTSIDE_HEAP_MIB + MIN_HEAP_MIB
/**
 * The main thread's heap beside chunk workers: it holds their results in order, the channels and
 * the sinks' batches. Less thrashed: W2 with 2 workers under old 24 MiB took 8 s against 4 s.
 */
const MAIN_WITH_WORKERS_MIB = 72

export interface HeapPlan {
  /** V8 `--max-semi-space-size`, MiB (a power of two): the young generation is 3 semi-spaces. */
  semiSpaceMiB: number
  /** V8 `--max-old-space-size`, MiB. */
  oldSpaceMiB: number
}

/**
 * Heap sizes for a process of `limitBytes`. Node's heap flags size every thread's heap, the main
 * thread's and each chunk worker's alike; the plan caps the main thread's and budgets the
 * workers that fit (`threadsWithin`, for every core, so `threads: auto` stays within the limit)
 * at what they use. The semi-space is as large as the heap allows, because records live for a
 * batch: with 2 MiB semi-spaces W2 (2 threads) took 10.9 s against 4.2 s, nearly every record
 * promoted and collected again by full GCs. Measured, peak RSS against unlimited:
 * W4 (one thread, 100 MiB → semi 4, old 38, 20 GB) 87 MiB against 126 MiB at 95% of the throughput;
 * W3 at 100k/s (80 MiB → semi 2, old 24) 77 MiB against 104 MiB, p99 20.6 against 16.6 ms.
 */
export function heapPlan(limitBytes: number, cores = availableParallelism()): HeapPlan {
  const workers = threadsWithin(limitBytes, cores)
  const heap = Math.floor(limitBytes / MiB) - OUTSIDE_HEAP_MIB - (workers > 1 ? workers * WORKER_THREAD_MIB : 0)
  const semiSpaceMiB = heap >= 72 ? 8 : heap >= 36 ? 4 : 2
  return { semiSpaceMiB, oldSpaceMiB: heap - 3 * semiSpaceMiB }
}

/** The node flags that give this process the heap of `heapPlan(limitBytes)`. */
export function memoryFlags(limitBytes: number): string[] {
  const p = heapPlan(limitBytes)
  return [`--max-old-space-size=${p.oldSpaceMiB}`, `--max-semi-space-size=${p.semiSpaceMiB}`]
}

/** Whether this process already runs with the heap `limitBytes` asks for (V8: old + 3 × semi). */
export function heapMatches(limitBytes: number): boolean {
  const p = heapPlan(limitBytes)
  return Math.round(getHeapStatistics().heap_size_limit / MiB) === p.oldSpaceMiB + 3 * p.semiSpaceMiB
}

/**
 * How many chunk workers fit beside the main thread in `limitBytes`, at most `wanted`: each adds
 * ~36 MiB and the main thread keeps a 72 MiB heap, so two need 194 MiB (210 MiB for a `gzip`
 * file: GZIP_THREADS_MIB). Under a tighter limit a file is read on the main thread alone (1),
 * slower but within bounds.
 */
export function threadsWithin(limitBytes: number | undefined, wanted: number, gzip = false): number {
  if (limitBytes === undefined) return wanted
  const spare = Math.floor(limitBytes / MiB) - OUTSIDE_HEAP_MIB - MAIN_WITH_WORKERS_MIB - (gzip ? GZIP_THREADS_MIB : 0)
  const n = Math.min(wanted, Math.floor(spare / WORKER_THREAD_MIB))
  return n >= 2 ? n : 1
}
