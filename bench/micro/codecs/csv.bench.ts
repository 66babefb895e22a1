// Micro-benchmark of the record decoders: rows/s for CSV (inferred and declared types, ASCII and
// non-ASCII) and JSON lines on ~200k in-memory rows fed in 64 KiB chunks, plus the candidates
// behind the CSV decoder's design choices side by side (field decoding, record construction).
// Run: npx tsx bench/micro/codecs/csv.bench.ts
import { createDecoder, newDecodeOutput, type DecoderOptions } from '../../../src/codecs/index.js'

const ROWS = Number(process.env.ROWS ?? 200_000)
const CHUNK = 64 * 1024
const ROUNDS = 7

function csvInput(nonAscii: boolean): Buffer {
  const parts = ['id,user,amount,paid,ts,country,comment\n']
  for (let i = 0; i < ROWS; i++) {
    const user = nonAscii && i % 3 === 0 ? `usér_${i % 1000}` : `user_${i % 1000}`
    const comment = i % 10 === 0 ? `"note, with comma ${i}"` : `plain text ${i}`
    parts.push(`${i},${user},${(i * 1.37).toFixed(2)},${i % 2 ? 'true' : 'false'},2024-01-01T00:00:${String(i % 60).padStart(2, '0')}Z,${['FR', 'DE', 'US'][i % 3]},${comment}\n`)
  }
  return Buffer.from(parts.join(''))
}

function jsonlInput(): Buffer {
  const parts: string[] = []
  for (let i = 0; i < ROWS; i++) {
    parts.push(`${JSON.stringify({ id: i, user: `user_${i % 1000}`, amount: +(i * 1.37).toFixed(2), paid: i % 2 === 1, ts: '2024-01-01T00:00:00Z', country: 'FR' })}\n`)
  }
  return Buffer.from(parts.join(''))
}

/** Decode `input` as a source would: 64 KiB chunks, unconsumed tail carried over. */
function run(format: 'csv' | 'jsonl', input: Buffer, options: DecoderOptions): number {
  const decoder = createDecoder(format, options)
  const buf = Buffer.allocUnsafe(CHUNK * 2)
  let tail = 0
  let records = 0
  let errors = 0
  for (let at = 0; at < input.length; ) {
    const n = Math.min(CHUNK, input.length - at)
    input.copy(buf, tail, at, at + n)
    at += n
    const end = tail + n
    const out = newDecodeOutput()
    const ret = decoder.decode(buf, 0, end, at >= input.length, out)
    records += out.records.length
    errors += out.errors.length
    buf.copy(buf, 0, ret, end)
    tail = end - ret
  }
  if (errors > 0 || records !== ROWS) throw new Error(`decoded ${records} records, ${errors} errors`)
  return records
}

function bench(name: string, fn: () => number, bytes: number): void {
  const rates: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint()
    const n = fn()
    const s = Number(process.hrtime.bigint() - t0) / 1e9
    rates.push(n / s)
  }
  rates.sort((a, b) => a - b)
  const median = rates[Math.floor(rates.length / 2)]!
  const mbs = (bytes / (ROWS / median)) / 1e6
  console.log(`${name.padEnd(34)} ${(median / 1e6).toFixed(2)} M rows/s  ${mbs.toFixed(0)} MB/s  (best ${(rates[rates.length - 1]! / 1e6).toFixed(2)})`)
}

const ascii = csvInput(false)
const utf8 = csvInput(true)
const jsonl = jsonlInput()
const base = { maxRecordBytes: 1024 * 1024 }
console.log(`${ROWS} rows, csv ${(ascii.length / ROWS).toFixed(0)} B/row, jsonl ${(jsonl.length / ROWS).toFixed(0)} B/row, node ${process.version}`)
bench('csv inferred types', () => run('csv', ascii, base), ascii.length)
bench('csv inferred types, non-ASCII', () => run('csv', utf8, base), utf8.length)
bench('csv infer_types: false', () => run('csv', ascii, { ...base, csv: { infer_types: false } }), ascii.length)
bench('csv declared types (ts parsed)', () =>
  run('csv', ascii, { ...base, csv: { columns: { id: 'int', user: 'string', amount: 'float', paid: 'bool', ts: 'timestamp', country: 'string', comment: 'string' } } }), ascii.length)
bench('jsonl', () => run('jsonl', jsonl, base), jsonl.length)

// ─── Candidates behind the design choices ─────────────────────────────────────────────────

/** Field spans [s0, e0, s1, e1, …] and row boundaries of the ASCII input, found once. */
function spansOf(input: Buffer): { spans: number[]; rowStarts: number[] } {
  const spans: number[] = []
  const rowStarts: number[] = [0]
  let s = 0
  for (let p = 0; p < input.length; p++) {
    const c = input[p]
    if (c === 44 || c === 10) {
      spans.push(s, p)
      s = p + 1
      if (c === 10) rowStarts.push(spans.length)
    }
  }
  return { spans, rowStarts }
}

type Slicer = Buffer & { utf8Slice(s: number, e: number): string; latin1Slice(s: number, e: number): string }
const { spans, rowStarts } = spansOf(ascii)
const sb = ascii as Slicer
const perField = (decode: (s: number, e: number) => string) => () => {
  let n = 0
  for (let i = 0; i < spans.length; i += 2) n += decode(spans[i]!, spans[i + 1]!).length
  return ROWS + 0 * n
}
console.log('\nfield decoding (all fields of the ASCII input):')
bench('  buf.toString("utf8", s, e)', perField((s, e) => ascii.toString('utf8', s, e)), ascii.length)
bench('  buf.utf8Slice(s, e)', perField((s, e) => sb.utf8Slice(s, e)), ascii.length)
bench('  buf.latin1Slice(s, e)', perField((s, e) => sb.latin1Slice(s, e)), ascii.length)
bench('  latin1Slice(row) + slice per field', () => {
  let n = 0
  for (let r = 0; r + 1 < rowStarts.length; r++) {
    const a = rowStarts[r]!
    const b = rowStarts[r + 1]!
    const rs = spans[a]!
    const str = sb.latin1Slice(rs, spans[b - 1]!)
    for (let k = a; k < b; k += 2) n += str.slice(spans[k]! - rs, spans[k + 1]! - rs).length
  }
  return ROWS + 0 * n
}, ascii.length)

const names = ['id', 'user', 'amount', 'paid', 'ts', 'country', 'comment']
const vals: unknown[] = [1, 'u', 2.5, true, 'ts', 'FR', 'text']
const literal = new Function('v', `return {${names.map((n, i) => `${JSON.stringify(n)}: v[${i}]`).join(', ')}}`) as (v: unknown[]) => object
console.log('\nrecord construction (7 columns):')
bench('  rec[name] = v stores', () => {
  const out: object[] = []
  for (let i = 0; i < ROWS; i++) {
    const r: Record<string, unknown> = {}
    for (let k = 0; k < names.length; k++) r[names[k]!] = vals[k]
    out.push(r)
  }
  return out.length
}, ascii.length)
bench('  compiled object literal', () => {
  const out: object[] = []
  for (let i = 0; i < ROWS; i++) out.push(literal(vals))
  return out.length
}, ascii.length)
