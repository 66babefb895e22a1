// The fused loop of consecutive record transforms, shared by the main thread (topology/fuse.ts)
// and worker threads (core/threads/worker.ts), so a chain behaves the same wherever it runs.
import type { RecordTransform } from '../../component/define.js'
import type { Rec } from '../batch.js'

/** A record a step threw on: its index in the input, the record, the error and the step's id. */
export interface ChainFailure {
  i: number
  record: Rec
  error: unknown
  step: string
}

export interface StepsResult {
  /** Records that passed every step, compacted to the front of the input array. */
  kept: number
  /** After a drop: `index[k]` is the input position (composed with `inputIndex`) of survivor k. */
  index?: Uint32Array
  failures?: ChainFailure[]
}

/**
 * Run `records` through `steps` in one loop: no intermediate arrays, no per-record promises.
 * Survivors move to the front of `records` (the caller truncates it to `kept`); `passed[s]` is
 * incremented for every record step s let through.
 */
export function runRecordSteps(steps: readonly RecordTransform[], ids: readonly string[], records: Rec[], passed: Int32Array, inputIndex?: ArrayLike<number>): StepsResult {
  const n = steps.length
  const count = records.length
  let w = 0
  let index: Uint32Array | undefined
  let failures: ChainFailure[] | undefined
  for (let i = 0; i < count; i++) {
    let r: Rec | undefined = records[i]
    let s = 0
    try {
      for (; s < n; s++) {
        r = steps[s]!.process(r!)
        if (r === undefined) break
        passed[s]!++
      }
    } catch (error) {
      ;(failures ??= []).push({ i, record: records[i]!, error, step: ids[s]! })
      r = undefined
    }
    if (r === undefined) {
      // First drop: start an index so dead letters further down still find their origin.
      if (!index) {
        index = new Uint32Array(count)
        for (let k = 0; k < w; k++) index[k] = inputIndex ? inputIndex[k]! : k
      }
      continue
    }
    if (index) index[w] = inputIndex ? inputIndex[i]! : i
    records[w++] = r
  }
  return { kept: w, index: index?.subarray(0, w), failures }
}
