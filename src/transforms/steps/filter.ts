// The record step of the `filter` transform (declaration: ../filter.ts). Free of option schemas,
// so a source's worker threads can build it from validated options (core/threads/portable.ts).
import type { FieldUse, RecordTransform } from '../../component/define.js'
import { compileExpression, fieldsOf, type CompiledExpression, type StringCondition } from '../../component/expression.js'
import type { Rec } from '../../core/batch.js'
import type { FilterOptions } from '../filter.js'

class Filter implements RecordTransform {
  readonly kind = 'record'
  readonly #condition: CompiledExpression
  constructor(condition: CompiledExpression) {
    this.#condition = condition
  }
  process(record: Rec): Rec | undefined {
    return this.#condition.test(record) ? record : undefined
  }
  fields(): FieldUse | undefined {
    const reads = fieldsOf([this.#condition])
    return reads && { reads, passes: true }
  }
  stringCondition(): StringCondition | undefined {
    return this.#condition.stringCondition()
  }
}

/** The condition of a filter step when it is only string tests on fields (for the CSV prefilter). */
export function filterStringCondition(step: RecordTransform): StringCondition | undefined {
  return step instanceof Filter ? step.stringCondition() : undefined
}

export function filterStep(opts: FilterOptions, id: string): RecordTransform {
  return new Filter(compileExpression(opts.condition, { component: id, option: 'condition', type: 'filter', condition: true }))
}
