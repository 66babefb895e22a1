// Entry point of the record codecs: decoders for byte-reading sources, one-value parsers for the
// `parse` transform, and the shared CSV option schema, so every component speaks the same formats.
import { isUtf8 } from 'node:buffer'
import { resolve } from 'node:path'
import { path, z } from '../component/options.js'
import type { Rec } from '../core/batch.js'
import { ConfigError, RecordError } from '../core/errors.js'
import { createAvroDecoder } from './formats/avro.js'
import { createProtobufDecoder } from './formats/protobuf.js'
import { CsvDecoder, type CsvColumnType, type CsvOptions } from './formats/csv.js'
import { DEFAULT_MAX_RAW_BYTES } from './framing/newline.js'
import { newDecodeOutput, type DecoderPosition, type RecordDecoder } from './types.js'

export type { CsvColumnType, CsvOptions }
export type { DecodeOutput, DecoderPosition, DecoderState, RecordDecoder } from './types.js'
export { newDecodeOutput, resetDecodeOutput } from './types.js'
export { encodeJson, encodeJsonl, encodedLines, recordOf, EncodedLine, createCsvEncoder, type CsvEncoder, type CsvEncoderOptions } from './encode.js'
export { DEFAULT_MAX_RAW_BYTES }
export { createDecoder, type DecoderFormat, type DecoderOptions } from './decoders.js'

const singleAscii = (what: string) =>
  z
    .string()
    .refine((s) => s.length === 1 && s.charCodeAt(0) < 0x80 && s !== '\n' && s !== '\r', {
      message: `${what} must be one ASCII character other than CR and LF`,
    })

/**
 * The CSV options block, shared by every component that reads CSV (file source, parse transform).
 * Embed it as `csv: csvOptionsSchema.prefault({})` to get the defaults when the block is absent.
 */
export const csvOptionsSchema = z
  .strictObject({
    delimiter: singleAscii('delimiter')
      .default(',')
      .meta({ description: 'Character between fields: one ASCII character, e.g. `;` or `"\\t"` for TSV.' }),
    quote: singleAscii('quote')
      .default('"')
      .meta({ description: 'Character around fields that hold the delimiter, quotes or newlines; doubled inside a field.' }),
    header: z
      .boolean()
      .default(true)
      .meta({ description: 'Whether the first row holds the column names. Without it, columns are named by `columns` or `column_1`, `column_2`, ….' }),
    columns: z
      .record(z.string().min(1), z.enum(['string', 'int', 'float', 'bool', 'timestamp']))
      .optional()
      .meta({
        description:
          'Declared column types by name (`string`, `int`, `float`, `bool`, `timestamp`). With `header: false` the key order also names the columns. ' +
          'An empty field is null; a value that does not fit its type dead-letters the row. Timestamps become ISO-8601 strings (epoch digits: seconds up to 11 digits, else milliseconds; no zone means UTC).',
      }),
    infer_types: z
      .boolean()
      .default(true)
      .meta({
        description:
          'For columns without a declared type: numbers become numbers (integers only when exactly representable, no leading zeros), `true`/`false` booleans and an empty field null. Off: every value stays a string.',
      }),
  })
  .refine((o) => o.delimiter !== o.quote, { message: '`delimiter` and `quote` must differ', path: ['quote'] })
  .meta({ description: 'CSV dialect (RFC 4180) and column types.' })

export type FieldFormat = 'json' | 'csv' | 'lines'

export interface FieldParserOptions {
  /** For `csv`: `columns` is required (a single value has no header row); `header` is ignored. */
  csv?: CsvOptions
}

/**
 * A parser of one string value into a record, for the `parse` transform: `json` → the object,
 * `csv` → one row keyed by the declared `columns`, `lines` → `{ message }`. Throws RecordError
 * (SLC_RECORD_PARSE) for a value that does not parse; ConfigError at creation for bad options.
 */
export function createFieldParser(format: FieldFormat, options: FieldParserOptions = {}): (text: string) => Rec {
  switch (format) {
    case 'json':
      return parseJsonObject
    case 'lines':
      return (text) => ({ message: text })
    case 'csv':
      return csvFieldParser(options.csv)
    default:
      throw new ConfigError('SLC_CONFIG_INVALID', `unknown parse format "${String(format)}"`)
  }
}

function parseJsonObject(text: string): Rec {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new RecordError('SLC_RECORD_PARSE', (err as Error).message)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RecordError('SLC_RECORD_PARSE', 'expected a JSON object')
  }
  return value as Rec
}

function csvFieldParser(csv: CsvOptions | undefined): (text: string) => Rec {
  if (csv?.columns === undefined || Object.keys(csv.columns).length === 0) {
    throw new ConfigError('SLC_CONFIG_INVALID', 'parsing a field as CSV needs `csv.columns` to name the columns (a single value has no header row)', {
      path: 'csv.columns',
    })
  }
  // One decoder for every value: the schema (and its compiled record builder) is built once.
  // Each value is a complete input (final), so no state carries from one value to the next.
  const decoder = new CsvDecoder({ ...csv, header: false, maxRecordBytes: Number.MAX_SAFE_INTEGER, maxRawBytes: 0, bom: false })
  const out = newDecodeOutput()
  return (text) => {
    out.records.length = 0
    out.lines.length = 0
    out.ends.length = 0
    out.errors.length = 0
    const buf = Buffer.from(text, 'utf8')
    decoder.decode(buf, 0, buf.length, true, out)
    const error = out.errors[0]
    if (error !== undefined) throw new RecordError(error.code as Extract<typeof error.code, `SLC_RECORD_${string}`>, error.message)
    if (out.records.length !== 1) {
      throw new RecordError('SLC_RECORD_PARSE', out.records.length === 0 ? 'expected one CSV row, found none' : `expected one CSV row, found ${out.records.length}`)
    }
    return out.records[0]!
  }
}

/** CSV options as `csvOptionsSchema` outputs them (defaults filled); assignable to CsvOptions. */
export type CsvOptionsConfig = z.output<typeof csvOptionsSchema>

/** The `wire_format` option of a binary format; `indexes` is what the protobuf framing adds. */
const wireFormat = (indexes = '') =>
  z
    .enum(['plain', 'confluent'])
    .default('plain')
    .meta({
      description:
        '`plain`: the value is the encoded message alone. `confluent`: the Confluent Schema Registry framing, i.e. magic byte 0 and a 4-byte ' +
        `schema id${indexes} before the message. The id is not checked: there is no registry client, every value is decoded with the schema file. ` +
        'A value without the framing is dead-lettered.',
    })

/** The `avro` options block of a component that decodes Avro values (kafka source, parse transform). */
export const avroOptionsSchema = z
  .strictObject({
    schema: path('The writer schema the values were encoded with: one `.avsc` file (JSON) whose top-level type is a record, defining every named type it uses (no schema evolution to a different reader schema). Relative paths resolve against the config file\'s folder. Read when the pipeline starts, not by `sluice validate`.').meta({
      examples: ['schemas/order.avsc'],
    }),
    wire_format: wireFormat(),
  })
  .meta({ description: 'The Avro schema and framing (format `avro` only).' })

/** The `protobuf` options block of a component that decodes protobuf values (kafka source, parse transform). */
export const protobufOptionsSchema = z
  .strictObject({
    schema: path(
      'The `.proto` file (proto2 or proto3) that defines `message`; its imports resolve from its folder, and the well-known `google/protobuf/*.proto` types are built in. ' +
        'Relative paths resolve against the config file\'s folder. Read when the pipeline starts, not by `sluice validate`.',
    ).meta({ examples: ['schemas/order.proto'] }),
    message: z
      .string()
      .min(1)
      .meta({ description: 'The fully-qualified message type every value holds: package and name, e.g. `shop.v1.Order`.', examples: ['shop.v1.Order'] }),
    wire_format: wireFormat(
      ', then the message-index list (only `[0]`, the first message type of the registered schema, written as one 0 byte, is supported)',
    ),
  })
  .meta({ description: 'The protobuf schema, message type and framing (format `protobuf` only).' })

/**
 * For a component's `superRefine`: `format: avro` needs the `avro` block and the block needs that
 * format (the same for `protobuf`), reported at the block.
 */
export function checkSchemaBlocks(o: { format: string; avro?: unknown; protobuf?: unknown }, ctx: z.RefinementCtx): void {
  for (const block of ['avro', 'protobuf'] as const) {
    if (o.format === block && o[block] === undefined) {
      ctx.addIssue({ code: 'custom', path: [block], message: `\`format: ${block}\` needs the \`${block}\` settings (at least \`${block}.schema\`)` })
    }
    if (o.format !== block && o[block] !== undefined) ctx.addIssue({ code: 'custom', path: [block], message: `\`${block}\` settings apply only with \`format: ${block}\`` })
  }
}

export type AvroOptionsConfig = z.output<typeof avroOptionsSchema>
export type ProtobufOptionsConfig = z.output<typeof protobufOptionsSchema>

/** Formats of a whole message value (Kafka): text formats and schema-driven binary formats. */
export type ValueFormat = 'json' | 'csv' | 'text' | 'avro' | 'protobuf'

export interface ValueDecoderOptions {
  /** Component id, for config errors. */
  component: string
  /** Folder that relative schema paths resolve against (the config file's folder). */
  baseDir: string
  csv?: CsvOptions
  avro?: AvroOptionsConfig
  protobuf?: ProtobufOptionsConfig
}

/** Decodes one value (a Kafka message value) into a record; throws RecordError for a bad value. */
export type ValueDecoder = (value: Buffer) => Rec

/**
 * The decoder of whole values in `format`. Text formats check UTF-8 (SLC_RECORD_INVALID_UTF8)
 * and parse like `createFieldParser` (`text` → `{ message }`). `avro` and `protobuf` read their
 * schema file now — the only I/O, done at build, never by `sluice validate` — and throw a
 * ConfigError naming the option (`avro.schema`, `protobuf.message`, …) when it is unusable.
 */
export function createValueDecoder(format: ValueFormat, o: ValueDecoderOptions): ValueDecoder {
  switch (format) {
    case 'avro': {
      const a = required(o.avro, 'avro', o.component)
      return createAvroDecoder({ schemaFile: resolve(o.baseDir, a.schema), wireFormat: a.wire_format, origin: { component: o.component, option: 'avro.schema', display: a.schema } })
    }
    case 'protobuf': {
      const p = required(o.protobuf, 'protobuf', o.component)
      return createProtobufDecoder({
        schemaFile: resolve(o.baseDir, p.schema),
        message: p.message,
        wireFormat: p.wire_format,
        origin: { component: o.component, option: 'protobuf.schema', display: p.schema },
      })
    }
    default: {
      const parse = format === 'text' ? (text: string): Rec => ({ message: text }) : createFieldParser(format, { csv: o.csv })
      return (value) => {
        if (!isUtf8(value)) throw new RecordError('SLC_RECORD_INVALID_UTF8', 'the value is not valid UTF-8')
        return parse(value.toString('utf8'))
      }
    }
  }
}

function required<T>(block: T | undefined, name: string, component: string): T {
  if (block === undefined) throw new ConfigError('SLC_CONFIG_INVALID', `"${component}": \`format: ${name}\` needs the \`${name}\` settings`, { component, path: name })
  return block
}
