// The Avro value codec: round trips against bytes written by avsc itself, plain and Confluent
// framing, and the RecordErrors of bad values; schema problems are config errors naming the option.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import avro from 'avsc'
import { createValueDecoder } from '../../src/codecs/index.js'
import { ConfigError } from '../../src/core/errors.js'
import { recordParseError } from '../support/record-errors.js'

const fixtures = join(import.meta.dirname, 'fixtures')
const tmp = mkdtempSync(join(tmpdir(), 'sluice-avro-'))
after(() => rmSync(tmp, { recursive: true, force: true }))

const order = {
  id: 'o-1',
  amount: 12.5,
  qty: 3,
  status: 'PAID',
  blob: Buffer.from('hi'),
  note: null,
  tags: ['a', 'b'],
  customer: { name: 'Ada' },
}
const writer = avro.Type.forSchema(JSON.parse(readFileSync(join(fixtures, 'order.avsc'), 'utf8')))

function decoder(wire: 'plain' | 'confluent' = 'plain', schema = 'order.avsc') {
  return createValueDecoder('avro', { component: 'in', baseDir: fixtures, avro: { schema, wire_format: wire } })
}

function confluent(payload: Buffer, id = 42): Buffer {
  const header = Buffer.alloc(5)
  header.writeUInt32BE(id, 1)
  return Buffer.concat([header, payload])
}

/** `fn` throws SLC_RECORD_PARSE with a message matching `pattern`. */
function recordError(fn: () => unknown, pattern: RegExp): void {
  assert.match(recordParseError(fn), pattern)
}

describe('avro codec', () => {
  test('plain: decodes what avsc encoded into a plain record (bytes base64, enum name, union unwrapped)', () => {
    const rec = decoder()(writer.toBuffer(order))
    assert.deepEqual(rec, { ...order, blob: 'aGk=' })
    assert.equal(Object.getPrototypeOf(rec), Object.prototype)
    assert.equal(Object.getPrototypeOf(rec.customer), Object.prototype)
    assert.deepEqual(decoder()(writer.toBuffer({ ...order, note: 'gift' })).note, 'gift')
  })

  test('longs: numbers when exact, decimal strings past 2^53', () => {
    const t = avro.Type.forSchema({ type: 'record', name: 'L', fields: [{ name: 'n', type: 'long' }] })
    const file = join(tmp, 'long.avsc')
    writeFileSync(file, JSON.stringify(t.schema()))
    const d = createValueDecoder('avro', { component: 'in', baseDir: tmp, avro: { schema: 'long.avsc', wire_format: 'plain' } })
    assert.deepEqual(d(t.toBuffer({ n: -(2 ** 52) })), { n: -(2 ** 52) })
    // 2^62: zigzag varint written by hand (avsc's own long refuses to encode it).
    const zigzag = 2n ** 62n * 2n
    const bytes: number[] = []
    for (let v = zigzag; ; ) {
      if (v < 0x80n) {
        bytes.push(Number(v))
        break
      }
      bytes.push(Number(v & 0x7fn) | 0x80)
      v >>= 7n
    }
    assert.deepEqual(d(Buffer.from(bytes)), { n: (2n ** 62n).toString() })
  })

  test('confluent: skips magic byte and schema id', () => {
    assert.deepEqual(decoder('confluent')(confluent(writer.toBuffer(order))), { ...order, blob: 'aGk=' })
  })

  test('confluent: wrong magic byte and a value shorter than the header', () => {
    const framed = confluent(writer.toBuffer(order))
    framed[0] = 1
    recordError(() => decoder('confluent')(framed), /expected the Confluent magic byte 0 .* found 0x01/)
    recordError(() => decoder('confluent')(Buffer.from([0, 0, 1])), /3 byte\(s\), shorter than the 5-byte Confluent header/)
  })

  test('plain decoding of a Confluent-framed value fails (leftover bytes or bad data)', () => {
    recordError(() => decoder('plain')(confluent(writer.toBuffer(order))), /does not decode with the schema "order.avsc"/)
  })

  test('truncated payload', () => {
    const buf = writer.toBuffer(order)
    recordError(() => decoder()(buf.subarray(0, buf.length - 3)), /truncated/)
    recordError(() => decoder('confluent')(confluent(buf.subarray(0, 4))), /truncated/)
  })

  test('a value written with another schema does not decode', () => {
    const other = avro.Type.forSchema({ type: 'record', name: 'Other', fields: [{ name: 'x', type: 'int' }, { name: 'flag', type: 'boolean' }] })
    recordError(() => decoder()(other.toBuffer({ x: 7, flag: true })), /Avro: the value does not decode with the schema "order.avsc": /)
    recordError(() => decoder()(Buffer.concat([writer.toBuffer(order), Buffer.from([1, 2])])), /bytes left over after the record/)
  })

  test('schema file problems are config errors naming `avro.schema`', () => {
    const cases: [string, string, RegExp][] = [
      ['missing.avsc', '', /the schema file "missing.avsc" does not exist/],
      ['notjson.avsc', '{ nope', /is not JSON/],
      ['invalid.avsc', JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'nosuchtype' }] }), /is not a valid Avro schema/],
      ['string.avsc', JSON.stringify('string'), /is an Avro string; a value must decode to a record/],
    ]
    for (const [name, text, pattern] of cases) {
      if (text !== '') writeFileSync(join(tmp, name), text)
      assert.throws(
        () => createValueDecoder('avro', { component: 'orders', baseDir: tmp, avro: { schema: name, wire_format: 'plain' } }),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError, String(e))
          assert.equal(e.code, 'SLC_CONFIG_INVALID')
          assert.equal(e.location.path, 'avro.schema')
          assert.equal(e.location.component, 'orders')
          assert.match(e.message, /^"orders": `avro.schema`: /)
          assert.match(e.message, pattern)
          return true
        },
      )
    }
  })
})
