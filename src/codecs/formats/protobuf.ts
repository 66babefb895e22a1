// The protobuf value codec: one message per value, decoded as the configured message type of a
// `.proto` file (imports resolved from the file's folder and the bundled google/protobuf types),
// optionally behind the Confluent framing.
import { createRequire } from 'node:module'
import type protobuf from 'protobufjs'
import type { Rec } from '../../core/batch.js'
import { RecordError, errorMessage } from '../../core/errors.js'
import { confluentPayloadStart, plainValue, readSchemaFile, schemaError, type SchemaOrigin, type WireFormat } from './schema-binary.js'

export interface ProtobufCodecOptions {
  /** Absolute path of the `.proto` file. */
  schemaFile: string
  /** Fully-qualified message type, e.g. `shop.v1.Order` (a leading dot is allowed). */
  message: string
  wireFormat: WireFormat
  /** For config errors: component and option path of the schema (`protobuf.schema`); `message` is its sibling. */
  origin: SchemaOrigin
}

/**
 * How a message becomes a record: enums by name, bytes as base64, every field present with its
 * proto3 default (messages absent: null), 64-bit integers left as Long for `plainValue` (number
 * when exact, else a decimal string).
 */
const CONVERSION: protobuf.IConversionOptions = { enums: String, bytes: String, defaults: true, arrays: true, objects: true }

/**
 * protobufjs, loaded the first time a pipeline decodes protobuf: about 9 MB of RSS that every
 * other pipeline would carry (CommonJS, so a synchronous require works at build time).
 */
let loaded: typeof protobuf | undefined
const protobufjs = (): typeof protobuf => (loaded ??= createRequire(import.meta.url)('protobufjs') as typeof protobuf)

/**
 * Load the `.proto` file and find `message` (a ConfigError naming the option when the file is
 * missing or does not parse, or the type is unknown), and return the decoder of one value. The
 * decoder throws RecordError (SLC_RECORD_PARSE) for a value that is truncated or does not match
 * the type, or whose Confluent header or message indexes are not supported.
 */
export function createProtobufDecoder(o: ProtobufCodecOptions): (value: Buffer) => Rec {
  // Read first for a clear "does not exist"; the library then parses the file and its imports.
  readSchemaFile(o.schemaFile, o.origin)
  let root: protobuf.Root
  try {
    root = protobufjs().loadSync(o.schemaFile)
    root.resolveAll()
  } catch (e) {
    throw schemaError(o.origin, o.origin.option, `"${o.origin.display}" does not load: ${errorMessage(e)}`)
  }
  const messageOption = o.origin.option.replace(/[^.]+$/, 'message')
  let type: protobuf.Type
  try {
    type = root.lookupType(o.message)
  } catch {
    const known = messageTypes(root)
    throw schemaError(o.origin, messageOption, `no message type "${o.message}" in "${o.origin.display}"`, {
      expected: known.length > 0 ? `one of ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', …' : ''}` : 'a message type',
      found: o.message,
    })
  }
  const confluent = o.wireFormat === 'confluent'
  return (value) => {
    const start = confluent ? confluentProtobufStart(value) : 0
    let message: protobuf.Message
    try {
      message = type.decode(start === 0 ? value : value.subarray(start))
    } catch (e) {
      throw new RecordError('SLC_RECORD_PARSE', `protobuf: the value does not decode as ${type.fullName.slice(1)}: ${describeProtobufError(e)}`)
    }
    return plainValue(type.toObject(message, CONVERSION)) as Rec
  }
}

/**
 * Past the Confluent header, protobuf values carry the path of the message type in the schema as
 * a zigzag-varint list (count, then indexes). Only the first top-level type is supported: the
 * list `[0]`, which serializers write as one 0 byte (or as count 1, index 0).
 */
function confluentProtobufStart(value: Buffer): number {
  let i = confluentPayloadStart(value, 'protobuf')
  const count = readZigzag(value, i)
  i = count.next
  if (count.value === 0) return i
  const indexes: number[] = []
  for (let n = 0; n < count.value && i < value.length; n++) {
    const idx = readZigzag(value, i)
    indexes.push(idx.value)
    i = idx.next
  }
  if (count.value === 1 && indexes[0] === 0) return i
  throw new RecordError(
    'SLC_RECORD_PARSE',
    `protobuf: the Confluent message indexes [${indexes.join(', ')}] name a message type other than the first in the schema; only [0] is supported`,
  )
}

/** A zigzag varint at `at` (at most 5 bytes); throws RecordError when the value ends inside it. */
function readZigzag(buf: Buffer, at: number): { value: number; next: number } {
  let raw = 0
  for (let shift = 0, i = at; shift <= 28; shift += 7, i++) {
    if (i >= buf.length) throw new RecordError('SLC_RECORD_PARSE', 'protobuf: the value ends inside the Confluent message indexes')
    const b = buf[i]!
    raw |= (b & 0x7f) << shift
    if ((b & 0x80) === 0) return { value: (raw >>> 1) ^ -(raw & 1), next: i + 1 }
  }
  throw new RecordError('SLC_RECORD_PARSE', 'protobuf: the Confluent message indexes are malformed')
}

function describeProtobufError(e: unknown): string {
  const m = errorMessage(e)
  if (e instanceof RangeError && m.startsWith('index out of range')) return `truncated (${m})`
  return m
}

/** Fully-qualified names of the message types of `root`, bundled google.protobuf types left out (for a suggestion). */
function messageTypes(ns: protobuf.NamespaceBase, out: string[] = []): string[] {
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobufjs().Type && !nested.fullName.startsWith('.google.protobuf.')) out.push(nested.fullName.slice(1))
    if (nested instanceof protobufjs().Namespace || nested instanceof protobufjs().Type) messageTypes(nested, out)
  }
  return out
}
