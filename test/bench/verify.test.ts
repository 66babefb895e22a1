// The benchmark's output checks (bench/lib/verify.ts) must catch a wrong answer, or a fast engine
// with a wrong result would be reported as a win. The data generator must be deterministic, or
// runs on different days would not measure the same input.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { generate } from '../../bench/lib/gen-data.js'
import { summarizeRuns, type SummarizedRow } from '../../bench/lib/summary.js'
import { compareW1, fingerprintW2, readW1 } from '../../bench/lib/verify.js'

const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-verify-'))
after(() => rmSync(dir, { recursive: true, force: true }))

function file(name: string, text: string): string {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}

describe('W1 check (groups, counts, sums to 2 dp, means to 6 dp)', () => {
  const reference = readW1(file('ref.csv', 'country,count,sum_amount,avg_latency_ms\nDE,3,10.50,120.333333\nUS,2,7.25,99.5\n'))

  it('accepts the same groups in another order, with quoted fields and other rounding', () => {
    const got = readW1(file('ok.csv', '"count","country","avg_latency_ms","sum_amount"\r\n2,"US",99.5000001,7.2500000001\r\n3,DE,120.33333349,10.5\r\n'))
    assert.equal(compareW1(reference, got), null)
  })

  it('rejects a wrong sum, a wrong count, a wrong mean, a missing and an extra group', () => {
    const cases: [string, RegExp][] = [
      ['country,count,sum_amount,avg_latency_ms\nDE,3,10.52,120.333333\nUS,2,7.25,99.5\n', /DE: sum_amount 10.52/],
      ['country,count,sum_amount,avg_latency_ms\nDE,4,10.50,120.333333\nUS,2,7.25,99.5\n', /DE: count 4, expected 3/],
      ['country,count,sum_amount,avg_latency_ms\nDE,3,10.50,120.3334\nUS,2,7.25,99.5\n', /DE: avg_latency_ms/],
      ['country,count,sum_amount,avg_latency_ms\nDE,3,10.50,120.333333\nFR,2,7.25,99.5\n', /group US missing/],
      ['country,count,sum_amount,avg_latency_ms\nDE,3,10.50,120.333333\nUS,2,7.25,99.5\nFR,1,1,1\n', /3 groups, expected 2/],
    ]
    for (const [i, [text, reason]] of cases.entries()) assert.match(compareW1(reference, readW1(file(`bad${i}.csv`, text))) ?? 'accepted', reason)
  })

  it('fails loudly on an output without the expected columns', () => {
    assert.throws(() => readW1(file('cols.csv', 'country,n\nDE,3\n')), /no column count/)
  })
})

describe('W2 check (the same multiset of rows)', () => {
  const rows = [
    '{"ts":"2026-01-01T00:00:00.000Z","user_id":7,"amount":51.5,"amount_cents":5150}',
    '{"ts":"2026-01-01T00:00:00.010Z","user_id":8,"amount":99.99,"amount_cents":9999}',
    '{"ts":"2026-01-01T00:00:00.020Z","user_id":7,"amount":60,"amount_cents":6000}',
  ]

  it('gives the same fingerprint whatever the row order, field order and number spelling', async () => {
    const a = await fingerprintW2(file('a.jsonl', rows.join('\n') + '\n'))
    const reordered = [
      '{"user_id":7,"amount":60.00,"amount_cents":6000.0,"ts":"2026-01-01T00:00:00.020Z"}',
      rows[0],
      rows[1],
    ]
    const b = await fingerprintW2(file('b.jsonl', reordered.join('\n')))
    assert.deepEqual(b, a)
    assert.equal(a.rows, 3)
    assert.equal(a.bad, 0)
  })

  it('changes when a row is changed, lost or duplicated, and counts rows it cannot read', async () => {
    const ref = await fingerprintW2(file('ref.jsonl', rows.join('\n')))
    const changed = await fingerprintW2(file('changed.jsonl', [rows[0], rows[1], rows[2]!.replace('6000', '6001')].join('\n')))
    const lost = await fingerprintW2(file('lost.jsonl', [rows[0], rows[1]].join('\n')))
    const duplicated = await fingerprintW2(file('dup.jsonl', [rows[0], rows[0], rows[1]].join('\n')))
    for (const fp of [changed, lost, duplicated]) assert.notDeepEqual([fp.rows, fp.h1, fp.h2], [ref.rows, ref.h1, ref.h2])
    const broken = await fingerprintW2(file('broken.jsonl', [rows[0], '{"ts":', '{"ts":"x","user_id":1}'].join('\n')))
    assert.equal(broken.bad, 2)
    assert.match(broken.firstBad ?? '', /^\{"ts":$/)
  })
})

describe('events data generator', () => {
  it('writes the same bytes for the same seed and other bytes for another seed', () => {
    const a = generate(2000, 42, join(dir, 'gen-a'))
    const b = generate(2000, 42, join(dir, 'gen-b'))
    const c = generate(2000, 43, join(dir, 'gen-c'))
    assert.equal(readFileSync(a.csv, 'utf8'), readFileSync(b.csv, 'utf8'))
    assert.equal(readFileSync(a.jsonl, 'utf8'), readFileSync(b.jsonl, 'utf8'))
    assert.notEqual(readFileSync(a.csv, 'utf8'), readFileSync(c.csv, 'utf8'))
    const csvLines = readFileSync(a.csv, 'utf8').trimEnd().split('\n')
    const jsonLines = readFileSync(a.jsonl, 'utf8').trimEnd().split('\n')
    assert.equal(csvLines.length, 2001) // header + rows
    assert.equal(jsonLines.length, 2000)
    assert.deepEqual(Object.keys(JSON.parse(jsonLines[0]!)), ['ts', 'user_id', 'country', 'event', 'amount', 'latency_ms', 'ua'])
  })
})

describe('run summary', () => {
  it('reports medians of the runs, input rates over the median wall time and ratios to Sluice', () => {
    const results = new Map<string, SummarizedRow>([
      ['sluice', { runs: [{ wall_s: 2, cpu_s: 2, peak_rss_mb: 100 }, { wall_s: 4, cpu_s: 3, peak_rss_mb: 90 }, { wall_s: 3, cpu_s: 9, peak_rss_mb: 110 }] }],
      ['peer', { runs: [{ wall_s: 6, cpu_s: 6, peak_rss_mb: 400 }, { wall_s: 6, cpu_s: 6, peak_rss_mb: 400 }] }],
      ['missing', {}],
    ])
    summarizeRuns(results, 3_000_000, 300e6)
    assert.deepEqual(results.get('sluice'), {
      ...results.get('sluice'),
      wall_s: 3, cpu_s: 3, peak_rss_mb: 100, records_per_s: 1_000_000, mb_per_s: 100, ratio_vs_sluice: { wall: 1, cpu: 1, peak_rss: 1 },
    })
    assert.deepEqual(results.get('peer')?.ratio_vs_sluice, { wall: 2, cpu: 2, peak_rss: 4 })
    assert.equal(results.get('peer')?.records_per_s, 500_000)
    assert.deepEqual(results.get('missing'), {})
  })
})
