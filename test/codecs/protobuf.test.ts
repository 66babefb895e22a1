// The protobuf value codec: round trips against bytes written by protobufjs itself, plain and
// Confluent framing (message indexes [0]), and the RecordErrors of bad values; schema problems are
// config errors naming the option.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import protobuf from 'protobufjs'
import { createValueDecoder } from '../../src/codecs/index.js'
import { ConfigError } from '../../src/core/errors.js'
import { recordParseError } from '../support/record-errors.js'

const fixtures = join(import.meta.dirname, 'fixtures')
const tmp = mkdtempSync(join(tmpdir(), 'sluice-protobuf-'))
after(() => rmSync(tmp, { recursive: true, force: true }))

const Order = protobuf.loadSync(join(fixtures, 'order.proto')).lookupType('shop.v1.Order')
const encode = (o: Record<string, unknown>) => Buffer.from(Order.encode(Order.fromObject(o)).finish())

function decoder(wire: 'plain' | 'confluent' = 'plain', message = 'shop.v1.Order') {
  return createValueDecoder('protobuf', { component: 'in', baseDir: fixtures, protobuf: { schema: 'order.proto', message, wire_format: wire } })
}

function confluent(payload: Buffer, indexes: number[] = [0]): Buffer {
  const header = Buffer.alloc(5)
  header.writeUInt32BE(7, 1)
  return Buffer.concat([header, Buffer.from(indexes), payload])
}

/** `fn` throws SLC_RECORD_PARSE with a message matching `pattern`. */
function recordError(fn: () => unknown, pattern: RegExp): void {
  assert.match(recordParseError(fn), pattern)
}

const full = {
  id: 'o-1',
  qty: 3,
  status: 'PAID',
  blob: Buffer.from('hi'),
  tags: ['a', 'b'],
  customer: { name: 'Ada' },
  big: '18446744073709551615',
  amount: 2.5,
  at: { seconds: 1_700_000_000, nanos: 5 },
}
const expected = { ...full, blob: 'aGk=' }

describe('protobuf codec', () => {
  test('plain: decodes what protobufjs encoded into a plain record', () => {
    const rec = decoder()(encode(full))
    assert.deepEqual(rec, expected)
    assert.equal(Object.getPrototypeOf(rec), Object.prototype)
  })

  test('proto3 defaults for absent fields; enums by name; int64 as number when exact, else string', () => {
    assert.deepEqual(decoder()(Buffer.alloc(0)), { id: '', qty: 0, status: 'STATUS_UNKNOWN', blob: '', tags: [], customer: null, big: 0, amount: 0, at: null })
    assert.equal(decoder()(encode({ qty: '9007199254740993' })).qty, '9007199254740993')
    assert.equal(decoder()(encode({ qty: -9007199254740991 })).qty, -9007199254740991)
  })

  test('a leading dot in the message name is accepted', () => {
    assert.deepEqual(decoder('plain', '.shop.v1.Order')(encode(full)), expected)
  })

  test('confluent: magic byte, schema id and the message indexes [0] (one 0 byte, or count 1 + index 0)', () => {
    assert.deepEqual(decoder('confluent')(confluent(encode(full))), expected)
    assert.deepEqual(decoder('confluent')(confluent(encode(full), [2, 0])), expected)
  })

  test('confluent: wrong magic byte, short header, other message indexes', () => {
    const framed = confluent(encode(full))
    framed[0] = 0x0a
    recordError(() => decoder('confluent')(framed), /expected the Confluent magic byte 0 .* found 0x0a/)
    recordError(() => decoder('confluent')(Buffer.from([0, 0])), /shorter than the 5-byte Confluent header/)
    recordError(() => decoder('confluent')(confluent(encode(full), [2, 2])), /message indexes \[1\] .* only \[0\] is supported/)
    recordError(() => decoder('confluent')(Buffer.from([0, 0, 0, 0, 7])), /ends inside the Confluent message indexes/)
  })

  test('truncated payload', () => {
    const buf = encode(full)
    recordError(() => decoder()(buf.subarray(0, buf.length - 2)), /protobuf: the value does not decode as shop\.v1\.Order: truncated/)
  })

  test('bytes of another type that do not fit the schema', () => {
    // Field 1 (`id`, a string) sent as a group start (wire type 3), then an invalid wire type 7.
    recordError(() => decoder()(Buffer.from([0x0b, 0x0f])), /does not decode as shop\.v1\.Order: invalid wire type/)
    // A JSON text is not a protobuf message.
    recordError(() => decoder()(Buffer.from('{"id": "o-1"}')), /does not decode as shop\.v1\.Order/)
  })

  test('schema problems are config errors naming the option', () => {
    writeFileSync(join(tmp, 'broken.proto'), 'syntax = "proto3";\nmessage A { string a = 1 }\n')
    const cases: [string, string, string, RegExp][] = [
      ['missing.proto', 'shop.v1.Order', 'protobuf.schema', /the schema file "missing.proto" does not exist/],
      ['broken.proto', 'A', 'protobuf.schema', /"broken.proto" does not load: /],
      [join(fixtures, 'order.proto'), 'shop.v1.Ordr', 'protobuf.message', /no message type "shop.v1.Ordr" in /],
    ]
    for (const [schema, message, option, pattern] of cases) {
      assert.throws(
        () => createValueDecoder('protobuf', { component: 'clicks', baseDir: tmp, protobuf: { schema, message, wire_format: 'plain' } }),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError, String(e))
          assert.equal(e.code, 'SLC_CONFIG_INVALID')
          assert.equal(e.location.path, option)
          assert.equal(e.location.component, 'clicks')
          assert.match(e.message, new RegExp(`^"clicks": \`${option.replace('.', '\\.')}\`: `))
          assert.match(e.message, pattern)
          if (option === 'protobuf.message') assert.match(e.expected ?? '', /shop\.v1\.Order/)
          return true
        },
      )
    }
  })
})
