// Tests of the JSON-lines decoder: objects per line, blank lines, errors, limits, chunk boundaries.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createDecoder, createFieldParser } from '../../src/codecs/index.js'
import type { DecoderPosition } from '../../src/codecs/types.js'
import { isSluiceError } from '../../src/core/errors.js'
import { assertChunkInvariant, decodeAll } from './decode-harness.js'

const jsonl = (position?: DecoderPosition, maxRecordBytes = 1024 * 1024, maxRawBytes?: number) =>
  createDecoder('jsonl', { maxRecordBytes, maxRawBytes }, position)

describe('jsonl decoder', () => {
  it('decodes one object per line with lines and end offsets', () => {
    const r = decodeAll(jsonl(), '{"a":1}\n{"b":"x","n":null}\r\n{"c":[1,2]}')
    assert.deepStrictEqual(r.records, [{ a: 1 }, { b: 'x', n: null }, { c: [1, 2] }])
    assert.deepStrictEqual(r.lines, [1, 2, 3])
    assert.deepStrictEqual(r.ends, [8, 28, 39])
    assert.deepStrictEqual(r.position, { offset: 39, line: 3 })
  })

  it('skips whitespace-only lines but counts them', () => {
    const r = decodeAll(jsonl(), '\n  \t\r\n{"a":1}\n\n {"b":2} \n\n')
    assert.deepStrictEqual(r.records, [{ a: 1 }, { b: 2 }])
    assert.deepStrictEqual(r.lines, [3, 5])
    assert.deepStrictEqual(r.errors, [])
    assert.deepStrictEqual(r.position.line, 7)
  })

  it('dead-letters invalid JSON with the parser message, and non-objects', () => {
    const r = decodeAll(jsonl(), '{"a":1}\n{"a":\n42\n[1]\n"s"\nnull\n{"ok":true}\n')
    assert.deepStrictEqual(r.records, [{ a: 1 }, { ok: true }])
    assert.deepStrictEqual(r.lines, [1, 7])
    assert.equal(r.errors[0]!.code, 'SLC_RECORD_PARSE')
    assert.match(r.errors[0]!.message, /JSON/)
    assert.deepStrictEqual(
      r.errors.slice(1).map((e) => [e.line, e.offset, e.message, e.raw]),
      [
        [3, 14, 'expected a JSON object, found a number', '42'],
        [4, 17, 'expected a JSON object, found an array', '[1]'],
        [5, 21, 'expected a JSON object, found a string', '"s"'],
        [6, 25, 'expected a JSON object, found null', 'null'],
      ],
    )
    assert.deepStrictEqual([r.errors[0]!.line, r.errors[0]!.offset, r.errors[0]!.raw, r.errors[0]!.rawTruncated], [2, 8, '{"a":', false])
  })

  it('skips a BOM at offset 0 only', () => {
    assert.deepStrictEqual(decodeAll(jsonl(), '\ufeff{"a":1}\n').records, [{ a: 1 }])
    assert.equal(decodeAll(jsonl({ offset: 5, line: 2 }), '\ufeff{"a":1}\n').errors.length, 1)
  })

  it('dead-letters invalid UTF-8 lines, keeping the raw bytes', () => {
    const input = Buffer.concat([Buffer.from('{"a":"é"}\n{"a":"'), Buffer.from([0xe9]), Buffer.from('"}\n{"b":2}\n')])
    const r = decodeAll(jsonl(), input)
    assert.deepStrictEqual(r.records, [{ a: 'é' }, { b: 2 }])
    assert.deepStrictEqual(r.errors.map((e) => [e.code, e.line, e.raw]), [['SLC_RECORD_INVALID_UTF8', 2, '{"a":"\xe9"}']])
  })

  it('dead-letters a too-large line and resumes at the next one', () => {
    const big = JSON.stringify({ s: 'x'.repeat(100) })
    const r = decodeAll(jsonl(undefined, 50, 10), `{"a":1}\n${big}\n{"b":2}\n`)
    assert.deepStrictEqual(r.records, [{ a: 1 }, { b: 2 }])
    assert.deepStrictEqual(r.lines, [1, 3])
    assert.deepStrictEqual(r.errors, [
      { code: 'SLC_RECORD_TOO_LARGE', message: 'record is larger than max_record_bytes (50 bytes)', line: 2, offset: 8, raw: '{"s":"xxxx', rawTruncated: true },
    ])
  })

  it('a line of exactly maxRecordBytes is accepted; one more byte is not', () => {
    const line = '{"s":"' + 'x'.repeat(12) + '"}' // 20 bytes
    assert.equal(decodeAll(jsonl(undefined, 20), `${line}\r\n`).errors.length, 1) // the CR counts
    assert.equal(decodeAll(jsonl(undefined, 20), `${line}\n`).records.length, 1)
    assert.equal(decodeAll(jsonl(undefined, 19), line).errors.length, 1)
  })

  it('resumes from a checkpointed position', () => {
    const r = decodeAll(jsonl({ offset: 100, line: 10 }), '{"a":1}\n{"b":2}\n')
    assert.deepStrictEqual(r.lines, [10, 11])
    assert.deepStrictEqual(r.ends, [108, 116])
    assert.deepStrictEqual(r.position, { offset: 116, line: 12 })
  })

  it('gives the single-chunk result at every chunk boundary', () => {
    const input = Buffer.concat([
      Buffer.from('\ufeff{"a":"日本","n":1}\r\n\n  \n{"bad":\n'),
      Buffer.from('{"s":"' + 'y'.repeat(40) + '"}\n[1]\n{"u":"'),
      Buffer.from([0xc3]),
      Buffer.from('"}\n{"last":true}'),
    ])
    const whole = assertChunkInvariant(() => jsonl(undefined, 32), input)
    assert.deepStrictEqual(whole.records, [{ a: '日本', n: 1 }, { last: true }])
    assert.deepStrictEqual(whole.lines, [1, 8])
    assert.deepStrictEqual(whole.errors.map((e) => [e.code, e.line]), [
      ['SLC_RECORD_PARSE', 4],
      ['SLC_RECORD_TOO_LARGE', 5],
      ['SLC_RECORD_PARSE', 6],
      ['SLC_RECORD_INVALID_UTF8', 7],
    ])
  })
})

describe('line framing fuzz', () => {
  it('is chunk-invariant and never throws on random bytes (seeded)', () => {
    const alphabet = ['{', '}', '{}', '1', '"', ':', '\n', '\n', '\r\n', '\r', ' ', 'é', '\ufeff', '\xff'].map((t) => Buffer.from(t, t === '\xff' ? 'latin1' : 'utf8'))
    let seed = 11
    const rand = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % n
    for (let round = 0; round < 60; round++) {
      const input = Buffer.concat(Array.from({ length: rand(40) }, () => alphabet[rand(alphabet.length)]!))
      const max = round % 3 === 0 ? 5 : 1000
      assertChunkInvariant(() => jsonl(undefined, max), input)
      assertChunkInvariant(() => createDecoder('lines', { maxRecordBytes: max }), input)
    }
  })
})

describe('json field parser', () => {
  it('parses an object and rejects anything else with SLC_RECORD_PARSE', () => {
    const parse = createFieldParser('json')
    assert.deepStrictEqual(parse(' {"a":{"b":1}} '), { a: { b: 1 } })
    for (const bad of ['[1]', '1', 'null', '"x"', '{', '']) {
      assert.throws(() => parse(bad), (e: unknown) => isSluiceError(e) && e.code === 'SLC_RECORD_PARSE', bad)
    }
  })
})
