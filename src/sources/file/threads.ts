// How many worker threads the file source wants for one file, and whether it reads it through
// gunzip: shared by the source and by the launcher, which starts the workers early (cli/launch.ts
// `prewarm`) as many as memory_limit leaves room for. Free of option schemas.
import { availableParallelism } from 'node:os'

/**
 * Under `threads: auto`, files with less than this left to read are read on the main thread:
 * starting workers (each loads the decoders and steps) costs about as much as decoding it.
 */
export const AUTO_THREADS_MIN_BYTES = 32 * 1024 * 1024

/** Whether `file` is read through gunzip, by the source's `compression` option. */
export function isGzip(compression: unknown, file: string): boolean {
  return compression === 'gzip' || (compression === 'auto' && file.endsWith('.gz'))
}

/** Worker threads for reading `bytes` of a file (before memory_limit caps them); 0: none. */
export function threadsWanted(threads: 'auto' | number, file: { follow: boolean; bytes: number }): number {
  const wanted = threads === 'auto' ? availableParallelism() : threads
  // Follow mode reads appends in small pieces. A gzip file counts its compressed bytes.
  if (wanted < 2 || file.follow || (threads === 'auto' && file.bytes < AUTO_THREADS_MIN_BYTES)) return 0
  return wanted
}
