/** The `filter` transform: keeps the records for which a CEL condition is true and drops the rest. */
import { defineTransform } from '../component/define.js'
import { celExpression, z } from '../component/options.js'
import { filterStep } from './steps/filter.js'

const options = z.strictObject({
  condition: celExpression(
    'CEL condition evaluated against each record, whose fields are variables (`status == "paid" && amount > 0`). ' +
      'Records for which it is `true` pass; `false` drops them. A record it cannot be evaluated on (a missing field, ' +
      'a wrong type) or that makes it return something other than a bool goes to the dead-letter output.',
    { condition: true },
  ),
})

export type FilterOptions = z.output<typeof options>

export const filter = defineTransform({
  type: 'filter',
  status: 'stable',
  summary: 'Keep only the records for which a condition is true.',
  description:
    'The `condition` is a [CEL expression](../../guides/expressions.md) evaluated against each record: its fields are ' +
    'top-level variables, so `amount > 0` reads the field `amount`.\n\n' +
    'A record passes when the condition is `true` and is dropped (counted, not dead-lettered) when it is `false`. ' +
    'When the condition cannot be evaluated for a record (it names a field the record lacks, or compares a string ' +
    'with a number) or returns something other than a bool, the record goes to the dead-letter output with code ' +
    '`SLC_RECORD_TRANSFORM` and the reason. Test optional fields first: `has_field(discount) && discount > 0`.\n\n' +
    'The condition is compiled when the config is validated, so a syntax error or an unknown function is reported ' +
    'with its file, line and column before anything runs.',
  options,
  examples: [
    { title: 'Keep paid orders', yaml: 'type: filter\ninputs: [orders]\ncondition: status == "paid" && amount > 0' },
    { title: 'Keep errors from some services', yaml: 'type: filter\ninputs: [logs]\ncondition: level == "error" && service in ["api", "billing"]' },
    { title: 'An optional field', yaml: 'type: filter\ninputs: [orders]\ncondition: has_field(coupon) && coupon.startsWith("VIP")' },
  ],
  build(opts, ctx) {
    return filterStep(opts, ctx.id)
  },
})
