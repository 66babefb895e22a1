/** The `parse` transform: decodes a string field holding JSON or CSV and merges the result into the record (or stores it under a field). */
import { createFieldParser, csvOptionsSchema } from '../codecs/index.js'
import { defineTransform, type RecordTransform } from '../component/define.js'
import { z } from '../component/options.js'
import type { Rec } from '../core/batch.js'
import { RecordError, isSluiceError } from '../core/errors.js'

const options = z
  .strictObject({
    field: z.string().min(1).default('message').meta({ description: 'The string field to parse.' }),
    format: z.enum(['json', 'csv']).meta({
      description: '`json`: the field holds one JSON object. `csv`: the field holds one CSV row, whose values are named by `csv.columns`.',
    }),
    csv: csvOptionsSchema
      .optional()
      .meta({
        description:
          'CSV dialect and columns, as for the `file` source; required with `format: csv`, and `csv.columns` must name the row\'s ' +
          'values in order with their types (`{ id: string, amount: float }`). `header` is ignored: a single value has no header row. ' +
          'A row with a different number of values, or a value that does not fit its type, is dead-lettered.',
      }),
    target: z
      .string()
      .min(1)
      .optional()
      .meta({
        description:
          'Field that receives the parsed object. When absent, the parsed fields are merged into the record, replacing fields ' +
          'of the same name.',
      }),
    remove_source: z
      .boolean()
      .optional()
      .meta({
        description:
          'Delete the source `field` after parsing. Default: `true` when merging (no `target`), `false` with a `target` ' +
          '(the original text stays next to the parsed object). A parsed field named like the source field is kept either way.',
      }),
  })
  .superRefine((o, ctx) => {
    if (o.format === 'csv' && (o.csv?.columns === undefined || Object.keys(o.csv.columns).length === 0)) {
      ctx.addIssue({
        code: 'custom',
        path: o.csv === undefined ? ['csv'] : ['csv', 'columns'],
        message: '`format: csv` needs `csv.columns`, the names and types of the row\'s values in order',
      })
    }
    if (o.format !== 'csv' && o.csv !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['csv'], message: '`csv` settings apply only with `format: csv`' })
    }
  })

export type ParseOptions = z.output<typeof options>

type FieldParser = (text: string) => Rec

/** Two classes, one per destination, so the per-record path has no mode test. */
class ParseMerge implements RecordTransform {
  readonly kind = 'record'
  readonly #id: string
  readonly #field: string
  readonly #parse: FieldParser
  readonly #removeSource: boolean

  constructor(id: string, field: string, parse: FieldParser, removeSource: boolean) {
    this.#id = id
    this.#field = field
    this.#parse = parse
    this.#removeSource = removeSource
  }

  process(record: Rec): Rec {
    const parsed = parseField(this.#id, this.#field, this.#parse, record)
    // Delete before merging so a parsed field with the source's name survives.
    if (this.#removeSource) delete record[this.#field]
    Object.assign(record, parsed)
    return record
  }
}

class ParseInto implements RecordTransform {
  readonly kind = 'record'
  readonly #id: string
  readonly #field: string
  readonly #target: string
  readonly #parse: FieldParser
  readonly #removeSource: boolean

  constructor(id: string, field: string, target: string, parse: FieldParser, removeSource: boolean) {
    this.#id = id
    this.#field = field
    this.#target = target
    this.#parse = parse
    this.#removeSource = removeSource && target !== field
  }

  process(record: Rec): Rec {
    const parsed = parseField(this.#id, this.#field, this.#parse, record)
    if (this.#removeSource) delete record[this.#field]
    record[this.#target] = parsed
    return record
  }
}

function parseField(id: string, field: string, parse: FieldParser, record: Rec): Rec {
  const text = record[field]
  if (typeof text !== 'string') {
    throw new RecordError(
      'SLC_RECORD_PARSE',
      text === undefined
        ? `parse "${id}": the record has no field "${field}" to parse`
        : `parse "${id}": field "${field}" is ${kindOf(text)}, expected a string`,
    )
  }
  let parsed: unknown
  try {
    parsed = parse(text)
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    const code = isSluiceError(e) && e.code.startsWith('SLC_RECORD_') ? (e.code as 'SLC_RECORD_PARSE') : 'SLC_RECORD_PARSE'
    throw new RecordError(code, `parse "${id}": field "${field}": ${message}`, { cause: e })
  }
  // A JSON field may hold a bare value ("42", [1, 2]); merging or nesting needs an object.
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RecordError('SLC_RECORD_PARSE', `parse "${id}": field "${field}" holds ${kindOf(parsed)}, expected a JSON object`)
  }
  return parsed as Rec
}

function kindOf(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'object') return 'an object'
  return `a ${typeof v}`
}

export const parse = defineTransform({
  type: 'parse',
  status: 'stable',
  summary: 'Decode a string field holding JSON or a CSV row into fields.',
  description:
    'Reads the string in `field` (default `message`), decodes it, and either merges the resulting fields into the record ' +
    '(the default; the source field is then deleted unless `remove_source: false`) or stores the object under `target`.\n\n' +
    'Use it when a source delivers text inside a record: a `lines` file whose lines embed JSON, a Kafka value, an HTTP body. ' +
    'Files of JSON lines or CSV are better decoded by the source itself (`format:` on the source).\n\n' +
    'A record whose field is missing, is not a string, or does not decode (invalid JSON, a JSON value that is not an object, ' +
    'a CSV row with the wrong number of values) goes to the dead-letter output with code `SLC_RECORD_PARSE` and the reason.',
  options,
  examples: [
    { title: 'JSON inside log lines', yaml: 'type: parse\ninputs: [app_log]\nformat: json' },
    {
      title: 'A CSV row in a field, kept apart',
      yaml:
        'type: parse\ninputs: [events]\nfield: payload\nformat: csv\ncsv:\n  delimiter: ";"\n  columns: { id: string, amount: float, currency: string }\ntarget: order',
    },
  ],
  build(opts, ctx) {
    const parser: FieldParser =
      opts.format === 'csv'
        ? createFieldParser('csv', { csv: opts.csv })
        : createFieldParser('json')
    if (opts.target === undefined) return new ParseMerge(ctx.id, opts.field, parser, opts.remove_source ?? true)
    return new ParseInto(ctx.id, opts.field, opts.target, parser, opts.remove_source ?? false)
  },
})
