// What the schema-driven binary formats (Avro, protobuf) share: reading their schema file at build
// time as a config error, the Confluent Schema Registry framing, and turning a library's decoded
// value into a plain record (bytes as base64, 64-bit integers as numbers when exact, else strings).
import { readFileSync } from 'node:fs'
import { ConfigError, RecordError, errorMessage } from '../../core/errors.js'

/** `plain`: the value is the encoded message alone. `confluent`: Schema Registry framing before it. */
export type WireFormat = 'plain' | 'confluent'

/** Where a schema option came from, so a config error names the component and the option. */
export interface SchemaOrigin {
  /** Component id, for messages. */
  component: string
  /** Option path of the schema file, e.g. `avro.schema`. */
  option: string
  /** The path as the user wrote it, for messages. */
  display: string
}

/** Text of a schema file, or a ConfigError naming the option when it cannot be read. */
export function readSchemaFile(file: string, origin: SchemaOrigin): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    const reason = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${errorMessage(e)})`
    throw schemaError(origin, origin.option, `the schema file "${origin.display}" ${reason}`)
  }
}

/** A ConfigError about a schema option of `origin.component`. */
export function schemaError(origin: SchemaOrigin, option: string, message: string, extra: { expected?: string; found?: string } = {}): ConfigError {
  return new ConfigError('SLC_CONFIG_INVALID', `"${origin.component}": \`${option}\`: ${message}`, { component: origin.component, path: option, ...extra })
}

/** Bytes of the Confluent header: magic byte 0 and a 4-byte big-endian schema id. */
export const CONFLUENT_HEADER_BYTES = 5

/**
 * Index of the first byte after the Confluent header (magic byte 0 + 4-byte schema id). The id is
 * not checked: there is no registry client; the schema comes from the configured file.
 */
export function confluentPayloadStart(value: Buffer, what: string): number {
  if (value.length < CONFLUENT_HEADER_BYTES) {
    throw new RecordError('SLC_RECORD_PARSE', `${what}: the value is ${value.length} byte(s), shorter than the ${CONFLUENT_HEADER_BYTES}-byte Confluent header (magic byte 0 and schema id)`)
  }
  if (value[0] !== 0) {
    throw new RecordError('SLC_RECORD_PARSE', `${what}: expected the Confluent magic byte 0 at the start of the value, found 0x${value[0]!.toString(16).padStart(2, '0')} (is \`wire_format\` right?)`)
  }
  return CONFLUENT_HEADER_BYTES
}

interface LongLike {
  low: number
  high: number
  unsigned: boolean
  toNumber(): number
  toString(): string
}

function isLongLike(v: object): v is LongLike {
  const l = v as Partial<LongLike>
  return typeof l.low === 'number' && typeof l.high === 'number' && typeof l.unsigned === 'boolean' && typeof l.toNumber === 'function'
}

/** A 64-bit integer as a number when it is exactly representable, else its decimal string. */
export function safeInteger(n: bigint): number | string {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString()
}

/**
 * A decoded value as plain data: objects of library classes become plain objects, bytes become
 * base64 strings, Long values become numbers when exact (else decimal strings). Arrays are
 * converted in place; everything else is returned as is.
 */
export function plainValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = plainValue(v[i])
    return v
  }
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')
  if (isLongLike(v)) {
    const n = v.toNumber()
    return Number.isSafeInteger(n) ? n : v.toString()
  }
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(v)) out[k] = plainValue((v as Record<string, unknown>)[k])
  return out
}
