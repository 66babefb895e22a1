// Conformance of every built-in component (src/component/builtins.ts): each is documented (summary,
// every option described, examples), each example validates inside a minimal pipeline, the
// generated reference on disk is fresh, and every sink that needs no server passes the sink
// conformance suite (src/testing/conformance.ts).
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { PassThrough } from 'node:stream'
import Database from 'better-sqlite3'
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'
import { builtins } from '../../src/component/builtins.js'
import type { AnyDeclaration, BuildContext } from '../../src/component/define.js'
import { loadConfigText } from '../../src/config/load.js'
import { optionRows, renderReference } from '../../src/config/render-docs.js'
import type { Rec } from '../../src/core/batch.js'
import { ConfigErrors, ERROR_CATALOG } from '../../src/core/errors.js'
import { buildGraph } from '../../src/core/topology/graph.js'
import { StdoutSink } from '../../src/sinks/stdout/sink.js'
import type { StdoutOptions } from '../../src/sinks/stdout/index.js'
import { sinkConformance } from '../../src/testing/index.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const referenceDir = join(root, 'docs', 'reference')
const all = builtins.all()

const TYPE_RE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/

/** A thrown ConfigErrors as readable lines, for assertion messages. */
function explain(e: unknown): string {
  return e instanceof ConfigErrors ? e.errors.map((x) => `${x.message} (expected ${x.expected ?? '?'}, found ${x.found ?? '?'})`).join('\n') : String(e)
}

describe('every built-in component is documented', () => {
  it('the registry lists sources, transforms and sinks', () => {
    for (const kind of ['source', 'transform', 'sink'] as const) assert.ok(builtins.all(kind).length > 0, `no ${kind}s`)
  })

  for (const decl of all) {
    describe(`${decl.kind} ${decl.type}`, () => {
      it('has a lowercase snake_case type, a status and a summary', () => {
        assert.match(decl.type, TYPE_RE)
        assert.ok(['stable', 'beta', 'alpha'].includes(decl.status))
        assert.ok(decl.summary.trim().length > 0, 'empty summary')
        // One sentence for the index table: no line breaks.
        assert.doesNotMatch(decl.summary, /\n/)
      })

      it('describes every option, nested ones included', () => {
        const rows = optionRows(decl.options)
        const missing = rows.filter((r) => !r.description?.trim()).map((r) => r.name)
        assert.deepEqual(missing, [], `options without a description: ${missing.join(', ')}`)
      })

      it('has at least one example, each titled and of its own type', () => {
        assert.ok(decl.examples && decl.examples.length > 0, 'no examples')
        for (const ex of decl.examples) {
          assert.ok(ex.title.trim(), 'an example without a title')
          const block = parseYaml(ex.yaml) as Record<string, unknown>
          assert.equal(block.type, decl.type, `example "${ex.title}" has type ${String(block.type)}`)
          if (decl.kind === 'source') assert.equal(block.inputs, undefined, `source example "${ex.title}" has inputs`)
          else assert.ok(Array.isArray(block.inputs) && block.inputs.length > 0, `example "${ex.title}" has no inputs`)
        }
      })

      for (const ex of decl.examples ?? []) {
        it(`example "${ex.title}" validates in a minimal pipeline`, () => {
          const yaml = minimalPipeline(decl, ex.yaml)
          let config
          try {
            config = loadConfigText(yaml, { registry: builtins, file: `${decl.type}-example.yaml`, baseDir: root, env: {} })
          } catch (e) {
            assert.fail(`example "${ex.title}" does not validate:\n${explain(e)}\n--- pipeline:\n${yaml}`)
          }
          const component = config.components.find((c) => c.id === 'example')
          assert.ok(component)
          assert.equal(component.type, decl.type)
          // The wiring is right too: no unknown inputs, nothing left unread.
          assert.doesNotThrow(() => buildGraph(config), (e: unknown) => explain(e))
        })
      }
    })
  }
})

/**
 * The example block under the name `example`, wired up: a source example feeds a `stdout` sink; a
 * transform or sink example reads from a `generator` source instead of its own `inputs`.
 */
function minimalPipeline(decl: AnyDeclaration, exampleYaml: string): string {
  const block = parseYaml(exampleYaml) as Record<string, unknown>
  const doc: Record<string, unknown> = { data_dir: 'state', sources: {}, transforms: {}, sinks: {} }
  const sources = doc.sources as Record<string, unknown>
  const transforms = doc.transforms as Record<string, unknown>
  const sinks = doc.sinks as Record<string, unknown>
  if (decl.kind === 'source') {
    sources.example = block
    sinks.out = { type: 'stdout', inputs: ['example'] }
  } else {
    sources.gen = { type: 'generator', count: 1 }
    block.inputs = ['gen']
    if (decl.kind === 'sink') sinks.example = block
    else {
      transforms.example = block
      // A router is read through its outputs: read them all.
      const parsed = decl.options.parse(Object.fromEntries(Object.entries(block).filter(([k]) => k !== 'type' && k !== 'inputs' && k !== 'dead_letter')))
      const outputs = 'outputs' in decl && decl.outputs ? decl.outputs(parsed) : undefined
      sinks.out = { type: 'stdout', inputs: outputs ? outputs.map((name) => `example.${name}`) : ['example'] }
    }
  }
  return stringifyYaml(doc)
}

describe('docs/reference is generated from the registry', () => {
  const pages = renderReference(builtins)

  it('every page on disk matches a fresh rendering (run `npm run gen-docs` after changing a component)', () => {
    for (const [path, text] of pages) {
      let onDisk: string
      try {
        onDisk = readFileSync(join(referenceDir, path), 'utf8')
      } catch {
        assert.fail(`docs/reference/${path} is missing`)
      }
      assert.equal(onDisk, text, `docs/reference/${path} is stale`)
    }
  })

  it('no page on disk is left over from a removed component', () => {
    const onDisk = (readdirSync(referenceDir, { recursive: true }) as string[])
      .filter((p) => p.endsWith('.md'))
      .map((p) => relative(referenceDir, join(referenceDir, p)).split('\\').join('/'))
    assert.deepEqual(onDisk.filter((p) => !pages.has(p)).sort(), [])
  })

  it('every component has a page, and the index links it', () => {
    const index = pages.get('index.md')!
    for (const decl of all) {
      const page = `${decl.kind}s/${decl.type}.md`
      assert.ok(pages.has(page), `no page ${page}`)
      assert.ok(index.includes(`(${page})`), `index.md does not link ${page}`)
    }
  })

  it('errors.md lists every code of ERROR_CATALOG with its meaning', () => {
    const errors = readFileSync(join(referenceDir, 'errors.md'), 'utf8')
    for (const [code, meaning] of Object.entries(ERROR_CATALOG)) {
      assert.ok(errors.includes(`## \`${code}\``), `errors.md has no section for ${code}`)
      assert.ok(errors.includes(meaning), `errors.md does not give the meaning of ${code}`)
    }
  })
})

// ─── Sinks ────────────────────────────────────────────────────────────────────────────────

/** Reads every row of a SQLite table in insertion order, booleans (stored as 0/1) restored. */
function readSqlite(file: string, table: string): Rec[] {
  let db: Database.Database
  try {
    db = new Database(file, { readonly: true, fileMustExist: true })
  } catch {
    return [] // nothing was written: no database file
  }
  try {
    const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table)
    if (!exists) return []
    const rows = db.prepare(`SELECT * FROM "${table}" ORDER BY rowid`).all() as Rec[]
    return rows.map((r) => ({ ...r, even: r.even === 1 }))
  } finally {
    db.close()
  }
}

function readJsonl(text: string): Rec[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Rec)
}

function readTextFile(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return ''
    throw e
  }
}

/** What the stdout sink of each test folder printed (the sink writes to a stream the test owns). */
const printed = new Map<string, string[]>()

/** How each sink that needs no server is driven and read back; a sink missing here fails the check below. */
const sinkSuites: Record<string, Parameters<typeof sinkConformance>[0] | { skip: string }> = {
  kafka: { skip: 'needs a broker: test/sinks/kafka.test.ts runs the suite against a real one' },
  sqlite: {
    decl: builtins.get('sink', 'sqlite')!,
    options: () => ({ path: 'nested/out.db', table: 'records' }),
    readBack: (dir) => readSqlite(join(dir, 'nested', 'out.db'), 'records'),
  },
  file: {
    decl: builtins.get('sink', 'file')!,
    options: () => ({ path: 'out/records.jsonl' }),
    readBack: (dir) => readJsonl(readTextFile(join(dir, 'out', 'records.jsonl'))),
  },
  stdout: {
    decl: builtins.get('sink', 'stdout')!,
    options: () => ({}),
    // process.stdout is the test runner's channel: the sink writes to a stream of the test instead.
    build: (parsed, ctx: BuildContext, dir) => {
      const chunks: string[] = []
      printed.set(dir, chunks)
      const out = new PassThrough()
      out.setEncoding('utf8')
      out.on('data', (c: string) => chunks.push(c))
      return new StdoutSink(parsed as StdoutOptions, ctx, out)
    },
    readBack: (dir) => readJsonl((printed.get(dir) ?? []).join('')),
  },
}

describe('sinks that need no server', () => {
  it('every built-in sink is covered by the conformance suite or skipped with a reason', () => {
    const types = builtins.types('sink')
    assert.deepEqual(types.filter((t) => !(t in sinkSuites)), [], 'add the new sink to sinkSuites')
  })
})

for (const [type, suite] of Object.entries(sinkSuites)) {
  if ('skip' in suite) {
    it(`${type} sink: conformance`, { skip: suite.skip }, () => {})
    continue
  }
  sinkConformance(suite)
}
