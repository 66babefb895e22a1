// Tests of the sqlite sink, built through its declaration and read back with better-sqlite3.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { parse as parseYaml } from 'yaml'
import Database from 'better-sqlite3'
import type { BuildContext, Sink } from '../../src/component/define.js'
import type { Rec } from '../../src/core/batch.js'
import { PartialBatchError, PermanentError, RetryableError, isSluiceError } from '../../src/core/errors.js'
import { silentLogger } from '../../src/observe/log.js'
import { classifySqliteError } from '../../src/sinks/sqlite/classify-error.js'
import { sqlite } from '../../src/sinks/sqlite/index.js'

let dir: string
const signal = new AbortController().signal
let counter = 0

function ctx(): BuildContext {
  return { id: 'db', baseDir: dir, dataDir: path.join(dir, 'data'), log: silentLogger() }
}

/** A sink on a fresh database file (relative path, resolved against baseDir). */
async function openSink(options: Record<string, unknown>): Promise<{ sink: Sink; file: string }> {
  const rel = (options.path as string | undefined) ?? `nested/db-${++counter}.sqlite`
  const sink = sqlite.build(sqlite.options.parse({ table: 'events', ...options, path: rel }), ctx())
  await sink.open?.()
  return { sink, file: path.join(dir, rel) }
}

/** A sink (create_table: false) on a fresh database file holding the table `ddl` creates. */
async function openSinkOnTable(ddl: string): Promise<{ sink: Sink; file: string }> {
  const rel = `nested/db-${++counter}.sqlite`
  fs.mkdirSync(path.join(dir, 'nested'), { recursive: true })
  const setup = new Database(path.join(dir, rel))
  setup.exec(ddl)
  setup.close()
  return openSink({ path: rel, create_table: false })
}

function readAll(file: string, sql = 'SELECT * FROM events ORDER BY rowid'): Rec[] {
  const db = new Database(file, { readonly: true })
  try {
    return db.prepare(sql).all() as Rec[]
  } finally {
    db.close()
  }
}

function columnTypes(file: string, table = 'events'): Record<string, string> {
  const db = new Database(file, { readonly: true })
  try {
    const info = db.pragma(`table_info(${table})`) as { name: string; type: string }[]
    return Object.fromEntries(info.map((c) => [c.name, c.type]))
  } finally {
    db.close()
  }
}

async function rejectsPartial(p: Promise<unknown> | unknown): Promise<PartialBatchError> {
  try {
    await p
  } catch (e) {
    assert.ok(e instanceof PartialBatchError, `expected PartialBatchError, got ${String(e)}`)
    return e
  }
  assert.fail('expected the write to reject')
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-sqlite-'))
})
after(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('sqlite sink', () => {
  it('creates the table from the first batch with inferred types, in a new parent folder', async () => {
    const { sink, file } = await openSink({})
    await sink.write(
      [
        { id: 1, price: 1, name: 'a', paid: true, tags: ['x'], meta: { k: 1 }, nothing: null },
        { id: 2, price: 2.5, name: 'b', paid: false, tags: [], meta: { k: 2 }, nothing: null },
      ],
      signal,
    )
    await sink.close()
    assert.deepEqual(columnTypes(file), { id: 'INTEGER', price: 'REAL', name: 'TEXT', paid: 'INTEGER', tags: 'TEXT', meta: 'TEXT', nothing: 'TEXT' })
    assert.deepEqual(readAll(file), [
      { id: 1, price: 1, name: 'a', paid: 1, tags: '["x"]', meta: '{"k":1}', nothing: null },
      { id: 2, price: 2.5, name: 'b', paid: 0, tags: '[]', meta: '{"k":2}', nothing: null },
    ])
  })

  it('stores bigint, Date, undefined, Buffer and json columns correctly', async () => {
    const { sink, file } = await openSink({ columns: { big: 'integer', at: 'text', gone: 'text', bytes: 'blob', doc: 'json', flag: 'boolean', ratio: 'real' } })
    const at = new Date('2024-05-01T12:00:00.000Z')
    await sink.write([{ big: 2n ** 62n, at, gone: undefined, bytes: Buffer.from([1, 2, 3]), doc: 'quoted', flag: true, ratio: 3 }], signal)
    await sink.close()
    assert.deepEqual(columnTypes(file), { big: 'INTEGER', at: 'TEXT', gone: 'TEXT', bytes: 'BLOB', doc: 'TEXT', flag: 'INTEGER', ratio: 'REAL' })
    const db = new Database(file, { readonly: true })
    db.defaultSafeIntegers(true)
    const row = db.prepare('SELECT *, typeof(ratio) AS ratio_type FROM events').get() as Rec
    db.close()
    assert.equal(row.big, 2n ** 62n)
    assert.equal(row.at, '2024-05-01T12:00:00.000Z')
    assert.equal(row.gone, null)
    assert.deepEqual(row.bytes, Buffer.from([1, 2, 3]))
    assert.equal(row.doc, '"quoted"')
    assert.equal(row.flag, 1n)
    assert.equal(row.ratio_type, 'real')
  })

  it('creates declared columns at open, before any record', async () => {
    const { sink, file } = await openSink({ columns: { id: 'integer', name: 'text' } })
    await sink.close()
    assert.deepEqual(columnTypes(file), { id: 'INTEGER', name: 'TEXT' })
    assert.deepEqual(readAll(file), [])
  })

  it('upserts on a key: replaying a batch is idempotent and later values win', async () => {
    const { sink, file } = await openSink({ upsert_key: ['country', 'day'] })
    const batch = [
      { country: 'FR', day: '2024-05-01', revenue: 10 },
      { country: 'DE', day: '2024-05-01', revenue: 20 },
    ]
    await sink.write(batch, signal)
    await sink.write(batch, signal)
    await sink.write([{ country: 'FR', day: '2024-05-01', revenue: 15 }], signal)
    await sink.close()
    assert.deepEqual(readAll(file, 'SELECT country, day, revenue FROM events ORDER BY country'), [
      { country: 'DE', day: '2024-05-01', revenue: 20 },
      { country: 'FR', day: '2024-05-01', revenue: 15 },
    ])
    const db = new Database(file, { readonly: true })
    const indexes = db.pragma('index_list(events)') as { unique: number }[]
    db.close()
    assert.equal(indexes.filter((i) => i.unique === 1).length, 1)
  })

  it('upsert keeps columns a batch does not mention and rejects records without a key', async () => {
    const { sink, file } = await openSink({ upsert_key: ['id'] })
    await sink.write([{ id: 1, a: 'one', b: 'uno' }], signal)
    const err = await rejectsPartial(sink.write([{ id: 1, a: 'ONE' }, { a: 'no key' }, { id: null, a: 'null key' }], signal))
    assert.deepEqual([...err.failed.keys()], [1, 2])
    await sink.close()
    assert.deepEqual(readAll(file), [{ id: 1, a: 'ONE', b: 'uno' }])
  })

  it('a first batch whose records all lack the upsert key creates no table', async () => {
    const { sink, file } = await openSink({ upsert_key: ['id'] })
    const err = await rejectsPartial(sink.write([{ name: 'no key' }], signal))
    assert.equal(err.failed.size, 1)
    await sink.write([{ id: 1, name: 'keyed' }], signal)
    await sink.close()
    assert.deepEqual(columnTypes(file), { id: 'INTEGER', name: 'TEXT' })
  })

  it('new_columns: add widens the table with a typed column', async () => {
    const { sink, file } = await openSink({})
    await sink.write([{ id: 1 }], signal)
    await sink.write([{ id: 2, score: 0.5, label: 'x' }], signal)
    await sink.close()
    assert.deepEqual(columnTypes(file), { id: 'INTEGER', score: 'REAL', label: 'TEXT' })
    assert.deepEqual(readAll(file), [
      { id: 1, score: null, label: null },
      { id: 2, score: 0.5, label: 'x' },
    ])
  })

  it('new_columns: ignore drops unknown fields', async () => {
    const { sink, file } = await openSink({ new_columns: 'ignore', columns: { id: 'integer' } })
    await sink.write([{ id: 1, extra: 'dropped' }], signal)
    await sink.close()
    assert.deepEqual(columnTypes(file), { id: 'INTEGER' })
    assert.deepEqual(readAll(file), [{ id: 1 }])
  })

  it('new_columns: reject rejects only the records carrying unknown fields', async () => {
    const { sink, file } = await openSink({ new_columns: 'reject', columns: { id: 'integer', name: 'text' } })
    const err = await rejectsPartial(sink.write([{ id: 1, name: 'ok' }, { id: 2, surprise: true }, { id: 3 }], signal))
    assert.deepEqual([...err.failed.keys()], [1])
    const e = err.failed.get(1)!
    assert.ok(isSluiceError(e) && e.code === 'SLC_RECORD_REJECTED')
    assert.match(e.message, /surprise/)
    await sink.close()
    assert.deepEqual(readAll(file), [
      { id: 1, name: 'ok' },
      { id: 3, name: null },
    ])
  })

  it('a constraint violation rejects only the bad rows; the others are committed', async () => {
    const { sink, file } = await openSinkOnTable('CREATE TABLE events (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER CHECK (qty >= 0))')
    const err = await rejectsPartial(
      sink.write(
        [
          { id: 1, name: 'a', qty: 1 },
          { id: 2, name: null, qty: 1 }, // NOT NULL
          { id: 3, name: 'c', qty: -1 }, // CHECK
          { id: 1, name: 'dup', qty: 1 }, // PRIMARY KEY
          { id: 'x', name: 'e', qty: 1 }, // datatype mismatch on INTEGER PRIMARY KEY
          { id: 6, name: 'f', qty: 2 },
        ],
        signal,
      ),
    )
    assert.deepEqual([...err.failed.keys()].sort(), [1, 2, 3, 4])
    for (const e of err.failed.values()) assert.ok(isSluiceError(e) && e.code === 'SLC_RECORD_REJECTED', String(e))
    assert.match(err.failed.get(1)!.message, /NOT NULL/)
    assert.match(err.failed.get(2)!.message, /CHECK/)
    assert.match(err.failed.get(4)!.message, /mismatch/)
    await sink.close()
    assert.deepEqual(readAll(file), [
      { id: 1, name: 'a', qty: 1 },
      { id: 6, name: 'f', qty: 2 },
    ])
  })

  it('batches write many rows per INSERT: keys repeated within one statement, skipped records and a remainder end as row by row', async () => {
    const { sink, file } = await openSink({ upsert_key: ['k'] })
    // 100 records: statements of 32 rows, 4 left over; keys repeat every 20 records (so within a
    // statement too), and every 7th record has no key (rejected by the sink, skipped in the INSERT).
    const batch: Rec[] = Array.from({ length: 100 }, (_, i) => (i % 7 === 3 ? { v: i } : { k: i % 20, v: i }))
    const err = await rejectsPartial(sink.write(batch, signal))
    assert.deepEqual([...err.failed.keys()], batch.flatMap((r, i) => (r.k === undefined ? [i] : [])))
    await sink.close()
    // Row by row, each key's last record wins, and a key keeps the row (rowid) it was first written to.
    const last = new Map<number, number>()
    for (const r of batch) if (r.k !== undefined) last.set(r.k as number, r.v as number)
    assert.deepEqual(readAll(file, 'SELECT k, v FROM events ORDER BY rowid'), [...last].map(([k, v]) => ({ k, v })))
  })

  it('a rejected row inside a many-row INSERT: the batch is written again row by row, the others committed in order', async () => {
    const { sink, file } = await openSinkOnTable('CREATE TABLE events (id INTEGER PRIMARY KEY, qty INTEGER CHECK (qty >= 0))')
    const batch = Array.from({ length: 70 }, (_, i) => ({ id: i + 1, qty: i === 5 || i === 50 ? -1 : i }))
    const err = await rejectsPartial(sink.write(batch, signal))
    assert.deepEqual([...err.failed.keys()].sort((a, b) => a - b), [5, 50])
    await sink.close()
    assert.deepEqual(readAll(file), batch.filter((r) => r.qty >= 0))
  })

  it('create_table: false with a missing table fails at open with a PermanentError', async () => {
    const sink = sqlite.build(sqlite.options.parse({ path: 'missing.sqlite', table: 'nope', create_table: false }), ctx())
    await assert.rejects(async () => sink.open?.(), (e: unknown) => e instanceof PermanentError && /missing.sqlite does not exist.*create_table/.test(e.message))
    await sink.close()
    assert.equal(fs.existsSync(path.join(dir, 'missing.sqlite')), false)
    new Database(path.join(dir, 'missing.sqlite')).close()
    const again = sqlite.build(sqlite.options.parse({ path: 'missing.sqlite', table: 'nope', create_table: false }), ctx())
    await assert.rejects(async () => again.open?.(), (e: unknown) => e instanceof PermanentError && /Table "nope" does not exist.*create_table/.test(e.message))
    await again.close()
  })

  it('continues an existing file after reopening (data durable across close)', async () => {
    const rel = `nested/db-${++counter}.sqlite`
    const first = await openSink({ path: rel })
    await first.sink.write([{ n: 1 }, { n: 2 }], signal)
    await first.sink.close()
    await first.sink.close() // idempotent
    const second = await openSink({ path: rel })
    await second.sink.write([{ n: 3 }], signal)
    // Readable from another connection while the sink is still open (WAL).
    assert.deepEqual(readAll(second.file), [{ n: 1 }, { n: 2 }, { n: 3 }])
    await second.sink.close()
    const db = new Database(second.file, { readonly: true })
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
    db.close()
  })

  it('a lock held by another connection is a RetryableError after busy_timeout', async () => {
    const { sink, file } = await openSink({ busy_timeout: 50 })
    await sink.write([{ n: 1 }], signal)
    const other = new Database(file)
    other.exec('BEGIN IMMEDIATE')
    try {
      await assert.rejects(async () => sink.write([{ n: 2 }], signal), (e: unknown) => e instanceof RetryableError && /SQLITE_BUSY/.test(e.message))
    } finally {
      other.exec('ROLLBACK')
      other.close()
    }
    await sink.write([{ n: 2 }], signal)
    await sink.close()
    assert.deepEqual(readAll(file), [{ n: 1 }, { n: 2 }])
  })

  it('validates options: identifier table names, upsert_key among declared columns', () => {
    assert.equal(sqlite.options.safeParse({ path: 'x.db', table: 'bad name' }).success, false)
    assert.equal(sqlite.options.safeParse({ path: 'x.db', table: 't', columns: { a: 'text' }, upsert_key: ['b'] }).success, false)
    assert.equal(sqlite.options.safeParse({ path: 'x.db', table: 't', colums: {} }).success, false)
    const parsed = sqlite.options.parse({ path: 'x.db', table: 't' })
    assert.deepEqual(
      { ...parsed, batch: undefined, retry: undefined },
      { path: 'x.db', table: 't', create_table: true, new_columns: 'add', journal_mode: 'wal', synchronous: 'normal', busy_timeout: 5000, batch: undefined, retry: undefined },
    )
    assert.deepEqual(parsed.batch, { max_records: 10_000, max_bytes: 8 * 1024 * 1024, linger: 200 })
  })

  it('classifies SQLite errors', () => {
    const err = (code: string) => Object.assign(new Error(code), { code })
    assert.equal(classifySqliteError(err('SQLITE_BUSY')), 'retryable')
    assert.equal(classifySqliteError(err('SQLITE_BUSY_SNAPSHOT')), 'retryable')
    assert.equal(classifySqliteError(err('SQLITE_LOCKED_SHAREDCACHE')), 'retryable')
    assert.equal(classifySqliteError(err('SQLITE_IOERR_WRITE')), 'retryable')
    assert.equal(classifySqliteError(err('SQLITE_CONSTRAINT_UNIQUE')), 'record')
    assert.equal(classifySqliteError(err('SQLITE_MISMATCH')), 'record')
    assert.equal(classifySqliteError(err('SQLITE_READONLY')), 'permanent')
    assert.equal(classifySqliteError(err('SQLITE_CORRUPT')), 'permanent')
    assert.equal(classifySqliteError(new TypeError('cannot bind')), 'record')
  })

  it('every example block validates against the options', () => {
    for (const ex of sqlite.examples ?? []) {
      const { type, inputs, ...opts } = parseYaml(ex.yaml) as Record<string, unknown>
      assert.equal(type, 'sqlite')
      assert.ok(Array.isArray(inputs), ex.title)
      const result = sqlite.options.safeParse(opts)
      assert.ok(result.success, `${ex.title}: ${result.error?.message}`)
    }
  })
})
