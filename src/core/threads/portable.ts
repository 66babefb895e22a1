// Which transforms may run inside a source's worker threads, and how a worker builds them. A
// worker receives options, never functions; so a step qualifies when it is a built-in record
// transform whose behaviour is a pure function of its validated options (no I/O, no state across
// records, no user code). Workers import only this module's step builders (no option schemas:
// zod alone costs ~60 ms and ~14 MB per worker); the main thread plans with core/threads/plan.ts.
import type { RecordTransform } from '../../component/define.js'
import { filterStep } from '../../transforms/steps/filter.js'
import { mapStep } from '../../transforms/steps/map.js'

export type StepBuilder = (options: never, id: string) => RecordTransform

export const PORTABLE_STEPS: ReadonlyMap<string, StepBuilder> = new Map<string, StepBuilder>([
  ['filter', filterStep],
  ['map', mapStep],
])
