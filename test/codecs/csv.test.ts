// Tests of the CSV decoder: RFC 4180 conformance, typing, errors, resume, and identical results
// at every chunk boundary.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createDecoder, createFieldParser, csvOptionsSchema, type CsvOptions, type CsvOptionsConfig } from '../../src/codecs/index.js'
import { newDecodeOutput, type DecoderPosition } from '../../src/codecs/types.js'
import { CsvDecoder } from '../../src/codecs/formats/csv.js'
import type { Rec } from '../../src/core/batch.js'
import { isSluiceError } from '../../src/core/errors.js'
import { assertChunkInvariant, decodeAll, decodeChunks } from './decode-harness.js'

const MAX = 1024 * 1024
const csv = (options: CsvOptions = {}, position?: DecoderPosition, maxRecordBytes = MAX) =>
  createDecoder('csv', { csv: options, maxRecordBytes }, position)

describe('csv: RFC 4180 structure', () => {
  it('reads a header and keys records by it, with lines and end offsets', () => {
    const r = decodeAll(csv(), 'a,b\n1,x\n2,y\n')
    assert.deepStrictEqual(r.records, [{ a: 1, b: 'x' }, { a: 2, b: 'y' }])
    assert.deepStrictEqual(r.lines, [2, 3])
    assert.deepStrictEqual(r.ends, [8, 12])
    assert.deepStrictEqual(r.errors, [])
    assert.deepStrictEqual(r.position, { offset: 12, line: 4, state: { header: ['a', 'b'] } })
  })

  it('emits a last row without a trailing newline at the end of input', () => {
    const r = decodeAll(csv(), 'a,b\n1,x\n2,y')
    assert.deepStrictEqual(r.records, [{ a: 1, b: 'x' }, { a: 2, b: 'y' }])
    assert.deepStrictEqual(r.ends, [8, 11])
    assert.deepStrictEqual(r.position, { offset: 11, line: 3, state: { header: ['a', 'b'] } })
  })

  it('keeps an incomplete last row until more input or the end', () => {
    const d = csv()
    const out = newDecodeOutput()
    const buf = Buffer.from('a,b\n1,x\n2,y')
    assert.equal(d.decode(buf, 0, buf.length, false, out), 8)
    assert.deepStrictEqual(out.records, [{ a: 1, b: 'x' }])
    assert.deepStrictEqual(d.position(), { offset: 8, line: 3, state: { header: ['a', 'b'] } })
  })

  it('reads quoted fields holding delimiters, escaped quotes and newlines', () => {
    const input = 'name,quote,n\n"Smith, J","He said ""hi""",1\n"multi\nline\r\nfield","",2\nlast,"a""",3\n'
    const r = decodeAll(csv(), input)
    assert.deepStrictEqual(r.records, [
      { name: 'Smith, J', quote: 'He said "hi"', n: 1 },
      { name: 'multi\nline\r\nfield', quote: '', n: 2 },
      { name: 'last', quote: 'a"', n: 3 },
    ])
    // The quoted field spans lines 3-5, so the next record starts on line 6.
    assert.deepStrictEqual(r.lines, [2, 3, 6])
    assert.deepStrictEqual(r.position.line, 7)
  })

  it('accepts CRLF line endings and strips the CR, also after a quoted field', () => {
    const r = decodeAll(csv(), 'a,b\r\n1,"x"\r\n2,y\r\n')
    assert.deepStrictEqual(r.records, [{ a: 1, b: 'x' }, { a: 2, b: 'y' }])
    assert.deepStrictEqual(r.ends, [12, 17])
    assert.deepStrictEqual(r.position, { offset: 17, line: 4, state: { header: ['a', 'b'] } })
  })

  it('keeps a lone CR inside a field as data', () => {
    const r = decodeAll(csv({ infer_types: false }), 'a,b\nx\ry,z\n')
    assert.deepStrictEqual(r.records, [{ a: 'x\ry', b: 'z' }])
  })

  it('skips a UTF-8 BOM at the start of the stream', () => {
    const r = decodeAll(csv(), '\ufeffid,name\n1,é\n')
    assert.deepStrictEqual(r.records, [{ id: 1, name: 'é' }])
    assert.deepStrictEqual(r.ends, [16])
  })

  it('does not skip a BOM when the stream resumes past offset 0', () => {
    const r = decodeAll(csv({ infer_types: false }, { offset: 10, line: 3, state: { header: ['a'] } }), '\ufeffx\n')
    assert.deepStrictEqual(r.records, [{ a: '\ufeffx' }])
    assert.deepStrictEqual(r.lines, [3])
    assert.deepStrictEqual(r.ends, [15])
  })

  it('supports a custom delimiter and quote', () => {
    assert.deepStrictEqual(decodeAll(csv({ delimiter: ';' }), 'a;b\n"x;y";1,5\n').records, [{ a: 'x;y', b: '1,5' }])
    assert.deepStrictEqual(decodeAll(csv({ delimiter: '\t' }), 'a\tb\n"x\ty"\t2\n').records, [{ a: 'x\ty', b: 2 }])
    assert.deepStrictEqual(decodeAll(csv({ quote: "'" }), "a,b\n'x,''y''','\"'\n").records, [{ a: "x,'y'", b: '"' }])
  })

  it('treats a quote inside an unquoted field as data', () => {
    assert.deepStrictEqual(decodeAll(csv(), 'a,b\n5" disk,x\n').records, [{ a: '5" disk', b: 'x' }])
  })

  it('reads an empty last field after a trailing delimiter', () => {
    assert.deepStrictEqual(decodeAll(csv(), 'a,b\n1,\n2,').records, [{ a: 1, b: null }, { a: 2, b: null }])
  })

  it('gives nothing for an empty input or a header alone', () => {
    const empty = decodeAll(csv(), '')
    assert.deepStrictEqual([empty.records, empty.errors, empty.position], [[], [], { offset: 0, line: 1 }])
    const header = decodeAll(csv(), 'a,b\n')
    assert.deepStrictEqual([header.records, header.errors], [[], []])
    assert.deepStrictEqual(header.position, { offset: 4, line: 2, state: { header: ['a', 'b'] } })
  })

  it('skips blank lines but counts them', () => {
    const r = decodeAll(csv(), '\na,b\n\n1,x\r\n\r\n\n2,y\n\n')
    assert.deepStrictEqual(r.records, [{ a: 1, b: 'x' }, { a: 2, b: 'y' }])
    assert.deepStrictEqual(r.lines, [4, 7])
    assert.deepStrictEqual(r.errors, [])
    assert.deepStrictEqual(r.position.line, 9)
  })

  it('names columns by `columns` or column_<n> without a header', () => {
    assert.deepStrictEqual(decodeAll(csv({ header: false }), '1,x\n2,y\n').records, [
      { column_1: 1, column_2: 'x' },
      { column_1: 2, column_2: 'y' },
    ])
    const r = decodeAll(csv({ header: false, columns: { id: 'int', name: 'string' } }), '1,x\n')
    assert.deepStrictEqual(r.records, [{ id: 1, name: 'x' }])
    assert.deepStrictEqual(r.lines, [1])
  })

  it('names empty header cells and suffixes repeated ones', () => {
    const r = decodeAll(csv({ infer_types: false }), 'a,,a,a_2,a\n1,2,3,4,5\n')
    assert.deepStrictEqual(r.position.state?.header, ['a', 'column_2', 'a_2', 'a_2_2', 'a_3'])
    assert.deepStrictEqual(r.records, [{ a: '1', column_2: '2', a_2: '3', a_2_2: '4', a_3: '5' }])
  })

  it('keeps __proto__ and other odd header names as plain own properties', () => {
    const r = decodeAll(csv({ infer_types: false }), '__proto__,"a""b",constructor,1\nx,y,z,w\n')
    const rec = r.records[0]!
    assert.equal(Object.getPrototypeOf(rec), Object.prototype)
    assert.deepStrictEqual(Object.keys(rec), ['1', '__proto__', 'a"b', 'constructor'])
    assert.equal(Object.getOwnPropertyDescriptor(rec, '__proto__')?.value, 'x')
    assert.equal(rec['a"b'], 'y')
  })
})

describe('csv: types', () => {
  it('infers numbers, booleans and nulls for undeclared columns', () => {
    const header = 'i,neg,zero,big,lead,dec,exp,huge,t,f,T,e,qe,s,plus,hex,dot\n'
    const row = '42,-7,0,12345678901234567890,007,3.25,-1.5e3,1e999,true,false,TRUE,,"",abc,+5,0x1F,.5\n'
    const r = decodeAll(csv(), header + row)
    assert.deepStrictEqual(r.records, [
      {
        i: 42, neg: -7, zero: 0, big: '12345678901234567890', lead: '007', dec: 3.25, exp: -1500, huge: '1e999',
        t: true, f: false, T: true, e: null, qe: '', s: 'abc', plus: '+5', hex: '0x1F', dot: '.5',
      },
    ])
  })

  it('keeps integers up to 2^53-1 as numbers', () => {
    const r = decodeAll(csv({ header: false }), '9007199254740991,-9007199254740991,9007199254740992,123456789012345\n')
    assert.deepStrictEqual(r.records, [{ column_1: 9007199254740991, column_2: -9007199254740991, column_3: '9007199254740992', column_4: 123456789012345 }])
  })

  it('infers inside quoted fields too, except that "" is an empty string', () => {
    assert.deepStrictEqual(decodeAll(csv(), 'a,b,c\n"12","true",""\n').records, [{ a: 12, b: true, c: '' }])
  })

  it('keeps every value a string with infer_types: false', () => {
    assert.deepStrictEqual(decodeAll(csv({ infer_types: false }), 'a,b,c\n1,true,\n').records, [{ a: '1', b: 'true', c: '' }])
  })

  it('converts declared types and applies them by header name', () => {
    const columns = { n: 'int', x: 'float', ok: 'bool', at: 'timestamp', s: 'string' } as const
    const input = 'other,n,x,ok,at,s\n' +
      '7,-12,1.5,yes,2024-05-01T12:00:00Z,0042\n' +
      '8,+3,-.5e1,No,1714564800,x\n' +
      '9,0,1e3,TRUE,1714564800123,""\n' +
      '10,,,,,\n' +
      '11,007,5.,0,2024-05-01 12:00:00,"a""b"\n' +
      '12,1,2,1,2024-05-01,s\n'
    const r = decodeAll(csv({ columns }), input)
    assert.deepStrictEqual(r.errors, [])
    assert.deepStrictEqual(r.records, [
      { other: 7, n: -12, x: 1.5, ok: true, at: '2024-05-01T12:00:00.000Z', s: '0042' },
      { other: 8, n: 3, x: -5, ok: false, at: '2024-05-01T12:00:00.000Z', s: 'x' },
      { other: 9, n: 0, x: 1000, ok: true, at: '2024-05-01T12:00:00.123Z', s: '' },
      { other: 10, n: null, x: null, ok: null, at: null, s: null },
      { other: 11, n: 7, x: 5, ok: false, at: '2024-05-01T12:00:00.000Z', s: 'a"b' },
      { other: 12, n: 1, x: 2, ok: true, at: '2024-05-01T00:00:00.000Z', s: 's' },
    ])
  })

  it('reads timestamps with an explicit zone as given', () => {
    const r = decodeAll(csv({ header: false, columns: { at: 'timestamp' } }), '2024-05-01T12:00:00+02:00\n2024-05-01T12:00:00.5Z\n')
    assert.deepStrictEqual(r.records, [{ at: '2024-05-01T10:00:00.000Z' }, { at: '2024-05-01T12:00:00.500Z' }])
  })

  it('dead-letters a row whose value does not fit its declared type, naming column and value', () => {
    const columns = { n: 'int', x: 'float', ok: 'bool', at: 'timestamp' } as const
    const input = 'n,x,ok,at\n1.5,1,true,1\n1,abc,true,1\n1,1,maybe,1\n1,1,true,not a date\n9007199254740993,1,true,1\n1,1e999,true,1\n1,2,false,3\n'
    const r = decodeAll(csv({ columns }), input)
    assert.deepStrictEqual(r.records, [{ n: 1, x: 2, ok: false, at: '1970-01-01T00:00:03.000Z' }])
    assert.deepStrictEqual(r.lines, [8])
    assert.deepStrictEqual(
      r.errors.map((e) => [e.code, e.line, e.message]),
      [
        ['SLC_RECORD_PARSE', 2, 'column "n": expected an integer, found "1.5"'],
        ['SLC_RECORD_PARSE', 3, 'column "x": expected a number, found "abc"'],
        ['SLC_RECORD_PARSE', 4, 'column "ok": expected a boolean (true/false, 1/0, yes/no), found "maybe"'],
        ['SLC_RECORD_PARSE', 5, 'column "at": expected a timestamp (ISO-8601, a date Date.parse accepts, or epoch digits), found "not a date"'],
        ['SLC_RECORD_PARSE', 6, 'column "n": integer out of the safe range (±2^53-1); declare it as string, found "9007199254740993"'],
        ['SLC_RECORD_PARSE', 7, 'column "x": expected a finite number, found "1e999"'],
      ],
    )
    assert.equal(r.errors[0]!.raw, '1.5,1,true,1')
    assert.equal(r.errors[0]!.offset, 10)
  })
})

describe('csv: bad input is dead-lettered, never thrown', () => {
  it('reports ragged rows with their field count and keeps going', () => {
    const r = decodeAll(csv(), 'a,b,c\n1,2,3\n1,2\n1,2,3,4\r\n4,5,6\n')
    assert.deepStrictEqual(r.records, [{ a: 1, b: 2, c: 3 }, { a: 4, b: 5, c: 6 }])
    assert.deepStrictEqual(r.errors, [
      { code: 'SLC_RECORD_PARSE', message: 'row has 2 fields, expected 3', line: 3, offset: 12, raw: '1,2', rawTruncated: false },
      { code: 'SLC_RECORD_PARSE', message: 'row has 4 fields, expected 3', line: 4, offset: 16, raw: '1,2,3,4', rawTruncated: false },
    ])
  })

  it('reports an unclosed quote at the end of input', () => {
    const r = decodeAll(csv(), 'a,b\n1,x\n2,"open\nstill open\n')
    assert.deepStrictEqual(r.records, [{ a: 1, b: 'x' }])
    assert.deepStrictEqual(r.errors, [
      { code: 'SLC_RECORD_PARSE', message: 'unclosed quote at end of input', line: 3, offset: 8, raw: '2,"open\nstill open\n', rawTruncated: false },
    ])
    assert.deepStrictEqual(r.position, { offset: 27, line: 5, state: { header: ['a', 'b'] } })
  })

  it('reports text after a closing quote', () => {
    const r = decodeAll(csv(), 'a,b\n"x"y,1\n2,3\n')
    assert.deepStrictEqual(r.records, [{ a: 2, b: 3 }])
    assert.deepStrictEqual(r.errors.map((e) => [e.message, e.line, e.raw]), [['unexpected character after the closing quote of field 1', 2, '"x"y,1']])
  })

  it('dead-letters invalid UTF-8 rows with their raw bytes; valid rows of the chunk still decode', () => {
    const input = Buffer.concat([Buffer.from('a,b\n1,ok\n2,'), Buffer.from([0xff, 0xfe]), Buffer.from('\n3,é\n')])
    const r = decodeAll(csv(), input)
    assert.deepStrictEqual(r.records, [{ a: 1, b: 'ok' }, { a: 3, b: 'é' }])
    assert.deepStrictEqual(r.lines, [2, 4])
    assert.equal(r.errors.length, 1)
    assert.equal(r.errors[0]!.code, 'SLC_RECORD_INVALID_UTF8')
    assert.equal(r.errors[0]!.raw, '2,\xff\xfe')
    assert.deepStrictEqual([r.errors[0]!.line, r.errors[0]!.offset], [3, 9])
  })

  it('dead-letters a too-large record with its first bytes and skips to the next line', () => {
    const long = 'x'.repeat(100)
    const input = `a,b\n1,${long}\n2,short\n`
    const r = decodeAll(csv({}, undefined, 20), input)
    assert.deepStrictEqual(r.records, [{ a: 2, b: 'short' }])
    assert.deepStrictEqual(r.lines, [3])
    assert.deepStrictEqual(r.errors, [
      { code: 'SLC_RECORD_TOO_LARGE', message: 'record is larger than max_record_bytes (20 bytes)', line: 2, offset: 4, raw: `1,${'x'.repeat(18)}`, rawTruncated: true },
    ])
    assert.equal(r.position.offset, Buffer.byteLength(input))
  })

  it('caps raw bytes in dead letters at maxRawBytes', () => {
    const d = createDecoder('csv', { maxRecordBytes: 1000, maxRawBytes: 4 }, undefined)
    const r = decodeAll(d, 'a,b\n1,2,3,4,5\n')
    assert.deepStrictEqual(r.errors.map((e) => [e.raw, e.rawTruncated]), [['1,2,', true]])
  })

  it('bounds memory on a huge line: consumes chunks in skip mode', () => {
    const d = csv({}, undefined, 1000)
    const out = newDecodeOutput()
    const head = Buffer.from(`a\n${'y'.repeat(5000)}`)
    assert.equal(d.decode(head, 0, head.length, false, out), head.length)
    const more = Buffer.from(`${'y'.repeat(5000)}\n7\n`)
    assert.equal(d.decode(more, 0, more.length, false, out), more.length)
    assert.deepStrictEqual(out.records, [{ a: 7 }])
    assert.deepStrictEqual(out.errors.map((e) => [e.code, e.line, e.offset, (e.raw as Buffer).length]), [['SLC_RECORD_TOO_LARGE', 2, 2, 1000]])
    assert.deepStrictEqual(d.position(), { offset: head.length + more.length, line: 4, state: { header: ['a'] } })
  })

  it('resyncs a too-large quoted record at the first LF past the limit (documented)', () => {
    // Record 2 is `"` + 30 x + LF + 10 y + `"`: the LF inside it is past max 20, so decoding
    // resumes inside the quoted field, where the closing quote reads as data of an unquoted field.
    const input = `a\n"${'x'.repeat(30)}\n${'y'.repeat(10)}"\n5\n`
    const r = decodeAll(csv({}, undefined, 20), input)
    assert.deepStrictEqual(r.errors.map((e) => [e.code, e.line]), [['SLC_RECORD_TOO_LARGE', 2]])
    assert.deepStrictEqual(r.records, [{ a: `${'y'.repeat(10)}"` }, { a: 5 }])
    assert.deepStrictEqual(r.lines, [3, 4])
  })
})

describe('csv: resume from a position', () => {
  it('continues with the checkpointed header, offset and line', () => {
    const input = Buffer.from('id,v\n1,a\n"2","b\nc"\n3,d\n')
    const first = csv()
    const out = newDecodeOutput()
    const cut = 12 // inside row 2
    const ret = first.decode(input, 0, cut, false, out)
    assert.equal(ret, 9)
    const pos = first.position()
    assert.deepStrictEqual(pos, { offset: 9, line: 3, state: { header: ['id', 'v'] } })
    const rest = decodeAll(csv({}, pos), input.subarray(pos.offset))
    assert.deepStrictEqual(rest.records, [{ id: 2, v: 'b\nc' }, { id: 3, v: 'd' }])
    assert.deepStrictEqual(rest.lines, [3, 5])
    assert.deepStrictEqual(rest.ends, [19, 23])
  })
})

describe('csv: chunk boundaries', () => {
  const tricky =
    '\ufeffid,name,note,amount\r\n' +
    '1,"Smith, J","He said ""hi""",1.5\r\n' +
    '\r\n' +
    '2,"multi\nline ""q""\r\nend",,-2e3\n' +
    '3,plain,"",007\n' +
    '\n' +
    '4,é ü 日本,"x,y\n",true\n' +
    '5,a,b\n' +
    '6,"a"b,c,1\n' +
    '7,last,"",' // no final newline

  it('gives the single-chunk result at every split, in 1-byte chunks and random splits', () => {
    const whole = assertChunkInvariant(() => csv(), tricky)
    assert.deepStrictEqual(whole.records, [
      { id: 1, name: 'Smith, J', note: 'He said "hi"', amount: 1.5 },
      { id: 2, name: 'multi\nline "q"\r\nend', note: null, amount: -2000 },
      { id: 3, name: 'plain', note: '', amount: '007' },
      { id: 4, name: 'é ü 日本', note: 'x,y\n', amount: true },
      { id: 7, name: 'last', note: '', amount: null },
    ])
    assert.deepStrictEqual(whole.lines, [2, 4, 7, 9, 13])
    assert.deepStrictEqual(whole.errors.map((e) => [e.line, e.message]), [
      [11, 'row has 3 fields, expected 4'],
      [12, 'unexpected character after the closing quote of field 2'],
    ])
    const total = Buffer.byteLength(tricky)
    assert.equal(whole.ends.at(-1), total)
    assert.deepStrictEqual(whole.position, { offset: total, line: 13, state: { header: ['id', 'name', 'note', 'amount'] } })
  })

  it('is chunk-invariant with declared types, a custom dialect and no header', () => {
    const input = "1;'a;b';2024-05-01 10:00:00\n\n2;'it''s';1714557600\r\n3;;\n4;'x'"
    const whole = assertChunkInvariant(() => csv({ delimiter: ';', quote: "'", header: false, columns: { n: 'int', s: 'string', at: 'timestamp' } }), input)
    assert.deepStrictEqual(whole.records, [
      { n: 1, s: 'a;b', at: '2024-05-01T10:00:00.000Z' },
      { n: 2, s: "it's", at: '2024-05-01T10:00:00.000Z' },
      { n: 3, s: null, at: null },
    ])
    assert.deepStrictEqual(whole.errors.map((e) => e.message), ['row has 2 fields, expected 3'])
  })

  it('is chunk-invariant for too-large records, unclosed quotes and invalid UTF-8', () => {
    const input = Buffer.concat([
      Buffer.from('a,b\n1,ok\n2,"' + 'z'.repeat(40) + '"\n3,'),
      Buffer.from([0xc3]), // a truncated 2-byte sequence
      Buffer.from('\n4,"q\n5\n'.repeat(1) + '"\n6,"open'),
    ])
    const whole = assertChunkInvariant(() => csv({}, undefined, 24), input)
    assert.deepStrictEqual(whole.records, [{ a: 1, b: 'ok' }, { a: 4, b: 'q\n5\n' }])
    assert.deepStrictEqual(whole.errors.map((e) => [e.code, e.line]), [
      ['SLC_RECORD_TOO_LARGE', 3],
      ['SLC_RECORD_INVALID_UTF8', 4],
      ['SLC_RECORD_PARSE', 8],
    ])
  })

  it('is chunk-invariant and never throws on random bytes (seeded fuzz)', () => {
    const alphabet = ['a', '1', '1', ',', ',', '"', '"', '\n', '\n', '\r\n', '\r', ' ', 'é', '\ufeff', '\xff'].map((t) => Buffer.from(t, t === '\xff' ? 'latin1' : 'utf8'))
    let seed = 7
    const rand = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % n
    for (let round = 0; round < 60; round++) {
      const input = Buffer.concat(Array.from({ length: rand(40) }, () => alphabet[rand(alphabet.length)]!))
      const header = round % 2 === 0
      const max = round % 3 === 0 ? 6 : 1000
      assertChunkInvariant(() => csv({ header }, undefined, max), input)
    }
  })

  it('handles a BOM split across chunks and a stream that is only a BOM prefix', () => {
    assertChunkInvariant(() => csv(), '\ufeffa\n1\n')
    const partial = decodeAll(csv({ header: false }), Buffer.from([0xef, 0xbb]))
    assert.deepStrictEqual([partial.records, partial.errors.map((e) => e.code)], [[], ['SLC_RECORD_INVALID_UTF8']])
    assert.deepStrictEqual(decodeChunks(csv({ header: false }), Buffer.from('\ufeff'), [1, 2]).records, [])
  })
})

describe('csv: options schema and field parser', () => {
  it('fills defaults and describes every option', () => {
    const parsed: CsvOptionsConfig = csvOptionsSchema.parse({})
    assert.deepStrictEqual(parsed, { delimiter: ',', quote: '"', header: true, infer_types: true })
    const opts: CsvOptions = parsed
    assert.ok(createDecoder('csv', { csv: opts, maxRecordBytes: 10 }))
    for (const [key, field] of Object.entries(csvOptionsSchema.shape)) {
      assert.ok(typeof field.meta()?.description === 'string' && field.meta()!.description!.length > 10, `option ${key} is described`)
    }
  })

  it('rejects bad dialects and unknown keys', () => {
    assert.equal(csvOptionsSchema.safeParse({ delimiter: ';;' }).success, false)
    assert.equal(csvOptionsSchema.safeParse({ delimiter: '\n' }).success, false)
    assert.equal(csvOptionsSchema.safeParse({ quote: ',' }).success, false)
    assert.equal(csvOptionsSchema.safeParse({ delimter: ';' }).success, false)
    assert.equal(csvOptionsSchema.safeParse({ columns: { a: 'integer' } }).success, false)
    assert.equal(csvOptionsSchema.safeParse({ delimiter: '\t', columns: { a: 'int' } }).success, true)
    assert.throws(() => csv({ delimiter: '"' }), (e: unknown) => isSluiceError(e) && e.code === 'SLC_CONFIG_INVALID')
    assert.throws(() => csv({ delimiter: 'é' }), (e: unknown) => isSluiceError(e) && e.code === 'SLC_CONFIG_INVALID')
  })

  it('parses one CSV value with declared columns', () => {
    const parse = createFieldParser('csv', { csv: { columns: { id: 'int', name: 'string', score: 'float' } } })
    assert.deepStrictEqual(parse('1,"a, b",2.5'), { id: 1, name: 'a, b', score: 2.5 })
    assert.deepStrictEqual(parse('2,x,\r\n'), { id: 2, name: 'x', score: null })
    assert.throws(() => parse('1,2'), (e: unknown) => isSluiceError(e) && e.code === 'SLC_RECORD_PARSE' && /2 fields, expected 3/.test(e.message))
    assert.throws(() => parse('x,y,1'), /column "id": expected an integer/)
    assert.throws(() => parse(''), /expected one CSV row, found none/)
    assert.throws(() => parse('1,a,1\n2,b,2'), /expected one CSV row, found 2/)
    assert.throws(() => parse('1,"a,1'), /unclosed quote/)
    assert.deepStrictEqual(parse('3,z,1'), { id: 3, name: 'z', score: 1 })
    assert.throws(() => createFieldParser('csv', {}), (e: unknown) => isSluiceError(e) && e.code === 'SLC_CONFIG_INVALID')
  })
})

describe('csv: timestamp fast path', () => {
  it('keeps canonical UTC timestamps, adds milliseconds, and rejects impossible dates instead of rolling them over', () => {
    const r = decodeAll(
      csv({ columns: { ts: 'timestamp' } }),
      'ts\n2026-01-01T00:00:02.658Z\n2024-02-29T23:59:59Z\n2026-02-29T00:00:02Z\n2026-01-01T24:00:00Z\n"2026-01-01T00:00:00Z"\n2026-01-01T00:00:00.5Z\n',
    )
    assert.deepEqual(r.records.map((x) => x.ts), ['2026-01-01T00:00:02.658Z', '2024-02-29T23:59:59.000Z', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.500Z'])
    assert.deepEqual(r.errors.map((e) => e.line), [4, 5])
    assert.match(r.errors[0]!.message, /no such date/)
  })
})

describe('csv: projection pushdown (fields)', () => {
  const project = (records: Record<string, unknown>[], fields: string[]) =>
    records.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => fields.includes(k))))
  const tricky =
    'id,name,note,amount,flag\r\n' +
    '1,"Smith, J","He said ""hi""",1.5,true\r\n' +
    '2,"multi\nline",,-2e3,false\n' +
    '3,plain,"",007,\n' +
    '4,é ü,"x,y\n",0.1,TRUE\n' +
    '5,a,b\n' +
    '6,"a"b,c,1,x\n' +
    '7,last,"",12345678901234567890,' // no final newline

  it('with some fields, records hold exactly those fields with the same values, lines and errors, at every chunking', () => {
    for (const fields of [['amount'], ['note', 'id'], ['name'], ['nope'], ['id', 'name', 'note', 'amount', 'flag']]) {
      const full = assertChunkInvariant(() => csv(), tricky)
      const some = assertChunkInvariant(() => createDecoder('csv', { csv: {}, maxRecordBytes: MAX, fields }), tricky)
      assert.deepStrictEqual(some.records, project(full.records, fields), fields.join(','))
      assert.deepStrictEqual(some.lines, full.lines)
      assert.deepStrictEqual(some.ends, full.ends)
      assert.deepStrictEqual(some.errors, full.errors)
      assert.deepStrictEqual(some.position, full.position, 'the full header is checkpointed')
    }
  })

  it('a declared column nobody reads still dead-letters a value of the wrong type', () => {
    const columns = { id: 'int', amount: 'float', ok: 'bool' } as const
    const input = 'id,amount,ok,name\n1,2.5,true,a\nx,3,true,b\n3,nan,yes,c\n4,1,maybe,d\n5,.5,no,e\n'
    const full = decodeAll(csv({ columns }), input)
    const some = decodeAll(createDecoder('csv', { csv: { columns }, maxRecordBytes: MAX, fields: ['name'] }), input)
    assert.deepStrictEqual(some.records, [{ name: 'a' }, { name: 'e' }])
    assert.deepStrictEqual(some.errors, full.errors)
    assert.equal(some.errors.length, 3)
  })

  it('declared floats parsed from the bytes equal Number() of their text', () => {
    let seed = 7
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296
    const values: string[] = ['0', '-0', '+1', '.5', '5.', '0.1', '0.30000000000000004', '123456789012345', '1234567890123456', '9007199254740993', '1e3', '-2.5E-3', '99.99', '0.000000000000001']
    for (let i = 0; i < 3000; i++) {
      const int = Math.floor(rand() * 10 ** Math.floor(rand() * 10))
      const frac = Math.floor(rand() * 10 ** Math.floor(rand() * 8))
      values.push(`${rand() < 0.3 ? '-' : ''}${int}.${String(frac).padStart(Math.floor(rand() * 9), '0')}`)
    }
    const input = 'v\n' + values.join('\n') + '\n'
    const r = decodeAll(csv({ columns: { v: 'float' } }), input)
    assert.deepStrictEqual(r.errors, [])
    assert.deepStrictEqual(r.records.map((x) => x.v), values.map(Number))
    const inferred = decodeAll(csv(), input).records.map((x) => x.v)
    values.forEach((v, i) => {
      // Inference turns JSON-grammar fractions into numbers (integers only when safe).
      if (/^-?(0|[1-9]\d*)(\.\d+|(\.\d+)?[eE][+-]?\d+)$/.test(v)) assert.ok(Object.is(inferred[i], Number(v)) || inferred[i] === Number(v), v)
    })
  })
})

describe('csv: short-string cache', () => {
  it('repeated and unique short values, colliding or not, decode to their own text', () => {
    const rows = ['k,u,q']
    const expected: { k: string; u: string; q: string }[] = []
    for (let i = 0; i < 12000; i++) {
      const k = ['DE', 'FR', 'x', 'purchase', 'view', 'AB', 'BA', 'abcdefghijklmnop'][i % 8]!
      const u = `u${i.toString(36)}`
      const q = i % 3 === 0 ? 'a,b' : 'ab'
      rows.push(`${k},${u},${q === 'a,b' ? '"a,b"' : q}`)
      expected.push({ k, u, q })
    }
    const r = decodeAll(csv({ infer_types: false }), rows.join('\n') + '\n')
    assert.deepStrictEqual(r.records, expected)
    const typed = decodeAll(csv({ columns: { k: 'string', u: 'string', q: 'string' } }), rows.join('\n') + '\n')
    assert.deepStrictEqual(typed.records, expected)
  })
})

describe('csv: prefilter (predicate pushdown of a first filter)', () => {
  const input = 'id,kind,amount\n1,a,10\n2,b,20\nx3,b,30\n4,b,\n5,a,oops\n6,a,60\n7,,70\n'
  const make = () => createDecoder('csv', { maxRecordBytes: 1 << 16, csv: { columns: { id: 'int', amount: 'float' } } }) as CsvDecoder

  it('skips building rows the filter drops, and still dead-letters every row that does not decode', () => {
    const plain = decodeAll(make(), input)
    const keep = (r: Rec) => {
      if (r.kind === null) throw new Error('no kind')
      return r.kind === 'a'
    }
    const d = make()
    const seen: Rec[] = []
    d.setPrefilter(['kind'], (r) => (seen.push({ ...r }), keep(r)))
    const pre = decodeAll(d, input)
    // Rows 2 and 4 are dropped unbuilt; x3 (bad id) and 5 (bad amount) are still dead letters;
    // row 7's filter throws, so it is built for the real filter to dead-letter.
    assert.deepEqual(pre.records.map((r) => r.id), [1, 6, 7])
    assert.equal(d.takePrefiltered(), 2)
    assert.equal(d.takePrefiltered(), 0, 'the count resets')
    assert.deepEqual(pre.errors.map((e) => e.line), plain.errors.map((e) => e.line))
    assert.deepEqual(pre.errors.map((e) => e.message), plain.errors.map((e) => e.message))
    assert.deepEqual(seen[0], { kind: 'a' }, 'the filter sees only its own fields')
    assert.deepEqual(plain.records.filter((r) => r.kind !== 'b').map((r) => r.id), [1, 6, 7])
  })

  it('does nothing when a filter field is not a column', () => {
    const d = make()
    d.setPrefilter(['nope'], () => false)
    assert.equal(decodeAll(d, input).records.length, decodeAll(make(), input).records.length)
    assert.equal(d.takePrefiltered(), 0)
  })
})
