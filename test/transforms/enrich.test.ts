// Tests of the `enrich` transform: CSV and JSON-lines tables (join kinds, fields, prefix, target,
// missing policies, reloads, limits) and SQLite tables (batched queries, LRU + TTL cache).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import type { BuildContext } from '../../src/component/define.js'
import type { Rec } from '../../src/core/batch.js'
import { RecordError, isSluiceError } from '../../src/core/errors.js'
import { silentLogger } from '../../src/observe/log.js'
import { EnrichTransform, createEnrich, enrich } from '../../src/transforms/enrich/index.js'

let dir: string
const ctx = (id = 'lookup'): BuildContext => ({ id, baseDir: dir, dataDir: join(dir, 'state'), log: silentLogger() })

const built: EnrichTransform[] = []

async function build(options: Record<string, unknown>): Promise<EnrichTransform> {
  const t = await enrich.build(enrich.options.parse(options), ctx())
  assert.equal(t.kind, 'batch')
  assert.ok(t instanceof EnrichTransform)
  built.push(t)
  return t
}

/** Runs a batch; returns the output and the rejected indexes with their errors. */
function run(t: EnrichTransform, records: Rec[]): { out: Rec[]; rejected: [number, RecordError][] } {
  const rejected: [number, RecordError][] = []
  const out = t.process(records, (i, e) => rejected.push([i, e as RecordError]))
  assert.ok(Array.isArray(out), 'enrich stays synchronous')
  return { out, rejected }
}

async function buildError(options: Record<string, unknown>): Promise<Error> {
  try {
    await build(options)
  } catch (e) {
    assert.ok(isSluiceError(e), String(e))
    return e
  }
  assert.fail('expected the build to fail')
}

const COUNTRIES = 'code,name,region\nUS,United States,Americas\nDE,Germany,Europe\nJP,Japan,Asia\n'
const csvTable = (extra: Record<string, unknown> = {}) => ({ type: 'file', path: 'countries.csv', format: 'csv', key: 'code', reload: false, ...extra })

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-enrich-'))
  writeFileSync(join(dir, 'countries.csv'), COUNTRIES)
  writeFileSync(
    join(dir, 'rates.jsonl'),
    [
      { currency: 'EUR', day: '2026-01-01', rate: 1.1, source: 'ecb' },
      { currency: 'EUR', day: '2026-01-02', rate: 1.2, source: 'ecb' },
      { currency: 'JPY', day: '2026-01-01', rate: 0.0064, source: 'boj', note: { x: 1 } },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  )
})

after(() => {
  for (const t of built) t.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('enrich: file tables', () => {
  it('left join (default): merges every column but the key; unmatched records get nulls', async () => {
    const t = await build({ table: csvTable(), on: 'country' })
    const { out, rejected } = run(t, [
      { id: 1, country: 'DE' },
      { id: 2, country: 'XX' },
      { id: 3 },
      { id: 4, country: 'US' },
    ])
    assert.deepEqual(rejected, [])
    assert.deepEqual(out, [
      { id: 1, country: 'DE', name: 'Germany', region: 'Europe' },
      { id: 2, country: 'XX', name: null, region: null },
      { id: 3, name: null, region: null },
      { id: 4, country: 'US', name: 'United States', region: 'Americas' },
    ])
    assert.deepEqual({ matched: t.stats().matched, unmatched: t.stats().unmatched, rows: t.stats().rows }, { matched: 2, unmatched: 2, rows: 3 })
  })

  it('adds only `fields`, renamed with `prefix`', async () => {
    const t = await build({ table: csvTable(), on: 'country', fields: ['name'], prefix: 'country_' })
    assert.deepEqual(run(t, [{ country: 'JP' }, { country: 'FR' }]).out, [
      { country: 'JP', country_name: 'Japan' },
      { country: 'FR', country_name: null },
    ])
  })

  it('nests the row under `target`; null when there is none', async () => {
    const t = await build({ table: csvTable(), on: 'country', target: 'geo' })
    const { out } = run(t, [{ country: 'US' }, { country: 'US' }, { country: 'ZZ' }])
    assert.deepEqual(out, [
      { country: 'US', geo: { name: 'United States', region: 'Americas' } },
      { country: 'US', geo: { name: 'United States', region: 'Americas' } },
      { country: 'ZZ', geo: null },
    ])
    assert.notEqual(out[0]!.geo, out[1]!.geo, 'each record gets its own object')
  })

  it('missing: drop drops unmatched records and records without a key', async () => {
    const t = await build({ table: csvTable(), on: 'country', missing: 'drop', fields: ['region'] })
    assert.deepEqual(run(t, [{ country: 'DE' }, { country: 'XX' }, { country: null }, { country: 'JP' }]).out, [
      { country: 'DE', region: 'Europe' },
      { country: 'JP', region: 'Asia' },
    ])
  })

  it('missing: dead_letter rejects unmatched records with SLC_RECORD_TRANSFORM and the key', async () => {
    const t = await build({ table: csvTable(), on: 'country', missing: 'dead_letter' })
    const { out, rejected } = run(t, [{ country: 'DE' }, { country: 'XX' }, { id: 9 }, { country: { a: 1 } }])
    assert.deepEqual(out, [{ country: 'DE', name: 'Germany', region: 'Europe' }])
    assert.deepEqual(
      rejected.map(([i, e]) => [i, e instanceof RecordError, e.code]),
      [
        [1, true, 'SLC_RECORD_TRANSFORM'],
        [2, true, 'SLC_RECORD_TRANSFORM'],
        [3, true, 'SLC_RECORD_TRANSFORM'],
      ],
    )
    assert.equal(rejected[0]![1].message, 'enrich "lookup": no row in table for key "XX"')
    assert.equal(rejected[1]![1].message, 'enrich "lookup": the record has no key: field "country" is missing')
    assert.equal(rejected[2]![1].message, 'enrich "lookup": the record has no key: field "country" is an object')
  })

  it('inner join drops unmatched records, or dead-letters them with missing: dead_letter', async () => {
    const inner = await build({ table: csvTable(), on: 'country', join: 'inner' })
    assert.deepEqual(run(inner, [{ country: 'XX' }, { country: 'JP' }, {}]), {
      out: [{ country: 'JP', name: 'Japan', region: 'Asia' }],
      rejected: [],
    })
    const innerDlq = await build({ table: csvTable(), on: 'country', join: 'inner', missing: 'dead_letter' })
    const { out, rejected } = run(innerDlq, [{ country: 'XX' }, { country: 'JP' }])
    assert.equal(out.length, 1)
    assert.deepEqual(rejected.map(([i]) => i), [0])
  })

  it('compares keys as text: a number matches a CSV string and vice versa', async () => {
    writeFileSync(join(dir, 'ids.csv'), 'id,label\n007,bond\n42,answer\n')
    const t = await build({ table: { type: 'file', path: 'ids.csv', format: 'csv', key: 'id', reload: false, csv: { columns: { id: 'string' } } }, on: 'ref' })
    assert.deepEqual(run(t, [{ ref: 42 }, { ref: '007' }, { ref: 7 }]).out, [
      { ref: 42, label: 'answer' },
      { ref: '007', label: 'bond' },
      { ref: 7, label: null },
    ])
  })

  it('reads JSON-lines tables with a composite key; columns absent from a row are null', async () => {
    const t = await build({
      table: { type: 'file', path: 'rates.jsonl', format: 'jsonl', key: ['currency', 'day'], reload: false },
      on: ['cur', 'date'],
    })
    const { out } = run(t, [
      { cur: 'EUR', date: '2026-01-02' },
      { cur: 'JPY', date: '2026-01-01' },
      { cur: 'JPY', date: '2026-01-02' },
      { cur: 'EUR' },
    ])
    assert.deepEqual(out, [
      { cur: 'EUR', date: '2026-01-02', rate: 1.2, source: 'ecb', note: null },
      { cur: 'JPY', date: '2026-01-01', rate: 0.0064, source: 'boj', note: { x: 1 } },
      { cur: 'JPY', date: '2026-01-02', rate: null, source: null, note: null },
      { cur: 'EUR', rate: null, source: null, note: null },
    ])
  })

  it('a later row with the same key wins; rows with an empty key are left out', async () => {
    writeFileSync(join(dir, 'dups.csv'), 'k,v\na,1\nb,2\na,3\n,4\n')
    const t = await build({ table: { type: 'file', path: 'dups.csv', format: 'csv', key: 'k', reload: false }, on: 'k' })
    assert.deepEqual(run(t, [{ k: 'a' }, { k: 'b' }]).out, [{ k: 'a', v: 3 }, { k: 'b', v: 2 }])
    assert.equal(t.stats().rows, 2)
  })

  it('honours the CSV dialect', async () => {
    writeFileSync(join(dir, 'semi.csv'), 'code;name\nUS;"United; States"\n')
    const t = await build({ table: { type: 'file', path: 'semi.csv', format: 'csv', key: 'code', reload: false, csv: { delimiter: ';' } }, on: 'c' })
    assert.deepEqual(run(t, [{ c: 'US' }]).out, [{ c: 'US', name: 'United; States' }])
  })
})

describe('enrich: file table errors at build', () => {
  it('a missing file is SLC_SOURCE_NOT_FOUND', async () => {
    const e = await buildError({ table: { type: 'file', path: 'nope.csv', format: 'csv', key: 'code' }, on: 'c' })
    assert.equal((e as { code?: string }).code, 'SLC_SOURCE_NOT_FOUND')
    assert.match(e.message, /enrich "lookup": table nope\.csv does not exist/)
  })

  it('more rows than max_rows stops the build with a clear message', async () => {
    const e = await buildError({ table: csvTable({ max_rows: 2 }), on: 'country' })
    assert.equal((e as { code?: string }).code, 'SLC_CONFIG_INVALID')
    assert.match(e.message, /table countries\.csv has more than max_rows \(2\) rows; raise `table\.max_rows`/)
    await build({ table: csvTable({ max_rows: 3 }), on: 'country' }) // exactly at the bound: fine
  })

  it('a key column or a field the table lacks is named', async () => {
    const e = await buildError({ table: csvTable({ key: 'iso' }), on: 'country' })
    assert.match(e.message, /has no column "iso" to use as `key` \(columns: "code", "name", "region"\)/)
    const f = await buildError({ table: csvTable(), on: 'country', fields: ['name', 'population'] })
    assert.match(f.message, /has no column "population" listed in `fields`/)
  })

  it('a malformed row names its line', async () => {
    writeFileSync(join(dir, 'bad.jsonl'), '{"k":"a","v":1}\n{"k":\n')
    const e = await buildError({ table: { type: 'file', path: 'bad.jsonl', format: 'jsonl', key: 'k' }, on: 'k' })
    assert.equal((e as { code?: string }).code, 'SLC_SOURCE_IO')
    assert.match(e.message, /table bad\.jsonl, line 2: /)
  })

  it('options are checked: key arity, csv with jsonl, the {keys} placeholder', () => {
    assert.equal(enrich.options.safeParse({ table: csvTable({ key: ['a', 'b'] }), on: 'country' }).success, false)
    assert.equal(enrich.options.safeParse({ table: { type: 'file', path: 'x.jsonl', format: 'jsonl', key: 'k', csv: {} }, on: 'k' }).success, false)
    assert.equal(enrich.options.safeParse({ table: { type: 'sqlite', path: 'x.db', query: 'SELECT * FROM t', key: 'id' }, on: 'id' }).success, false)
    assert.equal(enrich.options.safeParse({ table: { type: 'postgres', path: 'x' }, on: 'id' }).success, false)
    const parsed = enrich.options.parse({ table: csvTable({ reload: undefined }), on: 'country' })
    assert.equal(parsed.table.type === 'file' && parsed.table.reload_interval, 5000)
    assert.equal(parsed.table.type === 'file' && parsed.table.reload, true)
  })
})

describe('enrich: file table reloads', () => {
  it('reloadNow swaps in the new table; a failed reload keeps the old one', async () => {
    const file = join(dir, 'reload.csv')
    writeFileSync(file, 'code,name\nUS,United States\n')
    const t = await build({ table: { type: 'file', path: 'reload.csv', format: 'csv', key: 'code', reload: false }, on: 'c' })
    assert.deepEqual(run(t, [{ c: 'US' }, { c: 'DE' }]).out, [{ c: 'US', name: 'United States' }, { c: 'DE', name: null }])

    writeFileSync(file, 'code,name\nUS,USA\nDE,Germany\n')
    assert.equal(await t.reloadNow(), true)
    assert.deepEqual(run(t, [{ c: 'US' }, { c: 'DE' }]).out, [{ c: 'US', name: 'USA' }, { c: 'DE', name: 'Germany' }])

    writeFileSync(file, 'code,name\nUS,"unterminated\n')
    assert.equal(await t.reloadNow(), false)
    unlinkSync(file)
    assert.equal(await t.reloadNow(), false)
    assert.deepEqual(run(t, [{ c: 'DE' }]).out, [{ c: 'DE', name: 'Germany' }])
    assert.deepEqual({ reloads: t.stats().reloads, failures: t.stats().reload_failures }, { reloads: 1, failures: 2 })
  })

  it('a reload over max_rows keeps the old table', async () => {
    const file = join(dir, 'grow.csv')
    writeFileSync(file, 'code,name\nA,a\n')
    const t = await build({ table: { type: 'file', path: 'grow.csv', format: 'csv', key: 'code', reload: false, max_rows: 2 }, on: 'c' })
    writeFileSync(file, 'code,name\nA,x\nB,y\nC,z\n')
    assert.equal(await t.reloadNow(), false)
    assert.deepEqual(run(t, [{ c: 'A' }]).out, [{ c: 'A', name: 'a' }])
  })

  it('checkForChanges reloads only when the file changed', async () => {
    const file = join(dir, 'poll.csv')
    writeFileSync(file, 'code,name\nUS,one\n')
    const t = await build({ table: { type: 'file', path: 'poll.csv', format: 'csv', key: 'code', reload: false }, on: 'c' })
    assert.equal(await t.checkForChanges(), false)
    writeFileSync(file, 'code,name\nUS,two!\n') // a different size
    assert.equal(await t.checkForChanges(), true)
    assert.deepEqual(run(t, [{ c: 'US' }]).out, [{ c: 'US', name: 'two!' }])
    assert.equal(await t.checkForChanges(), false)
  })

  it('polls the file every reload_interval until closed', async () => {
    const file = join(dir, 'timer.csv')
    writeFileSync(file, 'code,name\nUS,before\n')
    const t = await build({ table: { type: 'file', path: 'timer.csv', format: 'csv', key: 'code', reload_interval: '10ms' }, on: 'c' })
    writeFileSync(file, 'code,name\nUS,after the change\n')
    const deadline = Date.now() + 5000
    while (t.stats().reloads === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    assert.deepEqual(run(t, [{ c: 'US' }]).out, [{ c: 'US', name: 'after the change' }])
    t.close()
    writeFileSync(file, 'code,name\nUS,after close, longer\n')
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(t.stats().reloads, 1, 'no reload after close')
  })
})

describe('enrich: sqlite tables', () => {
  const dbFile = () => join(dir, 'crm.db')
  const query = 'SELECT id, name, region FROM customers WHERE id IN ({keys})'
  const sqliteTable = (extra: Record<string, unknown> = {}) => ({ type: 'sqlite', path: 'crm.db', query, key: 'id', ...extra })

  before(() => {
    const db = new Database(dbFile())
    db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, region TEXT)')
    db.exec('CREATE TABLE accounts (org TEXT, num INTEGER, owner TEXT)')
    const insert = db.prepare('INSERT INTO customers VALUES (?, ?, ?)')
    db.transaction(() => {
      for (let i = 1; i <= 2000; i++) insert.run(i, `customer ${i}`, i % 2 === 0 ? 'east' : 'west')
    })()
    db.prepare('INSERT INTO accounts VALUES (?, ?, ?)').run('acme', 1, 'ann')
    db.prepare('INSERT INTO accounts VALUES (?, ?, ?)').run('acme', 2, 'bob')
    db.close()
  })

  async function buildWithClock(options: Record<string, unknown>, clock: { now: number }): Promise<EnrichTransform> {
    const t = await createEnrich(enrich.options.parse(options), ctx(), { now: () => clock.now })
    built.push(t)
    return t
  }

  it('one query per batch for the distinct keys, none for a batch of cached keys', async () => {
    const t = await build({ table: sqliteTable(), on: 'customer_id' })
    const batch = () => Array.from({ length: 1000 }, (_, i) => ({ n: i, customer_id: (i % 50) + 1 }))
    const { out } = run(t, batch())
    assert.equal(out.length, 1000)
    assert.deepEqual(out[7], { n: 7, customer_id: 8, name: 'customer 8', region: 'east' })
    assert.equal(t.stats().queries, 1)
    assert.deepEqual({ hits: t.stats().hits, misses: t.stats().misses }, { hits: 0, misses: 50 })

    run(t, batch())
    assert.equal(t.stats().queries, 1, 'the second batch is served from the cache')
    assert.deepEqual({ hits: t.stats().hits, misses: t.stats().misses, cached: t.stats().cached }, { hits: 50, misses: 50, cached: 50 })
  })

  it('queries at most 500 keys at a time', async () => {
    const t = await build({ table: sqliteTable(), on: 'id', fields: ['name'] })
    const records = Array.from({ length: 1200 }, (_, i) => ({ id: i + 1 }))
    const { out } = run(t, records)
    assert.equal(t.stats().queries, 3)
    assert.equal(out[1199]!.name, 'customer 1200')
    assert.ok(out.every((r, i) => r.name === `customer ${i + 1}`))
  })

  it('matches string keys against an integer column; caches misses unless told not to', async () => {
    const t = await build({ table: sqliteTable(), on: 'id', missing: 'drop' })
    assert.deepEqual(run(t, [{ id: '3' }, { id: 99999 }]).out, [{ id: '3', name: 'customer 3', region: 'west' }])
    run(t, [{ id: 99999 }])
    assert.equal(t.stats().queries, 1, 'a cached miss is not queried again')

    const noMissCache = await build({ table: sqliteTable({ cache: { cache_misses: false } }), on: 'id' })
    run(noMissCache, [{ id: 99999 }, { id: 1 }])
    run(noMissCache, [{ id: 99999 }, { id: 1 }])
    assert.equal(noMissCache.stats().queries, 2)
    assert.equal(noMissCache.stats().hits, 1)
  })

  it('cached rows expire after ttl (injected clock)', async () => {
    const clock = { now: 1_000_000 }
    const t = await buildWithClock({ table: sqliteTable({ cache: { ttl: '5m' } }), on: 'id' }, clock)
    run(t, [{ id: 1 }, { id: 2 }])
    clock.now += 5 * 60_000 - 1
    run(t, [{ id: 1 }, { id: 2 }])
    assert.equal(t.stats().queries, 1, 'still fresh just before ttl')
    clock.now += 1
    const { out } = run(t, [{ id: 1 }, { id: 2 }])
    assert.equal(t.stats().queries, 2, 'expired at ttl')
    assert.equal(out[1]!.name, 'customer 2')
  })

  it('evicts the least recently used entries beyond max_entries', async () => {
    const clock = { now: 0 }
    const t = await buildWithClock({ table: sqliteTable({ cache: { max_entries: 3 } }), on: 'id', fields: ['name'] }, clock)
    run(t, [{ id: 1 }, { id: 2 }, { id: 3 }])
    run(t, [{ id: 1 }]) // 1 is now the most recently used
    assert.equal(t.stats().queries, 1)
    run(t, [{ id: 4 }]) // evicts 2
    assert.equal(t.stats().queries, 2)
    run(t, [{ id: 1 }, { id: 3 }, { id: 4 }])
    assert.equal(t.stats().queries, 2, '1, 3 and 4 are cached')
    const { out } = run(t, [{ id: 2 }])
    assert.equal(t.stats().queries, 3, '2 was evicted')
    assert.deepEqual(out, [{ id: 2, name: 'customer 2' }])
    assert.deepEqual({ cached: t.stats().cached, evictions: t.stats().evictions }, { cached: 3, evictions: 2 })
  })

  it('composite keys with (a, b) IN (VALUES {keys}); target and dead letters work the same', async () => {
    const t = await build({
      table: { type: 'sqlite', path: 'crm.db', query: 'SELECT org, num, owner FROM accounts WHERE (org, num) IN (VALUES {keys})', key: ['org', 'num'] },
      on: ['org', 'account'],
      target: 'acct',
      missing: 'dead_letter',
    })
    const { out, rejected } = run(t, [
      { org: 'acme', account: 2 },
      { org: 'acme', account: 3 },
      { org: 'acme', account: '1' },
    ])
    assert.deepEqual(out, [
      { org: 'acme', account: 2, acct: { owner: 'bob' } },
      { org: 'acme', account: '1', acct: { owner: 'ann' } },
    ])
    assert.deepEqual(rejected.map(([i, e]) => [i, e.message]), [[1, 'enrich "lookup": no row in table for key ["acme",3]']])
    assert.equal(t.stats().queries, 1)
  })

  it('checks the database and the query at build', async () => {
    const missing = await buildError({ table: sqliteTable({ path: 'absent.db' }), on: 'id' })
    assert.equal((missing as { code?: string }).code, 'SLC_SOURCE_NOT_FOUND')
    const bad = await buildError({ table: sqliteTable({ query: 'SELECT id FROM nowhere WHERE id IN ({keys})' }), on: 'id' })
    assert.match(bad.message, /the table query does not compile: no such table: nowhere/)
    const noKey = await buildError({ table: sqliteTable({ key: 'customer_id' }), on: 'id' })
    assert.match(noKey.message, /the query returns no column "customer_id" named in `table\.key` \(it returns "id", "name", "region"\)/)
    const noField = await buildError({ table: sqliteTable(), on: 'id', fields: ['tier'] })
    assert.match(noField.message, /no column "tier" named in `fields`/)
  })

  it('accepts only queries that read', async () => {
    const e = await buildError({ table: sqliteTable({ query: 'DELETE FROM customers WHERE id IN ({keys}) RETURNING id' }), on: 'id' })
    assert.match(e.message, /the table query must be a SELECT that only reads \(it writes\)/)
    const update = await buildError({ table: sqliteTable({ query: 'UPDATE customers SET name = 1 WHERE id IN ({keys})' }), on: 'id' })
    assert.match(update.message, /must be a SELECT that only reads/)
  })
})
