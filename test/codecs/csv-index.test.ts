// The CSV structural index (src/codecs/wasm/csv-index.ts) and the decoder's walk over it: the
// kernel's positions and non-ASCII map against a byte-by-byte reading, and the decoder with the
// index against the decoder scanning every byte, on random CSV large enough to span several
// windows, at random chunkings, with faults, oversized records and other dialects.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CsvDecoder, type CsvOptions } from '../../src/codecs/formats/csv.js'
import { CsvIndex } from '../../src/codecs/wasm/csv-index.js'
import { decodeChunks } from './decode-harness.js'

function random(seed: number): (n: number) => number {
  return (n) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n
}

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
