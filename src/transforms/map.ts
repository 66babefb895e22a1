/** The `map` transform: sets fields from CEL expressions, renames, casts, removes and projects fields of each record, in place. */
import { defineTransform } from '../component/define.js'
import { celExpression, z } from '../component/options.js'
import { CAST_TYPES, mapStep } from './steps/map.js'

export { CAST_TYPES, type CastType } from './steps/map.js'

const fieldName = z.string().min(1)

const options = z
  .strictObject({
    set: z
      .record(fieldName, celExpression('CEL expression whose value the field gets.'))
      .optional()
      .meta({
        description:
          'Step 1. Fields to set, each from a CEL expression over the record (`total: price * quantity`). Every expression sees the ' +
          'record as it was before this step, so `a: b` and `b: a` swap two fields. Existing fields are overwritten. A record an ' +
          'expression fails on goes to the dead-letter output.',
      }),
    rename: z
      .record(fieldName, fieldName)
      .optional()
      .meta({ description: 'Step 2. Fields to rename, `old: new`. A field the record lacks is skipped; an existing field named `new` is overwritten.' }),
    cast: z
      .record(fieldName, z.enum(CAST_TYPES))
      .optional()
      .meta({
        description:
          'Step 3. Fields to convert, `field: type` (after renames, so use the new names). `int`: a whole number, from a number or a numeric string. ' +
          '`float`: from a number or a numeric string. `string`: from anything (objects and lists become JSON). `bool`: from true/false, ' +
          '1/0 or the strings "true"/"false"/"1"/"0"/"yes"/"no" (any case). `timestamp`: an ISO-8601 UTC string, from an ISO-8601 string ' +
          '(no zone means UTC) or epoch seconds or milliseconds (numbers below 100,000,000,000 are seconds). `json`: parse a JSON ' +
          'string into its value (non-strings are left as they are). Missing fields and nulls are left as they are; a value that ' +
          'cannot be converted sends the record to the dead-letter output.',
      }),
    remove: z
      .array(fieldName)
      .optional()
      .meta({ description: 'Step 4. Fields to delete. Fields the record lacks are ignored.' }),
    keep: z
      .array(fieldName)
      .optional()
      .meta({ description: 'Step 5. Keep only these fields, in this order, dropping every other one (a projection). Fields the record lacks stay absent.' }),
  })
  .refine((o) => o.set !== undefined || o.rename !== undefined || o.cast !== undefined || o.remove !== undefined || o.keep !== undefined, {
    message: 'map needs at least one of `set`, `rename`, `cast`, `remove` or `keep`',
  })

export type MapOptions = z.output<typeof options>

export const map = defineTransform({
  type: 'map',
  status: 'stable',
  summary: 'Set, rename, convert, remove and select the fields of each record.',
  description:
    'Reshapes each record in place. The five operations run in a fixed order, whatever order they are written in:\n\n' +
    '1. `set`: compute fields with [CEL expressions](../../guides/expressions.md) (all evaluated against the record as it ' +
    'was before this step);\n' +
    '2. `rename`: rename fields;\n' +
    '3. `cast`: convert field values to `int`, `float`, `string`, `bool`, `timestamp` or parsed `json`;\n' +
    '4. `remove`: delete fields;\n' +
    '5. `keep`: keep only the listed fields.\n\n' +
    'At least one of them is required. A record on which an expression fails (a missing field, a type mismatch) or a cast ' +
    'is impossible (`"abc"` to `int`) goes to the dead-letter output with code `SLC_RECORD_TRANSFORM` and a message ' +
    'naming the field and value; the other records go on. To use two steps in another order, chain two `map` transforms: ' +
    'consecutive record transforms run fused in one loop, so this costs almost nothing.',
  options,
  examples: [
    {
      title: 'Compute a field and drop another',
      yaml: 'type: map\ninputs: [orders]\nset:\n  total: price * quantity\n  country: upper(country)\nremove: [internal_note]',
    },
    {
      title: 'Convert CSV strings to typed values',
      yaml: 'type: map\ninputs: [orders_csv]\ncast:\n  amount: float\n  quantity: int\n  paid: bool\n  created_at: timestamp',
    },
    {
      title: 'Rename and project',
      yaml: 'type: map\ninputs: [users]\nrename:\n  user_id: id\n  mail: email\nkeep: [id, email, country]',
    },
  ],
  build(opts, ctx) {
    return mapStep(opts, ctx.id)
  },
})
