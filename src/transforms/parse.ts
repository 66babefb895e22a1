/** The `parse` transform: decodes a field holding JSON, CSV, Avro or protobuf and merges the result into the record (or stores it under a field). */
import { avroOptionsSchema, checkSchemaBlocks, createFieldParser, createValueDecoder, csvOptionsSchema, protobufOptionsSchema } from '../codecs/index.js'
import { defineTransform, type RecordTransform } from '../component/define.js'
import { z } from '../component/options.js'
import type { Rec } from '../core/batch.js'
import { RecordError, isSluiceError } from '../core/errors.js'

const options = z
  .strictObject({
    field: z
      .string()
      .min(1)
      .default('message')
      .meta({ description: 'The field to parse: a string; for `avro` and `protobuf`, base64 text (standard or URL-safe alphabet) or bytes (a Buffer / Uint8Array, e.g. from a `function` transform).' }),
    format: z.enum(['json', 'csv', 'avro', 'protobuf']).meta({
      description:
        '`json`: the field holds one JSON object. `csv`: the field holds one CSV row, whose values are named by `csv.columns`. ' +
        '`avro`: one Avro record, schema in `avro.schema`. `protobuf`: one message of type `protobuf.message` from `protobuf.schema`. ' +
        'Avro and protobuf decode as in the `kafka` source (64-bit integers as numbers when exact, else strings; bytes as base64; enums by name).',
    }),
    csv: csvOptionsSchema
      .optional()
      .meta({
        description:
          'CSV dialect and columns, as for the `file` source; required with `format: csv`, and `csv.columns` must name the row\'s ' +
          'values in order with their types (`{ id: string, amount: float }`). `header` is ignored: a single value has no header row. ' +
          'A row with a different number of values, or a value that does not fit its type, is dead-lettered.',
      }),
    avro: avroOptionsSchema.optional(),
    protobuf: protobufOptionsSchema.optional(),
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
    checkSchemaBlocks(o, ctx)
  })

export type ParseOptions = z.output<typeof options>

/** `bytes`: the format is binary: the field may hold bytes, and a string holds them as base64. */
interface FieldParser {
  parse: (value: string | Uint8Array) => Rec
  bytes: boolean
  /** Every call returns a new plain object (text formats), which may stand in for the record. */
  fresh: boolean
}

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
    // A record that holds nothing but the source field (a generator's or a lines file's
    // `message`) becomes the parsed object itself: merging into it copied every field into a
    // new property store and left two objects per record for the GC (13% of W4's allocation).
    if (this.#removeSource && this.#parse.fresh && holdsOnly(record, this.#field)) return parsed
    // Delete before merging so a parsed field with the source's name survives.
    if (this.#removeSource) delete record[this.#field]
    Object.assign(record, parsed)
    return record
  }
}

function holdsOnly(record: Rec, field: string): boolean {
  for (const key in record) if (key !== field) return false
  return true
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

function parseField(id: string, field: string, parser: FieldParser, record: Rec): Rec {
  const value = record[field]
  if (typeof value !== 'string' && !(parser.bytes && value instanceof Uint8Array)) {
    throw new RecordError(
      'SLC_RECORD_PARSE',
      value === undefined
        ? `parse "${id}": the record has no field "${field}" to parse`
        : `parse "${id}": field "${field}" is ${kindOf(value)}, expected ${parser.bytes ? 'base64 text or bytes' : 'a string'}`,
    )
  }
  let parsed: unknown
  try {
    parsed = parser.parse(value)
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

/** Standard or URL-safe base64, padding optional; anything else is not taken for bytes. */
const BASE64 = /^(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2}(?:==)?|[A-Za-z0-9+/_-]{3}=?)?$/

function fromBase64(text: string): Buffer {
  if (!BASE64.test(text)) throw new RecordError('SLC_RECORD_PARSE', 'expected base64 text (the encoded message)')
  return Buffer.from(text, 'base64')
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
  summary: 'Decode a field holding JSON, a CSV row, or an Avro or protobuf message into fields.',
  description:
    'Reads the string in `field` (default `message`), decodes it, and either merges the resulting fields into the record ' +
    '(the default; the source field is then deleted unless `remove_source: false`) or stores the object under `target`.\n\n' +
    'Use it when a source delivers text inside a record: a `lines` file whose lines embed JSON, a Kafka value, an HTTP body. ' +
    'Files of JSON lines or CSV are better decoded by the source itself (`format:` on the source).\n\n' +
    '`avro` and `protobuf` decode a binary message carried as base64 text (an envelope like `{ "data": "CgNv…" }`) or as ' +
    'bytes, with the schema file read when the pipeline starts (not by `sluice validate`; a missing file or unknown message ' +
    'type stops the pipeline at start, naming the option). `wire_format: confluent` expects the Confluent framing, as in the ' +
    '`kafka` source; there is no Schema Registry client.\n\n' +
    'A record whose field is missing, is not a string (or bytes, for the binary formats), or does not decode (invalid JSON, a JSON ' +
    'value that is not an object, a CSV row with the wrong number of values, text that is not base64, a message that does not ' +
    'match its schema) goes to the dead-letter output with code `SLC_RECORD_PARSE` and the reason.',
  options,
  examples: [
    { title: 'JSON inside log lines', yaml: 'type: parse\ninputs: [app_log]\nformat: json' },
    {
      title: 'A CSV row in a field, kept apart',
      yaml:
        'type: parse\ninputs: [events]\nfield: payload\nformat: csv\ncsv:\n  delimiter: ";"\n  columns: { id: string, amount: float, currency: string }\ntarget: order',
    },
    {
      title: 'A base64 protobuf message inside a JSON envelope',
      yaml: 'type: parse\ninputs: [pushes]\nfield: data\nformat: protobuf\nprotobuf:\n  schema: schemas/clicks.proto\n  message: web.v1.Click\ntarget: click',
    },
  ],
  build(opts, ctx) {
    let parser: FieldParser
    if (opts.format === 'avro' || opts.format === 'protobuf') {
      // Reads the schema file: allowed I/O at build, like a lookup table (never by `sluice validate`).
      const decode = createValueDecoder(opts.format, { component: ctx.id, baseDir: ctx.baseDir, avro: opts.avro, protobuf: opts.protobuf })
      parser = { parse: (v) => decode(typeof v === 'string' ? fromBase64(v) : Buffer.from(v.buffer, v.byteOffset, v.byteLength)), bytes: true, fresh: false }
    } else {
      const text = createFieldParser(opts.format, { csv: opts.csv })
      parser = { parse: (v) => text(v as string), bytes: false, fresh: true }
    }
    if (opts.target === undefined) return new ParseMerge(ctx.id, opts.field, parser, opts.remove_source ?? true)
    return new ParseInto(ctx.id, opts.field, opts.target, parser, opts.remove_source ?? false)
  },
})
