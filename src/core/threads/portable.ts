// Which transforms may run inside a source — in its worker threads, or pushed into its decoder on
// the main thread — and how they are built there. A worker receives options, never functions; so
// a step qualifies when it is a built-in record transform whose behaviour is a pure function of
// its validated options (no I/O, no state across records, no user code). Workers import only this
// module's step builders (no option schemas: zod alone costs ~60 ms and ~14 MB per worker); the
// main thread plans with core/threads/plan.ts.
import { CsvDecoder } from '../../codecs/formats/csv.js'
import type { RecordDecoder } from '../../codecs/types.js'
import type { RecordTransform } from '../../component/define.js'
import { filterStep, filterStringCondition } from '../../transforms/steps/filter.js'
import { mapStep } from '../../transforms/steps/map.js'
import type { PortableStep } from './protocol.js'

export type StepBuilder = (options: never, id: string) => RecordTransform

export const PORTABLE_STEPS: ReadonlyMap<string, StepBuilder> = new Map<string, StepBuilder>([
  ['filter', filterStep],
  ['map', mapStep],
])

/** The running step of a portable step's options (validated by the main thread's plan). */
export function buildPortableStep(s: PortableStep): RecordTransform {
  const build = PORTABLE_STEPS.get(s.type)
  if (!build) throw new Error(`transform type "${s.type}" cannot run inside a source`)
  return build(s.options as never, s.id)
}

/**
 * Predicate pushdown: `filter` (a built `filter` step, the first portable step after a source)
 * judges each row of a CSV decoder on the fields it reads before the row is built, and the rows
 * it drops are not built (W1 keeps 6% of its rows); `takePrefiltered` counts them, and whoever
 * emits the decoder's records reports them as received by the filter and passed by none. Returns
 * whether the decoder now prefilters.
 */
export function pushFilterDown(decoder: RecordDecoder, filter: RecordTransform): boolean {
  const reads = filter.fields?.()?.reads
  if (!(decoder instanceof CsvDecoder) || reads === undefined || reads.length === 0) return false
  decoder.setPrefilter(reads, (r) => filter.process(r) !== undefined, filterStringCondition(filter))
  return true
}
