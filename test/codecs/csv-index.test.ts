// The CSV structural index (src/codecs/wasm/csv-index.ts) and the decoder's walk over it: the
// kernel's positions and non-ASCII map against a byte-by-byte reading, and the decoder with the
// index against the decoder scanning every byte, on random CSV large enough to span several
// windows, at random chunkings, with faults, oversized records and other dialects; and the
// kernel's dropRows against the prefilter's JavaScript (passesPrefilter).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { describe, it } from 'node:test'
import { CsvDecoder, type CsvOptions } from '../../src/codecs/formats/csv.js'
import { CsvIndex } from '../../src/codecs/wasm/csv-index.js'
import type { Rec } from '../../src/core/batch.js'
import { filterStep, filterStringCondition } from '../../src/transforms/steps/filter.js'
import { decodeChunks } from './decode-harness.js'

function random(seed: number): (n: number) => number {
  return (n) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n
}

describe('csv structural index: without WebAssembly', () => {
  it('decodes with the byte scanner under --jitless (no WebAssembly there)', () => {
    // The compiled library (npm test builds it first), in a node without WebAssembly.
    const script = `
      import { CsvIndex } from './dist/codecs/wasm/csv-index.js'
      import { CsvDecoder } from './dist/codecs/formats/csv.js'
      import { newDecodeOutput } from './dist/codecs/types.js'
      const d = new CsvDecoder({ maxRecordBytes: 1000 })
      const out = newDecodeOutput()
      const b = Buffer.from('a,b\\n1,"x,y"\\n2,z\\n')
      d.decode(b, 0, b.length, true, out)
      console.log(JSON.stringify({ index: CsvIndex.get() === undefined ? 'none' : 'wasm', records: out.records }))`
    const stdout = execFileSync(process.execPath, ['--jitless', '--no-warnings', '--input-type=module', '-e', script], { cwd: new URL('../..', import.meta.url), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    assert.deepStrictEqual(JSON.parse(stdout), { index: 'none', records: [{ a: 1, b: 'x,y' }, { a: 2, b: 'z' }] })
  })
})

describe('csv structural index: the kernel', () => {
  const available = CsvIndex.get()
  assert.ok(available, 'WebAssembly SIMD is available on the machines Sluice supports')
  const index: CsvIndex = available

  it('finds exactly the delimiter, quote and LF bytes and maps non-ASCII blocks, at every length', () => {
    const rand = random(3)
    // NUL as delimiter: the zero padding after a window must not count.
    for (const [d, q] of [[0x2c, 0x22], [0x09, 0x27], [0x00, 0x22]] as const) {
      for (let round = 0; round < 300; round++) {
        const length: number = round < 200 ? round : rand(index.window + 1)
        const bytes = Buffer.alloc(length + 7)
        const alphabet = [0x61, 0x2c, 0x22, 0x0a, 0x0d, 0x09, 0x27, 0x00, 0xc3, 0xa9, 0xff, 0x7f, 0x80]
        for (let i = 0; i < bytes.length; i++) bytes[i] = alphabet[rand(alphabet.length)]!
        const count = index.build(bytes, 7, length, d, q)
        const want: number[] = []
        for (let i = 0; i < length; i++) {
          const c = bytes[7 + i]!
          if (c === d || c === q || c === 0x0a) want.push(i)
        }
        assert.deepStrictEqual([...index.positions.subarray(0, count)], want, `length ${length}`)
        for (let from = 0; from < length; from += 64) {
          const to = Math.min(from + 63, length - 1)
          let high = false
          for (let i = from; i <= to; i++) high ||= bytes[7 + i]! >= 0x80
          assert.equal(index.mayBeNonAscii(from, to), high, `length ${length}, block at ${from}`)
        }
      }
    }
  })
})

/** Random CSV rows: quoted fields with "" escapes, CR, LF and delimiters inside, non-ASCII text, CRLF ends, faults. */
function randomCsv(seed: number, rows: number, d: string, q: string): Buffer {
  const rand = random(seed)
  const text = ['abc', '12', '3.5', '', 'é', '日本', ' x ', 'true', '\r', 'long'.repeat(20)]
  const lines: string[] = []
  for (let r = 0; r < rows; r++) {
    const fields: string[] = []
    const width = r % 97 === 5 ? 3 : 4
    for (let f = 0; f < width; f++) {
      const kind = rand(20)
      const t = text[rand(text.length)]!
      if (kind < 12) fields.push(t)
      else if (kind < 16) fields.push(q + t + q)
      else if (kind < 17) fields.push(q + t + q + q + t + q) // an escaped quote
      else if (kind < 18) fields.push(q + t + '\n' + d + t + '\r\n' + q) // LF, CR and delimiter inside quotes
      else if (kind < 19) fields.push(t + q + t) // a quote inside an unquoted field is data
      else fields.push(q + t + q + 'x') // text after the closing quote: a parse error
    }
    lines.push(fields.join(d) + (rand(4) === 0 ? '\r\n' : '\n'))
    if (rand(50) === 0) lines.push('\n') // a blank line
    if (r === Math.floor(rows / 2)) lines.push(q + 'y'.repeat(140_000) + '\n' + q + d + '1' + d + '2' + d + '3\n') // longer than a window
  }
  return Buffer.from(lines.join('') + 'last' + d + q + 'unterminated', 'utf8')
}

describe('csv structural index: the decoder walks it exactly as it scans bytes', () => {
  const dialects: CsvOptions[] = [{}, { delimiter: ';', quote: "'" }, { delimiter: '\t', header: false }]
  for (const [n, dialect] of dialects.entries()) {
    it(`gives the byte scanner's records, lines, ends and dead letters (${JSON.stringify(dialect)})`, () => {
      const input = randomCsv(11 + n, 6000, dialect.delimiter ?? ',', dialect.quote ?? '"')
      assert.ok(input.length > 3 * 131072, 'spans several windows')
      const rand = random(5 + n)
      for (const maxRecordBytes of [1 << 20, 300]) {
        const make = (structuralIndex: boolean) => new CsvDecoder({ ...dialect, maxRecordBytes, structuralIndex })
        const cutsList = [[], Array.from({ length: 12 }, () => rand(input.length)).sort((a, b) => a - b)]
        for (const cuts of cutsList) {
          const scanned = decodeChunks(make(false), input, cuts)
          const walked = decodeChunks(make(true), input, cuts)
          assert.ok(scanned.records.length > 4000 && scanned.errors.length > 500, `the input has records and faults: ${scanned.records.length}, ${scanned.errors.length}`)
          assert.deepStrictEqual(walked, scanned, `max ${maxRecordBytes}, cuts ${cuts.join(',')}`)
        }
      }
    })
  }
})

describe('csv structural index: dropRows drops exactly the rows passesPrefilter drops', () => {
  const columns = { n: 'int', s: 'string', x: 'float', t: 'string' } as const
  const conditions = [
    's == "abc"',
    's != "abc"',
    's in ["abc", "é", ""]',
    's == "abc" && t == "12"',
    's == "abc" || t != "3.5"',
    '(s == "日本" || s == "abc") && t in ["abc", "x"]',
    's == "a\\"b"',
  ]

  /** Decode with the prefilter of `condition`; counts the rows the kernel dropped and kept. */
  function decode(input: Buffer, condition: string, structuralIndex: boolean, cuts: number[], maxRecordBytes: number) {
    const d = new CsvDecoder({ columns, maxRecordBytes, structuralIndex })
    const step = filterStep({ condition }, 'f')
    d.setPrefilter(step.fields!()!.reads, (r: Rec) => step.process(r) !== undefined, filterStringCondition(step))
    const original = CsvIndex.prototype.dropRows
    let byKernel = 0
    let keptByKernel = 0
    CsvIndex.prototype.dropRows = function (...args) {
      const n = original.apply(this, args)
      byKernel += n
      keptByKernel += this.keptCount
      return n
    }
    try {
      const decoded = decodeChunks(d, input, cuts)
      return { decoded, prefiltered: d.takePrefiltered(), byKernel, keptByKernel }
    } finally {
      CsvIndex.prototype.dropRows = original
    }
  }

  /** n (int), s, x (float), t: mostly values that fit, some that do not; s and t as randomCsv's fields. */
  function typedCsv(seed: number, rows: number): Buffer {
    const rand = random(seed)
    const ints = ['1', '-2', '+3', '', '42', '123456789012345', 'x', '1.5', '1234567890123456', '-']
    const floats = ['1.5', '-.5', '', '2', '0.25', '1e5', '1.2.3', '.', '+', '"7.5"']
    const strings = randomCsv(seed, rows, ',', '"').toString('utf8').split('\n')
    const lines = ['n,s,x,t']
    for (let r = 0; r < rows; r++) {
      const pick = (values: string[]) => values[rand(4) === 0 ? rand(values.length) : rand(5)]!
      // s and t: the first two fields of a random row (quotes, escapes, faults and all)
      const [s = '', t = ''] = (strings[r] ?? '').split(',')
      lines.push([pick(ints), rand(3) === 0 ? 'abc' : s, pick(floats), t].join(','))
    }
    return Buffer.from(lines.join('\n') + '\n')
  }

  it('gives the same records, lines, ends, dead letters and prefiltered count as without the index', () => {
    const input = typedCsv(21, 8000)
    const rand = random(9)
    let byKernel = 0
    let keptByKernel = 0
    for (const condition of conditions) {
      for (const maxRecordBytes of [1 << 20, 300]) {
        const cuts = Array.from({ length: 8 }, () => rand(input.length)).sort((a, b) => a - b)
        const scanned = decode(input, condition, false, cuts, maxRecordBytes)
        const walked = decode(input, condition, true, cuts, maxRecordBytes)
        assert.equal(scanned.byKernel, 0)
        assert.deepStrictEqual(walked.decoded, scanned.decoded, `${condition}, max ${maxRecordBytes}`)
        assert.equal(walked.prefiltered, scanned.prefiltered, `${condition}: rows dropped unbuilt`)
        assert.ok(walked.byKernel <= walked.prefiltered)
        byKernel += walked.byKernel
        keptByKernel += walked.keptByKernel
      }
    }
    assert.ok(byKernel > 5000, `the kernel dropped rows (${byKernel})`)
    // Rows it kept were built from its positions (buildKept), and equal the scanner's above.
    assert.ok(keptByKernel > 2000, `the kernel kept rows (${keptByKernel})`)
  })

  it('checks int and float columns of the rows it drops: a row that does not fit is dead-lettered', () => {
    const rows = ['n,s,x,t', '1,abc,1.5,a', '+2,zzz,-.5,b', 'x3,zzz,1,c', '4,zzz,1.2.3,d', '5,zzz,1234567890123456,e', '1234567890123456,zzz,1,f', '-,zzz,1,g', '6,zzz,+,h', '7,zzz,,i', ',zzz,12345678901234.5,j']
    const input = Buffer.from(rows.join('\n') + '\n' + '8,zzz,2,k\n'.repeat(50))
    const scanned = decode(input, 's == "abc"', false, [], 1 << 20)
    const walked = decode(input, 's == "abc"', true, [], 1 << 20)
    assert.deepStrictEqual(walked.decoded, scanned.decoded)
    // 16-digit numbers do not fit the kernel's checks, but are valid: the decoder keeps them
    assert.deepStrictEqual(walked.decoded.errors.map((e) => e.line), [4, 5, 8, 9])
    assert.equal(walked.prefiltered, 55)
    // The 50 rows at the end, less those handled in JavaScript after a call that took none.
    assert.ok(walked.byKernel >= 45, `${walked.byKernel}`)
    assert.equal(walked.keptByKernel, 1, 'the first row (s == "abc") is listed, not judged again')
  })
})
