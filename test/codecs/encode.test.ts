// Tests of the sink-side encoders: JSON lines (bigint handling) and CSV (quoting, header, round trip).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createCsvEncoder, createDecoder, encodedLines, encodeJsonl, recordOf } from '../../src/codecs/index.js'
import { writeJsonl } from '../../src/codecs/encode.js'
import type { Rec } from '../../src/core/batch.js'
import { assertChunkInvariant, decodeAll } from './decode-harness.js'

describe('encodeJsonl', () => {
  it('writes one LF-terminated JSON object per record in one string', () => {
    assert.equal(encodeJsonl([{ a: 1, b: 'x' }, { c: null, d: [1, { e: true }] }]), '{"a":1,"b":"x"}\n{"c":null,"d":[1,{"e":true}]}\n')
    assert.equal(encodeJsonl([]), '')
  })

  it('turns bigints into numbers when safe, else decimal strings', () => {
    const out = encodeJsonl([{ small: 42n, big: 2n ** 64n, neg: -(2n ** 60n), nested: { n: 7n } }])
    assert.equal(out, '{"small":42,"big":"18446744073709551616","neg":"-1152921504606846976","nested":{"n":7}}\n')
  })

  it('writes lines a worker encoded as they are, mixed with plain records, and decodes them back for dead letters', () => {
    const a = encodedLines(Buffer.from('{"i":1}\n{"i":2}\n{"i":3}\n'), [8, 16, 24])
    // UTF-8 bytes: 'é' and '日' take 2 and 3 bytes.
    const b = encodedLines(Buffer.from('{"j":"é日"}\n'), [15])
    const mixed = [a[0]!, a[1]!, { plain: true }, a[2]!, b[0]!, a[0]!]
    assert.equal(encodeJsonl(mixed), '{"i":1}\n{"i":2}\n{"plain":true}\n{"i":3}\n{"j":"é日"}\n{"i":1}\n')
    assert.deepEqual(mixed.map(recordOf), [{ i: 1 }, { i: 2 }, { plain: true }, { i: 3 }, { j: 'é日' }, { i: 1 }])
    // The same bytes through a reused write buffer, starting too small to hold them.
    const { buffer, length } = writeJsonl([...mixed, { u: 'é日' }], Buffer.alloc(4))
    assert.equal(buffer.toString('utf8', 0, length), encodeJsonl(mixed) + '{"u":"é日"}\n')
  })

  it('round-trips through the jsonl decoder', () => {
    const records: Rec[] = [{ a: 1, s: 'line\nbreak "q"', u: '日本' }, { n: null, arr: [1, 2] }]
    assert.deepStrictEqual(decodeAll(createDecoder('jsonl', { maxRecordBytes: 1000 }), encodeJsonl(records)).records, records)
  })
})

describe('createCsvEncoder', () => {
  it('writes the header once, before the first row, columns from the first record', () => {
    const enc = createCsvEncoder({ header: true })
    assert.equal(enc.encode([]), '')
    assert.equal(enc.encode([{ a: 1, b: 'x' }, { b: 'y', a: 2, extra: 'dropped' }]), 'a,b\n1,x\n2,y\n')
    assert.equal(enc.encode([{ a: 3 }]), '3,\n')
  })

  it('follows declared columns and the delimiter; no header when not asked', () => {
    const enc = createCsvEncoder({ header: false, columns: ['b', 'a'], delimiter: ';' })
    assert.equal(enc.encode([{ a: 1, b: 'x;y' }]), '"x;y";1\n')
  })

  it('quotes fields holding the delimiter, quotes, CR or LF, and encodes every value type', () => {
    const enc = createCsvEncoder({ header: true, columns: ['v'] })
    const values: unknown[] = ['plain', 'a,b', 'say "hi"', 'two\nlines', 'cr\r', '', null, undefined, 1.5, -0, 10n, true, false, { k: 'v,w' }, [1, 2], new Date(Date.UTC(2024, 4, 1)), new Date(NaN)]
    const out = enc.encode(values.map((v) => ({ v })))
    assert.equal(
      out,
      'v\nplain\n"a,b"\n"say ""hi"""\n"two\nlines"\n"cr\r"\n""\n\n\n1.5\n0\n10\ntrue\nfalse\n"{""k"":""v,w""}"\n"[1,2]"\n2024-05-01T00:00:00.000Z\n\n',
    )
  })

  it('quotes header names when needed', () => {
    assert.equal(createCsvEncoder({ header: true, columns: ['a,b', 'c'] }).encode([{ 'a,b': 1, c: 2 }]), '"a,b",c\n1,2\n')
  })

  it('rejects a delimiter that cannot work', () => {
    assert.throws(() => createCsvEncoder({ header: true, delimiter: '"' }), RangeError)
    assert.throws(() => createCsvEncoder({ header: true, delimiter: ';;' }), RangeError)
  })

  it('round-trips through the CSV decoder (types inferred, null and "" kept apart)', () => {
    const records: Rec[] = [
      { id: 1, name: 'Smith, J', note: 'He said "hi"\r\nbye', amount: -12.5, ok: true, empty: '', missing: null },
      { id: 2, name: 'é ü 日本', note: 'tab\there', amount: 1e21, ok: false, empty: '', missing: null },
      { id: 9007199254740991, name: ' spaced ', note: ';', amount: 0, ok: true, empty: 'x', missing: 'y' },
    ]
    const text = createCsvEncoder({ header: true }).encode(records)
    const back = assertChunkInvariant(() => createDecoder('csv', { maxRecordBytes: 1000 }), text)
    assert.deepStrictEqual(back.errors, [])
    assert.deepStrictEqual(back.records, records)
  })

  it('round-trips number-like strings when the column is declared string', () => {
    const records: Rec[] = [{ zip: '02134', code: '123', flag: 'true' }]
    for (const delimiter of [',', ';', '\t']) {
      const text = createCsvEncoder({ header: true, delimiter }).encode(records)
      const d = createDecoder('csv', { maxRecordBytes: 1000, csv: { delimiter, columns: { code: 'string', flag: 'string' } } })
      assert.deepStrictEqual(decodeAll(d, text).records, records)
    }
  })
})
