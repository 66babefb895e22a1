// The Avro value codec: one Avro-encoded record per value, decoded with the writer schema read
// from a `.avsc` file (no registry client), optionally behind the Confluent framing.
import { createRequire } from 'node:module'
import type avro from 'avsc'
import type { Rec } from '../../core/batch.js'
import { RecordError, errorMessage } from '../../core/errors.js'
import { confluentPayloadStart, plainValue, readSchemaFile, safeInteger, schemaError, type SchemaOrigin, type WireFormat } from './schema-binary.js'

export interface AvroCodecOptions {
  /** Absolute path of the `.avsc` file (JSON). */
  schemaFile: string
  wireFormat: WireFormat
  /** For config errors: component and option path (`avro.schema`). */
  origin: SchemaOrigin
}

/**
 * Avro `long`: a number when exactly representable, else a decimal string (the library's own
 * long type refuses values past 2^53).
 */
function makeSafeLong(lib: typeof avro) {
  return lib.types.LongType.__with({
    fromBuffer: (buf: Buffer) => safeInteger(buf.readBigInt64LE()),
    toBuffer: (n: number | string) => {
      const buf = Buffer.alloc(8)
      buf.writeBigInt64LE(BigInt(n))
      return buf
    },
    fromJSON: (v: unknown) => (typeof v === 'string' ? v : Number(v)),
    toJSON: (n: number | string) => Number(n),
    isValid: (n: unknown) => (typeof n === 'number' && Number.isInteger(n)) || (typeof n === 'string' && /^-?\d+$/.test(n)),
    compare: (a: number | string, b: number | string) => {
      const x = BigInt(a)
      const y = BigInt(b)
      return x === y ? 0 : x < y ? -1 : 1
    },
  })
}

/**
 * avsc, loaded the first time a pipeline decodes Avro: about 6 MB of RSS that every other
 * pipeline would carry (CommonJS, so a synchronous require works at build time).
 */
let loaded: { lib: typeof avro; safeLong: avro.types.LongType } | undefined
function avsc(): { lib: typeof avro; safeLong: avro.types.LongType } {
  if (loaded) return loaded
  const lib = createRequire(import.meta.url)('avsc') as typeof avro
  loaded = { lib, safeLong: makeSafeLong(lib) }
  return loaded
}

/**
 * Read and compile the schema (a ConfigError naming the option when the file is missing, not
 * JSON, not a valid Avro schema or not a record) and return the decoder of one value. The decoder
 * throws RecordError (SLC_RECORD_PARSE) for a value that is truncated, has trailing bytes, does
 * not match the schema, or lacks the Confluent header.
 */
export function createAvroDecoder(o: AvroCodecOptions): (value: Buffer) => Rec {
  const text = readSchemaFile(o.schemaFile, o.origin)
  let schema: unknown
  try {
    schema = JSON.parse(text)
  } catch (e) {
    throw schemaError(o.origin, o.origin.option, `the schema file "${o.origin.display}" is not JSON: ${errorMessage(e)}`, { expected: 'an Avro schema (JSON)' })
  }
  let type: avro.Type
  try {
    const { lib, safeLong } = avsc()
    type = lib.Type.forSchema(schema as avro.Schema, { registry: { long: safeLong } })
  } catch (e) {
    throw schemaError(o.origin, o.origin.option, `"${o.origin.display}" is not a valid Avro schema: ${errorMessage(e)}`)
  }
  if (type.typeName !== 'record') {
    throw schemaError(o.origin, o.origin.option, `"${o.origin.display}" is an Avro ${type.typeName}; a value must decode to a record`, { expected: 'a schema of type "record"', found: type.typeName })
  }
  const confluent = o.wireFormat === 'confluent'
  return (value) => {
    const start = confluent ? confluentPayloadStart(value, 'Avro') : 0
    const body = start === 0 ? value : value.subarray(start)
    let decoded: unknown
    try {
      decoded = type.fromBuffer(body)
    } catch (e) {
      throw new RecordError('SLC_RECORD_PARSE', `Avro: the value does not decode with the schema "${o.origin.display}": ${describeAvroError(e)}`)
    }
    return plainValue(decoded) as Rec
  }
}

function describeAvroError(e: unknown): string {
  const m = errorMessage(e)
  if (m === 'truncated buffer') return 'truncated (it ends before the record does)'
  if (m === 'trailing data') return 'bytes left over after the record (a different schema, or a framing the `wire_format` does not say)'
  return m
}
