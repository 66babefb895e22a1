// events.csv through a tumbling 1-minute aggregate by country, compared with the result computed
// independently with pandas (test/fixtures/aggregate/README.md has the command).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { Rec } from '../../../src/core/batch.js'
import { build, Driver } from './helpers.js'

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'aggregate')

/** A small CSV reader for these files (no quoting); numeric-looking fields become numbers. */
function readCsv(file: string): Rec[] {
  const [header, ...lines] = readFileSync(join(dir, file), 'utf8').trimEnd().split('\n')
  const names = header!.split(',')
  return lines.map((line) => {
    const cells = line.split(',')
    const r: Rec = {}
    names.forEach((n, i) => (r[n] = /^-?\d+(\.\d+)?$/.test(cells[i]!) ? Number(cells[i]) : cells[i]))
    return r
  })
}

const round6 = (v: unknown) => (typeof v === 'number' ? Number(v.toFixed(6)) : v)

describe('aggregate fixture (pandas reference)', () => {
  it('tumbling 1m by country: count, sum(amount), avg(latency_ms), max(amount) equal pandas to 6 decimals', async () => {
    const events = readCsv('events.csv')
    assert.equal(events.length, 2000)
    const d = new Driver(
      await build({
        group_by: ['country'],
        window: { type: 'tumbling', size: '1m' },
        time_field: 'ts',
        allowed_lateness: '10s',
        aggregations: { orders: 'count()', revenue: 'sum(amount)', avg_latency_ms: 'avg(latency_ms)', max_amount: 'max(amount)' },
      }),
    )
    for (let i = 0; i < events.length; i += 256) d.feed(events.slice(i, i + 256), 'events.csv', i)
    d.end('events.csv')
    d.flush()
    assert.equal(d.rejected.length, 0)
    const expected = readCsv('expected-tumbling-1m.csv')
    const key = (r: Rec) => `${r.window_start}|${r.country}`
    const got = new Map(d.rows.map((r) => [key(r), r]))
    assert.equal(got.size, d.rows.length, 'one row per window and country')
    assert.deepEqual([...got.keys()].sort(), expected.map(key).sort())
    for (const want of expected) {
      const row = got.get(key(want))!
      assert.deepEqual(Object.keys(row), Object.keys(want))
      for (const f of Object.keys(want)) assert.equal(round6(row[f]), round6(want[f]), `${key(want)} ${f}`)
    }
  })
})
