// The CSV prefilter judges rows on raw field bytes when the first filter's condition is only
// string tests (CompiledExpression.stringCondition). These tests decode the same input three
// ways — no prefilter, the value path (`keep` only) and the byte path (`keep` plus the
// condition) — and require the same records, lines, end offsets and dead letters.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createDecoder, type CsvOptions } from '../../src/codecs/index.js'
import type { CsvDecoder } from '../../src/codecs/formats/csv.js'
import type { Rec } from '../../src/core/batch.js'
import { filterStep, filterStringCondition } from '../../src/transforms/steps/filter.js'
import { decodeAll, decodeChunks, type Decoded } from './decode-harness.js'

const make = (csv: CsvOptions) => createDecoder('csv', { csv, maxRecordBytes: 1 << 16 }) as CsvDecoder

interface Run {
  decoded: Decoded
  prefiltered: number
  /** Rows `keep` was asked about. */
  kept: number
}

function run(csv: CsvOptions, input: Buffer, condition: string | undefined, byBytes: boolean, cuts: number[] = []): Run {
  const d = make(csv)
  let kept = 0
  if (condition !== undefined) {
    const step = filterStep({ condition }, 'f')
    const reads = step.fields!()!.reads
    const keep = (r: Rec) => (kept++, step.process(r) !== undefined)
    d.setPrefilter(reads, keep, byBytes ? filterStringCondition(step) : undefined)
  }
  const decoded = decodeChunks(d, input, cuts)
  return { decoded, prefiltered: d.takePrefiltered(), kept }
}

/** The byte path against the value path and against no prefilter; returns the byte path's run. */
function same(csv: CsvOptions, input: Buffer | string, condition: string, cuts: number[] = []): Run {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input
  const plain = run(csv, bytes, undefined, false, cuts)
  const values = run(csv, bytes, condition, false, cuts)
  const byBytes = run(csv, bytes, condition, true, cuts)
  const what = `${condition} over ${JSON.stringify(csv)}`
  assert.deepStrictEqual(byBytes.decoded, values.decoded, what)
  assert.equal(byBytes.prefiltered, values.prefiltered, `${what}: rows dropped unbuilt`)
  // Against no prefilter: the same dead letters, and the records minus those the filter drops.
  const step = filterStep({ condition }, 'f')
  const drops = (r: Rec) => {
    try {
      return step.process(r) === undefined
    } catch {
      return false
    }
  }
  assert.deepStrictEqual(byBytes.decoded.errors, plain.decoded.errors, `${what}: dead letters`)
  const survivors = plain.decoded.records.filter((r) => !drops(r))
  assert.deepStrictEqual(
    byBytes.decoded.records.filter((r) => !drops(r)),
    survivors,
    `${what}: records the filter keeps`,
  )
  assert.equal(byBytes.prefiltered + byBytes.decoded.records.length, plain.decoded.records.length, `${what}: every record is built or counted`)
  return byBytes
}

const DECLARED: CsvOptions = { columns: { id: 'int', kind: 'string', amount: 'float', flag: 'bool', ts: 'timestamp' } }
const HEADER = 'id,kind,note,amount,flag,ts\n'
const ROWS = [
  '1,purchase,x,1.5,true,2026-01-01T00:00:00Z',
  '2,view,y,2,false,2026-01-01T00:00:01Z',
  '3,"purchase",x,3,1,2026-01-01T00:00:02Z', // quoted, no escapes: judged on bytes
  '4,"pur""chase",x,4,0,2026-01-01T00:00:03Z', // "" escape: the value path decides
  '5,"a,b",y,5,yes,2026-01-01T00:00:04Z', // the delimiter inside quotes
  '6,,x,6,no,2026-01-01T00:00:05Z', // empty unquoted declared string: null
  '7,"",y,7,true,2026-01-01T00:00:06Z', // quoted empty: ''
  '8,café,x,8,true,2026-01-01T00:00:07Z',
  '9,日本,"x",9,true,2026-01-01T00:00:08Z',
  'x10,view,y,10,true,2026-01-01T00:00:09Z', // bad int in a rejected row
  '11,view,y,oops,true,2026-01-01T00:00:10Z', // bad float
  '12,view,y,12,maybe,2026-01-01T00:00:11Z', // bad bool
  '13,view,y,13,true,2026-02-30T00:00:12Z', // impossible date
  '14,view,y,1e999,true,2026-01-01T00:00:13Z', // float out of range
  '15,purchase,x,oops,true,2026-01-01T00:00:14Z', // bad float in a kept row
  '16,view,y', // too few fields
  '17,"view"x,y,17,true,2026-01-01T00:00:15Z', // text after a closing quote
  '18,purchase\r', // CRLF and too few fields
  '19,view,"y",19,,', // empty declared non-strings: null, valid
  '20,purchase,"",20,true,1767225600\r',
  '21,pur,x,21,true,2026-01-01T00:00:16Z', // a prefix of the literal
  '22,purchases,x,22,true,2026-01-01T00:00:17Z', // the literal is a prefix
  `28,view,y,${'9'.repeat(400)},true,`, // a float beyond the double range
  '29,view,y,.,true,',
  '30,view,y,-1.2.3,true,',
  '+31,view,y,+.5,true,', // valid: signs and a bare fraction
  '12345678901234567890,view,y,1.,true,', // an int beyond 2^53
  '',
  '23,Purchase,x,23,TRUE,2026-01-01 00:00:18',
  '24,"purchase\nx",x,24,true,2026-01-01T00:00:19Z', // a newline inside quotes
  '25,"café",x,,,',
]
const INPUT = HEADER + ROWS.join('\n') + '\n'
// Invalid UTF-8 in a rejected row and in a row the literal matches (0xff is never UTF-8).
const INVALID_UTF8 = Buffer.concat([Buffer.from(INPUT), Buffer.from('26,view,\xff,26,true,\n27,purchase,\xff,27,true,\n28,caf\xe9,x,28,true,\n', 'latin1')])

const CONDITIONS = [
  'kind == "purchase"',
  '"purchase" == kind',
  'kind != "purchase"',
  'kind in ["purchase", "café"]',
  'kind in ["view"]',
  'kind == "café"',
  'kind == "日本"',
  'kind == ""',
  'kind == "a,b"',
  'kind == "pur\\"chase"',
  'kind == "purchase" && note == "x"',
  'kind == "purchase" || note != "y"',
  'note == "z" || kind == "pur\\"chase"', // false || undecided (row 4 has an escape): undecided
  'note == "x" && kind != "pur\\"chase"',
  'kind != "view" && (note == "x" || kind in ["a,b", ""])',
  'kind == "purchase" && amount > 3', // not only string tests: the value path throughout
]

describe('csv prefilter on raw bytes', () => {
  it('gives the records and dead letters of the value path, on text and declared string columns', () => {
    for (const csv of [DECLARED, { ...DECLARED, infer_types: false }, { infer_types: false }]) {
      for (const condition of CONDITIONS) same(csv, INPUT, condition)
    }
  })

  it('keeps dead letters of invalid UTF-8 rows, whatever the filter says', () => {
    for (const condition of CONDITIONS) {
      const r = same(DECLARED, INVALID_UTF8, condition)
      assert.ok(r.decoded.errors.some((e) => e.code === 'SLC_RECORD_INVALID_UTF8'))
    }
  })

  it('judges rows without asking the filter when the bytes decide', () => {
    const byBytes = same(DECLARED, INPUT, 'kind == "purchase"')
    const values = run(DECLARED, Buffer.from(INPUT), 'kind == "purchase"', false)
    // Asked only about the "" escape (row 4) and the null kind (row 6).
    assert.equal(byBytes.kept, 2)
    assert.ok(values.kept > 15)
    assert.ok(byBytes.prefiltered > 5)
  })

  it('leaves inferred columns to the value path (123 and true are not strings there)', () => {
    const input = 'id,code\n1,123\n2,"123"\n3,abc\n4,true\n5,\n6,007\n'
    for (const condition of ['code == "123"', 'code != "abc"', 'code in ["true", "007", "abc"]']) {
      const r = same({}, input, condition)
      assert.equal(r.kept, 6, condition)
    }
    // The same column as text: the bytes decide every row.
    assert.equal(same({ infer_types: false }, input, 'code == "123"').kept, 0)
  })

  it('gives the same results at every chunk boundary', () => {
    const bytes = Buffer.from(INPUT)
    for (let cut = 1; cut < bytes.length; cut += 7) same(DECLARED, bytes, 'kind in ["purchase", "café"] && note != "y"', [cut, Math.min(bytes.length, cut + 40)])
  })

  it('agrees with the value path on random rows', () => {
    let seed = 42
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return (seed >>> 8) % n
    }
    const words = ['purchase', 'view', '', 'café', 'a,b', 'pur"chase', 'x', 'purchase ', ' purchase', '日本']
    const field = () => {
      const w = words[rand(words.length)]!
      const quoted = w.includes(',') || w.includes('"') || rand(3) === 0
      return quoted ? `"${w.replaceAll('"', '""')}"` : w.replaceAll('"', '')
    }
    const nums = ['1', '2.5', '', 'oops', '-3', '1e999', '+4']
    const rows: string[] = ['kind,note,amount']
    for (let i = 0; i < 2000; i++) rows.push(`${field()},${field()},${nums[rand(nums.length)]}`)
    const input = rows.join(rand(2) === 0 ? '\n' : '\r\n') + '\n'
    const conditions = ['kind == "purchase"', 'kind != "café"', 'kind in ["a,b", "", "pur\\"chase"]', 'kind == "x" || note == "view"', 'kind == "x" || note == "pur\\"chase"', 'kind != "view" && note in ["日本", "purchase"]']
    for (const csv of [{ columns: { kind: 'string', note: 'string', amount: 'float' } } as CsvOptions, { infer_types: false }, { columns: { amount: 'int' } } as CsvOptions]) {
      for (const condition of conditions) same(csv, input, condition)
    }
  })

  it('leaves a literal UTF-8 cannot hold exactly to the value path', () => {
    const input = 'kind\n\uFFFD\nx\n'
    // A lone surrogate written as the character itself (CEL rejects the \ud800 escape).
    const r = same({ infer_types: false }, input, 'kind == "\ud800"')
    assert.equal(r.kept, 2)
  })
})

describe('csv prefilter: a header-less decoder', () => {
  it('resolves the byte condition from declared columns', () => {
    const d = make({ header: false, columns: { kind: 'string', n: 'int' } })
    const step = filterStep({ condition: 'kind == "a"' }, 'f')
    let kept = 0
    d.setPrefilter(step.fields!()!.reads, (r) => (kept++, step.process(r) !== undefined), filterStringCondition(step))
    const r = decodeAll(d, 'a,1\nb,2\nb,x\n')
    assert.deepStrictEqual(r.records, [{ kind: 'a', n: 1 }])
    assert.equal(r.errors.length, 1, 'the bad int of a rejected row is still a dead letter')
    assert.equal(kept, 0)
  })
})
