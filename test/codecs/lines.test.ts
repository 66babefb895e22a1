// Tests of the plain-lines decoder: every line a `{ message }`, empty lines kept, chunk boundaries.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createDecoder, createFieldParser } from '../../src/codecs/index.js'
import { newDecodeOutput, type DecoderPosition } from '../../src/codecs/types.js'
import { assertChunkInvariant, decodeAll } from './decode-harness.js'

const lines = (position?: DecoderPosition, maxRecordBytes = 1024 * 1024) => createDecoder('lines', { maxRecordBytes }, position)

describe('lines decoder', () => {
  it('emits each line with CR stripped, empty lines included', () => {
    const r = decodeAll(lines(), 'one\r\n\ntwo\n\r\nthree')
    assert.deepStrictEqual(r.records, [{ message: 'one' }, { message: '' }, { message: 'two' }, { message: '' }, { message: 'three' }])
    assert.deepStrictEqual(r.lines, [1, 2, 3, 4, 5])
    assert.deepStrictEqual(r.ends, [5, 6, 10, 12, 17])
    assert.deepStrictEqual(r.position, { offset: 17, line: 5 })
  })

  it('emits nothing for the empty remainder after a final newline', () => {
    const r = decodeAll(lines(), 'a\nb\n')
    assert.deepStrictEqual(r.records, [{ message: 'a' }, { message: 'b' }])
    assert.deepStrictEqual(r.position, { offset: 4, line: 3 })
    assert.deepStrictEqual(decodeAll(lines(), '').records, [])
    assert.deepStrictEqual(decodeAll(lines(), '\n').records, [{ message: '' }])
  })

  it('holds a last line without newline until the input ends', () => {
    const d = lines()
    const out = newDecodeOutput()
    const buf = Buffer.from('a\npartial')
    assert.equal(d.decode(buf, 0, buf.length, false, out), 2)
    assert.deepStrictEqual(out.records, [{ message: 'a' }])
    assert.equal(d.decode(buf, 2, buf.length, true, out), buf.length)
    assert.deepStrictEqual(out.records, [{ message: 'a' }, { message: 'partial' }])
    assert.deepStrictEqual(out.ends, [2, 9])
  })

  it('keeps text as is (no JSON, no trimming) and decodes UTF-8', () => {
    assert.deepStrictEqual(decodeAll(lines(), ' {"a":1} \ncafé ☕\n').records, [{ message: ' {"a":1} ' }, { message: 'café ☕' }])
  })

  it('dead-letters invalid UTF-8 and too-large lines', () => {
    const input = Buffer.concat([Buffer.from('ok\n'), Buffer.from([0x80, 0x41]), Buffer.from('\n' + 'z'.repeat(30) + '\nend\n')])
    const r = decodeAll(lines(undefined, 10), input)
    assert.deepStrictEqual(r.records, [{ message: 'ok' }, { message: 'end' }])
    assert.deepStrictEqual(r.lines, [1, 4])
    assert.deepStrictEqual(r.errors.map((e) => [e.code, e.line, e.offset, e.raw, e.rawTruncated]), [
      ['SLC_RECORD_INVALID_UTF8', 2, 3, '\x80A', false],
      ['SLC_RECORD_TOO_LARGE', 3, 6, 'z'.repeat(10), true],
    ])
  })

  it('resumes from a position', () => {
    const r = decodeAll(lines({ offset: 7, line: 3 }), 'x\ny\n')
    assert.deepStrictEqual([r.lines, r.ends, r.position], [[3, 4], [9, 11], { offset: 11, line: 5 }])
  })

  it('gives the single-chunk result at every chunk boundary', () => {
    const input = Buffer.concat([Buffer.from('\ufeffhead\r\n\n日本語\r\n' + 'q'.repeat(25) + '\r\n'), Buffer.from([0xf0, 0x9f]), Buffer.from('\nx\r\n\r\nlast\r')])
    const whole = assertChunkInvariant(() => lines(undefined, 16), input)
    assert.deepStrictEqual(whole.records, [{ message: 'head' }, { message: '' }, { message: '日本語' }, { message: 'x' }, { message: '' }, { message: 'last' }])
    assert.deepStrictEqual(whole.lines, [1, 2, 3, 6, 7, 8])
    assert.deepStrictEqual(whole.errors.map((e) => [e.code, e.line]), [['SLC_RECORD_TOO_LARGE', 4], ['SLC_RECORD_INVALID_UTF8', 5]])
  })

  it('handles a huge line in skip mode without holding it', () => {
    const d = lines(undefined, 100)
    const out = newDecodeOutput()
    const chunk = Buffer.alloc(1000, 0x61)
    assert.equal(d.decode(chunk, 0, chunk.length, false, out), 1000)
    assert.equal(d.decode(chunk, 0, chunk.length, false, out), 1000)
    const tail = Buffer.from('aaa\nnext\n')
    assert.equal(d.decode(tail, 0, tail.length, false, out), tail.length)
    assert.deepStrictEqual(out.records, [{ message: 'next' }])
    assert.deepStrictEqual(out.lines, [2])
    assert.equal(out.errors.length, 1)
    assert.deepStrictEqual(d.position(), { offset: 2009, line: 3 })
  })
})

describe('lines field parser', () => {
  it('wraps the text as a message', () => {
    assert.deepStrictEqual(createFieldParser('lines')('a\nb'), { message: 'a\nb' })
  })
})
