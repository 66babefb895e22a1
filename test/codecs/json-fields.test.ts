// The byte-level JSON field reader behind projected JSON lines: whatever it accepts, JSON.parse
// accepts with the same values; whatever JSON.parse rejects, it rejects (then JSON.parse decides).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createDecoder } from '../../src/codecs/index.js'
import { JsonFieldReader } from '../../src/codecs/formats/json-fields.js'
import { assertChunkInvariant } from './decode-harness.js'

const FIELDS = ['a', 'b', 'ü', '__proto__', 'n']

function projected(text: string, fields: string[]): Record<string, unknown> | 'invalid' {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return 'invalid'
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'invalid'
  const out: Record<string, unknown> = {}
  for (const f of fields) if (Object.hasOwn(v, f)) Object.defineProperty(out, f, { value: (v as Record<string, unknown>)[f], enumerable: true, writable: true, configurable: true })
  return out
}

/** The reader's verdict agrees with JSON.parse: same record, or a refusal when JSON.parse fails. */
function check(reader: JsonFieldReader, text: string, fields = FIELDS): void {
  const buf = Buffer.concat([Buffer.from('{"a":9}'), Buffer.from(text), Buffer.from('}"x')])
  const got = reader.read(buf, 7, 7 + Buffer.byteLength(text))
  const want = projected(text, fields)
  if (want === 'invalid') assert.equal(got, undefined, `accepted invalid JSON: ${text}`)
  else if (got !== undefined) assert.deepStrictEqual({ ...got }, { ...want }, text)
}

const VALID = [
  '{}',
  ' { } ',
  '{"a":1}',
  '{"a":1,"b":"x","c":[1,{"d":[]}],"n":null}',
  '{"a":-0,"b":0.1,"n":1e5}',
  '{"a":123456789012345678901234567890,"b":-1.7976931348623157e308,"n":5e-324}',
  '{"a":0.30000000000000004,"b":999999999999999.9,"n":1.000000000000001}',
  '{"a":"tab\\tq\\"b\\\\s\\/u\\u00e9\\ud83d\\ude00","b":"\\ud800"}',
  '{"ü":"日本","a":"é"}',
  '{"\\u0061":1,"b":2}',
  '{"a":1,"a":2}',
  '{"__proto__":{"x":1},"a":true,"b":false}',
  '{"a":{"b":{"c":[1,2,{"d":"e"}]}},"b":[]}',
  '{ "a" : 1 , "b" : [ 1 , 2 ] , "n" : { } }\r',
  '{"c":"skip \\" this","a":[true,false,null]}',
  '{"a":' + '['.repeat(100) + ']'.repeat(100) + '}',
]
const INVALID = [
  '',
  '[]',
  '1',
  '"a"',
  'null',
  '{',
  '{"a"}',
  '{"a":}',
  '{"a":1,}',
  '{,"a":1}',
  '{"a":1}x',
  '{"a":1}{"b":2}',
  '{a:1}',
  "{'a':1}",
  '{"a":01}',
  '{"a":1.}',
  '{"a":.5}',
  '{"a":-}',
  '{"a":+1}',
  '{"a":1e}',
  '{"a":0x10}',
  '{"a":NaN}',
  '{"a":tru}',
  '{"a":nul}',
  '{"a":"x\ty"}',
  '{"a":"\\x"}',
  '{"a":"\\u12g4"}',
  '{"a":"unterminated}',
  '{"b":[1,2,]}',
  '{"b":{"c":1,}}',
  '{"b":[1 2]}',
  '{"c":"\u0001"}',
  '{"a":1 "b":2}',
]

describe('json-fields: agrees with JSON.parse', () => {
  it('on valid objects: the wanted fields with JSON.parse values', () => {
    const reader = new JsonFieldReader(FIELDS)
    for (const text of VALID) {
      check(reader, text)
      assert.notEqual(projected(text, FIELDS), 'invalid', text)
    }
    // The common flat case is decoded by the reader itself, not handed to JSON.parse.
    const flat = Buffer.from('{"a":1.5,"b":"x","z":[1,2],"n":-3}')
    assert.deepStrictEqual({ ...new JsonFieldReader(['a', 'b', 'n']).read(flat, 0, flat.length) }, { a: 1.5, b: 'x', n: -3 })
  })

  it('on invalid text: never accepts', () => {
    const reader = new JsonFieldReader(FIELDS)
    for (const text of INVALID) check(reader, text)
  })

  it('on seeded random mutations of valid lines', () => {
    const reader = new JsonFieldReader(FIELDS)
    let seed = 1
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296
    const alphabet = '{}[]":,.-+eE0123456789 \\u"abntrfl\t'
    for (const base of VALID) {
      for (let i = 0; i < 400; i++) {
        const chars = [...base]
        const edits = 1 + Math.floor(rand() * 3)
        for (let k = 0; k < edits; k++) {
          const at = Math.floor(rand() * (chars.length + 1))
          const c = alphabet[Math.floor(rand() * alphabet.length)]!
          const op = rand()
          if (op < 0.33) chars.splice(at, 1)
          else if (op < 0.66) chars.splice(at, 0, c)
          else chars[Math.min(at, chars.length - 1)] = c
        }
        check(reader, chars.join(''))
      }
    }
  })
})

describe('jsonl decoder with fields', () => {
  const input =
    '{"a":1,"b":"x","c":{"deep":[1,2]}}\n' +
    '\n' +
    '{"b":"only b","z":1}\r\n' +
    'not json\n' +
    '[1,2]\n' +
    '{"a":' + '['.repeat(80) + ']'.repeat(80) + ',"b":2}\n' +
    '{"a":"é\\n","b":null}'

  it('keeps lines, ends and dead letters of the full decode, with only the wanted fields', () => {
    const full = assertChunkInvariant(() => createDecoder('jsonl', { maxRecordBytes: 1 << 20 }), input)
    const some = assertChunkInvariant(() => createDecoder('jsonl', { maxRecordBytes: 1 << 20, fields: ['a', 'b'] }), input)
    assert.deepStrictEqual(
      some.records.map((r) => ({ ...r })),
      full.records.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => k === 'a' || k === 'b'))),
    )
    assert.deepStrictEqual(some.lines, full.lines)
    assert.deepStrictEqual(some.ends, full.ends)
    assert.deepStrictEqual(some.errors, full.errors)
    assert.equal(full.errors.length, 2)
    assert.ok(!Object.hasOwn(some.records[1]!, 'a'), 'a missing field stays missing')
  })
})
