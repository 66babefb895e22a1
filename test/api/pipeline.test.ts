// The TypeScript builder (src/index.ts) at run time: it builds the same config as YAML, runs
// pipelines with in-memory functions, reports bad options as ConfigErrors, and the TypeScript
// example runs. Its record types are pinned separately in test/types/pipeline.tst.ts.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import Database from 'better-sqlite3'
import { builtins, ConfigErrors, isSluiceError, loadConfigFile, pipeline } from '../../src/index.js'
import type { ComponentConfig, PipelineConfig } from '../../src/config/types.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const examples = join(root, 'examples')

const temps: string[] = []
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sluice-api-'))
  temps.push(d)
  return d
}
after(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true })
})

/** examples/quickstart.yaml, written with the builder. */
function quickstartInTypeScript() {
  return pipeline({ base_dir: examples, data_dir: '../.sluice/quickstart' })
    .source('orders', {
      type: 'file',
      path: 'data/orders.csv',
      format: 'csv',
      csv: {
        columns: {
          order_id: 'int',
          ts: 'timestamp',
          customer_id: 'int',
          country: 'string',
          status: 'string',
          amount: 'float',
          items: 'int',
          user_agent: 'string',
        },
      },
    })
    .source('events', { type: 'file', path: 'data/events.jsonl', format: 'lines' })
    .transform('paid_orders', { type: 'filter', inputs: ['orders'], condition: 'status == "paid" && amount > 0' })
    .transform('order_rows', {
      type: 'map',
      inputs: ['paid_orders'],
      set: { amount_cents: 'int(amount * 100.0 + 0.5)', large: 'amount >= 250' },
      remove: ['status', 'user_agent'],
    })
    .transform('revenue_per_hour', {
      type: 'aggregate',
      inputs: ['paid_orders'],
      group_by: ['country'],
      window: { type: 'tumbling', size: '1h' },
      time_field: 'ts',
      allowed_lateness: '1m',
      aggregations: { orders: 'count()', revenue: 'sum(amount)', avg_amount: 'avg(amount)', p90_amount: 'p90(amount)' },
    })
    .transform('parsed_events', { type: 'parse', inputs: ['events'], format: 'json' })
    .transform('purchases', { type: 'filter', inputs: ['parsed_events'], condition: 'event == "purchase"' })
    .sink('orders_db', { type: 'sqlite', inputs: ['order_rows'], path: '../out/quickstart.db', table: 'paid_orders', upsert_key: ['order_id'] })
    .sink('revenue_db', { type: 'sqlite', inputs: ['revenue_per_hour'], path: '../out/quickstart.db', table: 'revenue_per_hour', upsert_key: ['window_start', 'country'] })
    .sink('purchases_db', { type: 'sqlite', inputs: ['purchases'], path: '../out/quickstart.db', table: 'purchases', upsert_key: ['event_id'] })
}

/** A component without its declaration (compared by kind and type) — everything else compares as data. */
function comparable(c: ComponentConfig) {
  const { decl, ...rest } = c
  return { ...rest, decl: { kind: decl.kind, type: decl.type } }
}

/** The settings of a config: everything but its components, `file` and `locate`. */
function settings(c: PipelineConfig) {
  const { components: _c, locate: _l, file: _f, ...rest } = c
  return rest
}

describe('TypeScript builder: same config as YAML', () => {
  const yaml = loadConfigFile(join(examples, 'quickstart.yaml'), { registry: builtins })
  const ts = quickstartInTypeScript().build()

  it('has the same components, in the same order', () => {
    assert.deepEqual(
      ts.components.map((c) => `${c.kind} ${c.id}`),
      yaml.components.map((c) => `${c.kind} ${c.id}`),
    )
  })

  for (const expected of yaml.components) {
    it(`builds ${expected.kind} "${expected.id}" identically (type, inputs, parsed options, path)`, () => {
      const actual = ts.components.find((c) => c.id === expected.id)
      assert.ok(actual, `missing component ${expected.id}`)
      assert.deepEqual(comparable(actual), comparable(expected))
      // One registry, so the very same declaration.
      assert.equal(actual.decl, expected.decl)
    })
  }

  it('has the same settings: base and data folders, timeouts, channel bounds, dead letter', () => {
    assert.deepEqual(settings(ts), settings(yaml))
    assert.equal(ts.dataDir, join(root, '.sluice', 'quickstart'))
  })

  it('locates components in the YAML file, and nowhere for a TypeScript config', () => {
    assert.equal(yaml.file, join(examples, 'quickstart.yaml'))
    assert.equal(ts.file, undefined)
    const inYaml = yaml.locate(['sinks', 'orders_db', 'inputs', 0])
    assert.equal(inYaml.file, yaml.file)
    assert.equal(typeof inYaml.line, 'number')
    assert.equal(typeof inYaml.column, 'number')
    assert.deepEqual(ts.locate(['sinks', 'orders_db', 'inputs', 0]), {})
  })

  it('toObject() is the YAML document: same keys, `base_dir` left out', () => {
    const obj = quickstartInTypeScript().toObject()
    assert.deepEqual(Object.keys(obj), ['data_dir', 'sources', 'transforms', 'sinks'])
    assert.equal('base_dir' in obj, false)
  })
})

describe('TypeScript builder: running a pipeline', () => {
  it('runs a `fn` function transform from a generator into a JSON-lines file', async () => {
    const dir = tempDir()
    const result = await pipeline({ base_dir: dir, data_dir: 'state' })
      .source('numbers', {
        type: 'generator',
        count: 250,
        batch_size: 64,
        fields: { n: 'sequence', group: { kind: 'choice', values: ['a'] }, label: { kind: 'constant', value: 'x' } },
      })
      .transform('shaped', {
        type: 'function',
        inputs: ['numbers'],
        // Drop multiples of 5, emit two records for multiples of 7, reshape the rest.
        fn: (r) => {
          if (r.n % 5 === 0) return null
          const out = { n: r.n, square: r.n * r.n, tag: `${r.group}-${r.label}` }
          return r.n % 7 === 0 ? [out, { ...out, copy: true }] : out
        },
      })
      .transform('async_step', {
        type: 'function',
        inputs: ['shaped'],
        fn: async (r) => {
          await Promise.resolve()
          return { ...r, odd: r.n % 2 === 1 }
        },
      })
      .sink('out', { type: 'file', inputs: ['async_step'], path: 'out/records.jsonl', batch: { linger: '10ms' } })
      .run()

    assert.equal(result.status, 'completed', result.error?.message)
    const expected: Record<string, unknown>[] = []
    for (let n = 0; n < 250; n++) {
      if (n % 5 === 0) continue
      const rec = { n, square: n * n, tag: 'a-x' }
      expected.push({ ...rec, odd: n % 2 === 1 })
      if (n % 7 === 0) expected.push({ ...rec, copy: true, odd: n % 2 === 1 })
    }
    const written = readFileSync(join(dir, 'out', 'records.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    assert.deepEqual(written, expected)
    const totals = result.stats.totals()
    assert.equal(totals.read, 250)
    assert.equal(totals.written, expected.length)
    assert.equal(totals.deadLettered, 0)
  })

  it('dead-letters the record a `fn` throws on and goes on', async () => {
    const dir = tempDir()
    const result = await pipeline({ base_dir: dir, data_dir: 'state' })
      .source('numbers', { type: 'generator', count: 10, fields: { n: 'sequence' } })
      .transform('picky', {
        type: 'function',
        inputs: ['numbers'],
        fn: (r) => {
          if (r.n === 3) throw new Error('three is not allowed')
          return r
        },
      })
      .sink('out', { type: 'file', inputs: ['picky'], path: 'out.jsonl', batch: { linger: '10ms' } })
      .run()
    assert.equal(result.status, 'completed', result.error?.message)
    const lines = readFileSync(join(dir, 'out.jsonl'), 'utf8').split('\n').filter(Boolean)
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as { n: number }).n),
      [0, 1, 2, 4, 5, 6, 7, 8, 9],
    )
    const dead = readFileSync(join(dir, 'state', 'dead-letter.jsonl'), 'utf8').split('\n').filter(Boolean)
    assert.equal(dead.length, 1)
    const letter = JSON.parse(dead[0]!) as { component: string; code: string; message: string; record: unknown }
    assert.equal(letter.component, 'picky')
    assert.equal(letter.code, 'SLC_RECORD_TRANSFORM')
    assert.match(letter.message, /three is not allowed/)
    assert.deepEqual(letter.record, { n: 3 })
  })
})

describe('TypeScript builder: config errors', () => {
  /** The ConfigErrors `build()` throws. */
  function buildErrors(build: () => unknown) {
    try {
      build()
    } catch (e) {
      assert.ok(e instanceof ConfigErrors, `expected ConfigErrors, got ${String(e)}`)
      assert.ok(isSluiceError(e))
      return e.errors
    }
    assert.fail('build() did not throw')
  }
  const base = () => pipeline({ base_dir: tempDir() }).source('numbers', { type: 'generator', count: 1 })

  it('names the component and the option path of a wrong value, without a position', () => {
    const errors = buildErrors(() =>
      base().sink('db', { type: 'sqlite', inputs: ['numbers'], path: 'x.db', table: 'numbers', batch: { max_records: 0 } }).build(),
    )
    assert.equal(errors.length, 1)
    const [e] = errors
    assert.equal(e!.code, 'SLC_CONFIG_INVALID')
    assert.equal(e!.message, 'invalid value for option "batch.max_records" in sink "db"')
    assert.deepEqual(e!.location, { component: 'db', path: 'batch.max_records' })
    assert.equal(e!.found, '0')
    assert.match(e!.expected ?? '', /> 0/)
  })

  it('suggests the near-miss name of an unknown option', () => {
    const errors = buildErrors(() => base().sink('db', { type: 'sqlite', inputs: ['numbers'], path: 'x.db', tabel: 'numbers' }).build())
    const unknown = errors.find((e) => e.code === 'SLC_CONFIG_UNKNOWN_KEY')
    assert.ok(unknown, errors.map((e) => e.message).join('\n'))
    assert.equal(unknown.message, 'unknown option "tabel" in sink "db"')
    assert.deepEqual(unknown.location, { component: 'db', path: 'tabel' })
    assert.equal(unknown.suggestion, 'table')
    // `table` is still missing: reported in the same pass.
    assert.ok(errors.some((e) => e.message === 'missing required option "table" in sink "db"'))
  })

  it('reports an invalid expression with the component and option', () => {
    const errors = buildErrors(() =>
      base()
        .transform('bad', { type: 'filter', inputs: ['numbers'], condition: 'id ==' })
        .sink('out', { type: 'stdout', inputs: ['bad'] })
        .build(),
    )
    assert.equal(errors.length, 1)
    assert.equal(errors[0]!.code, 'SLC_CONFIG_EXPRESSION')
    assert.deepEqual(errors[0]!.location, { component: 'bad', path: 'condition' })
    assert.match(errors[0]!.message, /option "condition" in transform "bad"/)
  })

  it('run() rejects with the same errors before anything starts', async () => {
    await assert.rejects(
      base().sink('out', { type: 'stdout', inputs: ['numbers'], format: 'yaml' }).run(),
      (e: unknown) => e instanceof ConfigErrors && e.errors[0]!.location.path === 'format' && e.errors[0]!.suggestion === undefined,
    )
  })
})

describe('examples/typescript-pipeline.ts', () => {
  it('runs as a script and writes rows to out/typescript-pipeline.db', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/typescript-pipeline.ts'], {
      cwd: root,
      timeout: 60_000,
    })
    // execFile rejects on a non-zero exit, so reaching here means exit 0.
    assert.match(stdout, /^completed: read 30000 orders, wrote \d+ paid orders/m)
    const file = join(root, 'out', 'typescript-pipeline.db')
    assert.ok(existsSync(file))
    const db = new Database(file, { readonly: true })
    try {
      const { rows, large } = db.prepare('SELECT count(*) AS rows, sum(large) AS large FROM paid_orders').get() as { rows: number; large: number }
      assert.ok(rows > 0, 'no rows in paid_orders')
      assert.ok(large > 0 && large < rows)
      const row = db.prepare('SELECT * FROM paid_orders ORDER BY order_id LIMIT 1').get() as Record<string, unknown>
      assert.deepEqual(Object.keys(row).sort(), ['amount_cents', 'avg_item_cents', 'country', 'customer_id', 'day', 'items', 'large', 'order_id', 'ts'])
    } finally {
      db.close()
    }
  })
})
