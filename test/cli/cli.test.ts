// The `sluice` command line, run as users run it: the compiled CLI (`npm test` builds dist first)
// in a child process. Exit codes: 0 success, 1 runtime failure, 2 config or usage error.
import assert from 'node:assert/strict'
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { after, test } from 'node:test'
import Database from 'better-sqlite3'
import { builtins } from '../../src/component/builtins.js'

const ROOT = resolve(import.meta.dirname, '../..')
const BIN = join(ROOT, 'bin/sluice.js')
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version

const tmp = mkdtempSync(join(tmpdir(), 'sluice-cli-'))
after(() => rmSync(tmp, { recursive: true, force: true }))
let n = 0
function caseDir(name: string): string {
  const d = join(tmp, `${++n}-${name}`)
  mkdirSync(d, { recursive: true })
  return d
}

/** A fresh folder holding `files` (name → text): a CLI case's input and config. */
function caseWith(name: string, files: Record<string, string>): string {
  const dir = caseDir(name)
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text)
  return dir
}

/** Run the CLI to completion (bounded), from `cwd`. */
function sluice(args: string[], cwd = tmp, env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env, encoding: 'utf8', timeout: 60_000 })
  if (r.error) throw r.error
  return r
}

const STACK = /^\s{4}at /m

/** What a user sees for a config error: exit 2, the code, file:line:column, no stack trace. */
function assertConfigError(r: SpawnSyncReturns<string>, code: string, where: string): void {
  assert.equal(r.status, 2, `exit code (stderr: ${r.stderr})`)
  assert.ok(r.stderr.includes(`error[${code}]`), `stderr names ${code}:\n${r.stderr}`)
  assert.ok(r.stderr.includes(` --> ${where}`), `stderr points at ${where}:\n${r.stderr}`)
  assert.doesNotMatch(r.stderr, STACK, 'no stack trace')
  assert.equal(r.stdout, '')
}

/** Write `yaml` as a config in a fresh folder and `validate` it. */
function validate(name: string, yaml: string, env?: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  const dir = caseWith(name, { [`${name}.yaml`]: yaml })
  return sluice(['validate', `${name}.yaml`], dir, env)
}

// ── Usage ──

test('--version prints the package version', () => {
  const r = sluice(['--version'])
  assert.equal(r.status, 0)
  assert.equal(r.stdout.trim(), VERSION)
})

test('--help lists the commands', () => {
  const r = sluice(['--help'])
  assert.equal(r.status, 0)
  for (const cmd of ['run', 'validate', 'schema', 'components']) assert.match(r.stdout, new RegExp(`^\\s+${cmd}\\b`, 'm'), cmd)
})

test('an unknown command exits 2', () => {
  const r = sluice(['frobnicate'])
  assert.equal(r.status, 2)
  assert.match(r.stderr, /unknown command 'frobnicate'/)
  assert.doesNotMatch(r.stderr, STACK)
})

test('run without a config exits 2', () => {
  const r = sluice(['run'])
  assert.equal(r.status, 2)
  assert.match(r.stderr, /config/)
  assert.doesNotMatch(r.stderr, STACK)
})

// ── schema and components ──

test('schema prints a JSON Schema whose sources cover every source type', () => {
  const r = sluice(['schema'])
  assert.equal(r.status, 0)
  const schema = JSON.parse(r.stdout) as {
    $schema: string
    properties: Record<string, { additionalProperties?: { oneOf?: { properties: { type: { const: string } } }[] } }>
  }
  assert.match(schema.$schema, /json-schema\.org/)
  for (const kind of ['source', 'transform', 'sink'] as const) {
    const oneOf = schema.properties[`${kind}s`]?.additionalProperties?.oneOf
    assert.ok(oneOf, `${kind}s.additionalProperties.oneOf`)
    assert.deepEqual(oneOf.map((o) => o.properties.type.const).sort(), builtins.types(kind).sort(), kind)
  }
  assert.ok(builtins.types('source').includes('file') && builtins.types('source').includes('generator'))
})

test('components lists every component type', () => {
  const r = sluice(['components'])
  assert.equal(r.status, 0)
  for (const kind of ['source', 'transform', 'sink'] as const) {
    for (const type of builtins.types(kind)) assert.match(r.stdout, new RegExp(`^${kind} ${type} \\(`, 'm'), `${kind} ${type}`)
  }
})

test('components sqlite shows its options', () => {
  const r = sluice(['components', 'sqlite'])
  assert.equal(r.status, 0)
  assert.match(r.stdout, /^sink sqlite/m)
  for (const opt of ['path', 'table', 'upsert_key', 'new_columns', 'batch.max_records', 'retry.max_attempts']) {
    assert.match(r.stdout, new RegExp(`^\\s+${opt.replace('.', '\\.')}\\s`, 'm'), opt)
  }
  assert.doesNotMatch(r.stdout, /^source file/m, 'only the one component')
})

test('components with a near-miss type exits 2 with a suggestion', () => {
  const r = sluice(['components', 'sqlit'])
  assert.equal(r.status, 2)
  assert.match(r.stderr, /SLC_CONFIG_UNKNOWN_TYPE/)
  assert.match(r.stderr, /did you mean "sqlite"/)
  assert.doesNotMatch(r.stderr, STACK)
})

// ── validate ──

test('validate accepts every example config', () => {
  const configs = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.yaml'))
  assert.ok(configs.includes('quickstart.yaml') && configs.length >= 5, `examples found: ${configs.join(', ')}`)
  for (const config of configs) {
    const r = sluice(['validate', `examples/${config}`], ROOT)
    assert.equal(r.status, 0, `${config}: ${r.stderr}`)
    assert.match(r.stdout, /valid/, config)
  }
})

test('validate: a YAML syntax error points at its line and column', () => {
  const r = validate(
    'syntax',
    ['sources:', '  in: { type: generator, count: 1 }', 'sinks:', '  out: { type: stdout, inputs: [in] }}', ''].join('\n'),
  )
  // The stray `}` is line 4, column 38.
  assertConfigError(r, 'SLC_CONFIG_SYNTAX', 'syntax.yaml:4:38')
})

test('validate: an option of the wrong type names expected and found', () => {
  const r = validate(
    'wrongtype',
    ['sources:', '  in:', '    type: generator', '    batch_size: "many"', 'sinks:', '  out: { type: stdout, inputs: [in] }', ''].join('\n'),
  )
  assertConfigError(r, 'SLC_CONFIG_INVALID', 'wrongtype.yaml:4:17')
  assert.match(r.stderr, /batch_size/)
  assert.match(r.stderr, /expected: integer/)
  assert.match(r.stderr, /found: "many"/)
})

test('validate: an unknown component type suggests the near miss', () => {
  const r = validate('unknowntype', ['sources:', '  in:', '    type: generatr', 'sinks:', '  out: { type: stdout, inputs: [in] }', ''].join('\n'))
  assertConfigError(r, 'SLC_CONFIG_UNKNOWN_TYPE', 'unknowntype.yaml:3:11')
  assert.match(r.stderr, /did you mean "generator"/)
})

test('validate: an unknown option suggests the near miss (a transposition too)', () => {
  const r = validate(
    'unknownkey',
    ['sources:', '  in:', '    type: generator', '    cuont: 5', 'sinks:', '  out: { type: stdout, inputs: [in] }', ''].join('\n'),
  )
  assertConfigError(r, 'SLC_CONFIG_UNKNOWN_KEY', 'unknownkey.yaml:4:5')
  assert.match(r.stderr, /unknown option "cuont"/)
  assert.match(r.stderr, /did you mean "count"/)
})

test('validate: an unknown input suggests the near miss', () => {
  const r = validate(
    'unknowninput',
    ['sources:', '  orders: { type: generator }', 'sinks:', '  out:', '    type: stdout', '    inputs: [ordres]', ''].join('\n'),
  )
  assertConfigError(r, 'SLC_CONFIG_TOPOLOGY', 'unknowninput.yaml:6:14')
  assert.match(r.stderr, /reads from "ordres", which is not a component/)
  assert.match(r.stderr, /did you mean "orders"/)
})

test('validate: a cycle names only its members and points at the input that closes it', () => {
  const r = validate(
    'cycle',
    [
      'sources:',
      '  in: { type: generator }',
      'transforms:',
      '  a: { type: filter, inputs: [in, b], condition: "true" }',
      '  b: { type: filter, inputs: [a], condition: "true" }',
      'sinks:',
      '  out: { type: stdout, inputs: [b] }',
      '',
    ].join('\n'),
  )
  // `b` in a's inputs: line 4, column 35.
  assertConfigError(r, 'SLC_CONFIG_TOPOLOGY', 'cycle.yaml:4:35')
  assert.match(r.stderr, /the components "a", "b" form a cycle/)
})

test('validate: a component nothing reads from is an error', () => {
  const r = validate(
    'unread',
    ['sources:', '  in: { type: generator }', '  lonely: { type: generator }', 'sinks:', '  out: { type: stdout, inputs: [in] }', ''].join('\n'),
  )
  assertConfigError(r, 'SLC_CONFIG_TOPOLOGY', 'unread.yaml:3:11')
  assert.match(r.stderr, /source "lonely" is not read by any transform or sink/)
})

test('validate: an unset ${VAR} without a default is an error at its position', () => {
  const env = { ...process.env }
  delete env.SLUICE_TEST_UNSET_VAR
  const r = validate(
    'env',
    ['sources:', '  in: { type: file, path: "${SLUICE_TEST_UNSET_VAR}", format: csv }', 'sinks:', '  out: { type: stdout, inputs: [in] }', ''].join('\n'),
    env,
  )
  assertConfigError(r, 'SLC_CONFIG_ENV', 'env.yaml:2:27')
  assert.match(r.stderr, /SLUICE_TEST_UNSET_VAR/)
})

test('validate: a missing config file exits 2 with SLC_CONFIG_FILE', () => {
  const r = sluice(['validate', 'does-not-exist.yaml'], caseDir('nofile'))
  assert.equal(r.status, 2)
  assert.match(r.stderr, /error\[SLC_CONFIG_FILE\]/)
  assert.match(r.stderr, /does-not-exist\.yaml/)
  assert.doesNotMatch(r.stderr, STACK)
})

// ── run ──

test('run: CSV → filter → SQLite writes the expected rows and prints the summary', () => {
  const dir = caseWith('run-sqlite', {
    'orders.csv': 'id,status,amount\n1,paid,10.5\n2,open,3\n3,paid,7\n4,paid,0\n5,refunded,2\n',
    'p.yaml': `
data_dir: .sluice
sources:
  orders: { type: file, path: orders.csv, format: csv }
transforms:
  paid: { type: filter, inputs: [orders], condition: status == "paid" && amount > 0 }
sinks:
  db: { type: sqlite, inputs: [paid], path: out/orders.db, table: orders }
`,
  })
  const r = sluice(['run', 'p.yaml', '--no-progress'], dir)
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stderr, /Pipeline completed/)
  for (const name of ['orders', 'paid', 'db']) assert.match(r.stderr, new RegExp(`^${name}\\s`, 'm'), name)
  assert.match(r.stderr, /peak RSS/)
  assert.doesNotMatch(r.stderr, STACK)
  const db = new Database(join(dir, 'out/orders.db'), { readonly: true })
  try {
    assert.deepEqual(db.prepare('SELECT id, status, amount FROM orders ORDER BY id').all(), [
      { id: 1, status: 'paid', amount: 10.5 },
      { id: 3, status: 'paid', amount: 7 },
    ])
  } finally {
    db.close()
  }
})

test('run: threads: 2 decodes in chunk workers started from the bundle (prewarmed), with the output of threads: 1', () => {
  // bin/sluice.js runs dist/bundle/cli.cjs; the pool starts dist/bundle/worker.js beside it.
  const preload = join(ROOT, 'test/fixtures/log-workers.mjs')
  const lines = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ id: i, ms: (i * 37) % 1000, page: `/p/${i % 13}` }))
  lines[4321] = '{"id": 4321, "ms": '
  const run = (threads: number) => {
    const dir = caseWith(`run-threads-${threads}`, {
      'in.jsonl': lines.join('\n') + '\n',
      'p.yaml': `
data_dir: .sluice
sources:
  in: { type: file, path: in.jsonl, format: jsonl, threads: ${threads}, read_buffer: 64KiB }
transforms:
  slow: { type: filter, inputs: [in], condition: ms > 300 }
  secs: { type: map, inputs: [slow], set: { s: ms / 1000.0 }, keep: [id, page, s] }
sinks:
  out: { type: file, inputs: [secs], path: out.jsonl, format: jsonl }
`,
    })
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(preload).href, BIN, 'run', 'p.yaml', '--no-progress', '--quiet', '--log-level', 'debug'], { cwd: dir, encoding: 'utf8', timeout: 60_000 })
    assert.equal(r.status, 0, r.stderr)
    const letters = readFileSync(join(dir, '.sluice/dead-letter.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { code: string; origin: { line: number } })
    const ready = r.stderr.match(/"threads":\d+,"prewarmed":\d+/g) ?? []
    return { workers: r.stderr.match(/^worker: .*$/gm) ?? [], ready, out: readFileSync(join(dir, 'out.jsonl'), 'utf8'), letters: letters.map((d) => [d.code, d.origin.line]) }
  }
  const one = run(1)
  const two = run(2)
  assert.deepEqual(one.workers, [])
  assert.deepEqual(two.workers, Array(2).fill(`worker: ${pathToFileURL(join(ROOT, 'dist/bundle/worker.js')).href}`))
  // Started by bin/sluice.js before the CLI loaded, and claimed by the source (cli/launch.ts prewarm).
  assert.deepEqual(two.ready, ['"threads":2,"prewarmed":2'])
  assert.equal(two.out.split('\n').length - 1, 13_979) // ms > 300, less the broken line
  assert.equal(two.out, one.out)
  assert.deepEqual(two.letters, [['SLC_RECORD_PARSE', 4322]])
  assert.deepEqual(two.letters, one.letters)
})

test('run: a RecordError from a function module that imports `sluice` keeps its code and message', () => {
  // The module's RecordError is dist/index.js's class, the CLI runs the bundle's copy: another class.
  const dir = caseWith('run-function-record-error', {
    'orders.jsonl': '{"id":1,"payload":"{\\"a\\":1}"}\n{"id":2,"payload":"{"}\n',
    'p.yaml': `
data_dir: .sluice
sources:
  orders: { type: file, path: orders.jsonl, format: jsonl }
transforms:
  parse: { type: function, inputs: [orders], module: ${JSON.stringify(join(ROOT, 'test/fixtures/functions/parse-payload.mjs'))} }
sinks:
  out: { type: file, inputs: [parse], path: out.jsonl, format: jsonl }
`,
  })
  const r = sluice(['run', 'p.yaml', '--no-progress', '--quiet'], dir)
  assert.equal(r.status, 0, r.stderr)
  assert.equal(readFileSync(join(dir, 'out.jsonl'), 'utf8'), '{"id":1,"payload":{"a":1}}\n')
  const letters = readFileSync(join(dir, '.sluice/dead-letter.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { component: string; code: string; message: string })
  assert.deepEqual(letters.map((d) => [d.component, d.code, d.message]), [['parse', 'SLC_RECORD_PARSE', 'payload of order 2 is not JSON']])
})

test('run: a TypeScript function module outside an ES-module package loads through the bundle', () => {
  // The case folder has no package.json, so tsx compiles the module to CommonJS (`export default`
  // becomes `default.default`), and the CLI bundle imports tsx through cli/code-cache.ts's import().
  const dir = caseWith('run-function-typescript', {
    'enrich.ts': readFileSync(join(ROOT, 'test/fixtures/functions/enrich.ts'), 'utf8'),
    'orders.csv': 'amount,currency\n10,EUR\n4,USD\n1,XXX\n',
    'p.yaml': `
data_dir: .sluice
sources:
  orders: { type: file, path: orders.csv, format: csv, csv: { columns: { amount: float, currency: string } } }
transforms:
  enrich: { type: function, inputs: [orders], module: enrich.ts }
  split: { type: function, inputs: [enrich], module: enrich.ts, export: split }
sinks:
  out: { type: file, inputs: [split], path: out.jsonl, format: jsonl }
`,
  })
  const r = sluice(['run', 'p.yaml', '--no-progress', '--quiet'], dir)
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(
    readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>),
    [
      { amount: 10, currency: 'EUR', amount_eur: 10 },
      { amount: 10, currency: 'EUR', amount_eur: 10, copy: true },
      { amount: 4, currency: 'USD', amount_eur: 2 },
      { amount: 4, currency: 'USD', amount_eur: 2, copy: true },
    ],
  )
})

test('run: stdout sink with format: table prints aligned rows', () => {
  const dir = caseWith('run-table', {
    'in.csv': 'id,name,score\n1,ann,9.5\n22,bartholomew,10\n333,cy,7.25\n',
    'p.yaml': `
data_dir: .sluice
sources:
  in: { type: file, path: in.csv, format: csv }
sinks:
  show: { type: stdout, inputs: [in], format: table }
`,
  })
  const r = sluice(['run', 'p.yaml', '--no-progress', '--quiet'], dir)
  assert.equal(r.status, 0, r.stderr)
  const lines = r.stdout.split('\n').filter((l) => l.trim() !== '')
  assert.equal(lines.length, 5, r.stdout)
  // Column spans come from the separator line (runs of dashes); every cell sits inside its span.
  const spans = [...lines[1]!.matchAll(/-+/g)].map((m) => [m.index!, m.index! + m[0].length] as const)
  assert.equal(spans.length, 3, lines[1])
  const cells = (line: string) => spans.map(([a, b]) => line.slice(a, b).trim())
  assert.deepEqual(cells(lines[0]!), ['id', 'name', 'score'])
  assert.deepEqual(cells(lines[2]!), ['1', 'ann', '9.5'])
  assert.deepEqual(cells(lines[3]!), ['22', 'bartholomew', '10'])
  assert.deepEqual(cells(lines[4]!), ['333', 'cy', '7.25'])
  assert.equal(spans[1]![1] - spans[1]![0], 'bartholomew'.length, 'the name column is as wide as its widest value')
  for (const line of lines) {
    // Nothing but spaces between the columns.
    for (let i = 1; i < spans.length; i++) assert.match(line.slice(spans[i - 1]![1], spans[i]![0]), /^ +$/, line)
  }
})

test('run: on a terminal, logs are pretty (pino-pretty in its worker thread, from the bundle)', () => {
  const dir = caseWith('run-pretty-logs', {
    'in.jsonl': '{"n":1}\n',
    'p.yaml': `
data_dir: .sluice
sources:
  in: { type: file, path: in.jsonl, format: jsonl }
sinks:
  out: { type: file, inputs: [in], path: out.jsonl, format: jsonl }
`,
  })
  // SLUICE_STDERR_TTY says stderr is a terminal (what the memory_limit launcher tells its child).
  const r = sluice(['run', 'p.yaml', '--no-progress', '--quiet'], dir, { ...process.env, SLUICE_STDERR_TTY: '1' })
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stderr, /INFO.*Pipeline started\./)
  assert.doesNotMatch(r.stderr, /"level":/)
})

/** `sluice run --profile prof` of a `rows`-row CSV → filter → JSON lines; the files it wrote. */
function profiledRun(name: string, rows: number, sourceOptions = '') {
  const dir = caseWith(name, {
    'in.csv': 'id,amount\n' + Array.from({ length: rows }, (_, i) => `${i},${i % 7}.5`).join('\n') + '\n',
    'p.yaml': `
data_dir: .sluice
sources:
  in: { type: file, path: in.csv, format: csv${sourceOptions} }
transforms:
  big: { type: filter, inputs: [in], condition: amount > 3.0 }
sinks:
  out: { type: file, inputs: [big], path: out.jsonl, format: jsonl }
`,
  })
  const r = sluice(['run', 'p.yaml', '--no-progress', '--quiet', '--profile', 'prof'], dir)
  assert.equal(r.status, 0, r.stderr)
  return { dir, r, files: readdirSync(join(dir, 'prof')).sort() }
}

test('run --profile writes a CPU profile and a flamegraph of the run', () => {
  const { dir, r, files } = profiledRun('run-profile', 2000)
  const cpu = files.filter((f) => f.endsWith('.cpuprofile'))
  const svg = files.filter((f) => f.endsWith('.svg'))
  assert.equal(cpu.length, 1, files.join(', '))
  assert.equal(svg.length, 1, files.join(', '))
  assert.equal(cpu[0]!.replace(/\.cpuprofile$/, ''), svg[0]!.replace(/\.svg$/, ''), 'one name for both files')
  const profile = JSON.parse(readFileSync(join(dir, 'prof', cpu[0]!), 'utf8')) as { nodes: unknown[]; samples: unknown[]; timeDeltas: unknown[] }
  assert.ok(profile.nodes.length > 0 && Array.isArray(profile.samples) && Array.isArray(profile.timeDeltas), 'a V8 CPU profile')
  const text = readFileSync(join(dir, 'prof', svg[0]!), 'utf8')
  assert.match(text, /^<\?xml[^]*<svg [^]*<rect [^]*<\/svg>\s*$/)
  assert.match(r.stderr, /CPU profile written/)
})

test('run --profile with threads: 2 profiles the chunk workers too, side by side in the flamegraph', () => {
  const { dir, r, files } = profiledRun('run-profile-threads', 20000, ', threads: 2, read_buffer: 64KiB')
  const workers = files.filter((f) => /\.chunk-worker-\d+\.cpuprofile$/.test(f))
  assert.equal(workers.length, 2, files.join(', '))
  assert.equal(files.length, 4, files.join(', '))
  // Each worker's profile saw the decoding: the worker bundle's frames are in it.
  for (const f of workers) {
    const p = JSON.parse(readFileSync(join(dir, 'prof', f), 'utf8')) as { nodes: { callFrame: { url: string } }[]; samples: unknown[] }
    assert.ok(p.samples.length > 0, f)
    assert.ok(p.nodes.some((n) => n.callFrame.url.endsWith('/dist/bundle/worker.cjs')), `${f}: frames of the worker bundle`)
  }
  const svg = readFileSync(join(dir, 'prof', files.find((f) => f.endsWith('.svg'))!), 'utf8')
  assert.match(svg, /\(3 threads\)/)
  assert.match(svg, /<title>main thread — total/)
  assert.equal((svg.match(/<title>chunk worker \d+ — total/g) ?? []).length, 2)
  assert.match(r.stderr, /"worker_threads":\[/)
})

// ── Signals ──

interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** ms from the first signal sent to exit. */
  afterSignalMs: number
}

/**
 * Start `sluice run` and send `signals` at the given ms offsets, counted from the moment it logs
 * "Pipeline started." (its signal handlers are installed then; a loaded CI machine may take
 * seconds to get there); resolves on exit.
 * The child is killed (and the test fails) if it is still alive `killAfterMs` after spawning.
 */
function runWithSignals(dir: string, args: string[], signals: [number, NodeJS.Signals][], killAfterMs = 30_000): Promise<Exit> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
    let firstSignalAt = 0
    let timers: NodeJS.Timeout[] = []
    const onReady = (s: string) => {
      if (timers.length > 0 || !(stderr + s).includes('Pipeline started.')) return
      timers = signals.map(([at, sig]) =>
        setTimeout(() => {
          firstSignalAt ||= performance.now()
          child.kill(sig)
        }, at),
      )
    }
    child.stderr.on('data', onReady)
    const killer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`sluice did not exit within ${killAfterMs} ms; stderr:\n${stderr}`))
    }, killAfterMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      for (const t of timers) clearTimeout(t)
      clearTimeout(killer)
      resolvePromise({ code, signal, stdout, stderr, afterSignalMs: firstSignalAt ? performance.now() - firstSignalAt : -1 })
    })
  })
}

/** A generator at 2000/s into out/events.jsonl, with `extra` top-level settings. */
const generatorPipeline = (extra = '') => `
data_dir: .sluice
${extra}
sources:
  gen: { type: generator, rate: 2000, fields: { id: sequence } }
sinks:
  out: { type: file, inputs: [gen], path: out/events.jsonl }
`

/** The ids generatorPipeline wrote, asserted whole and in order: every record once, no gap. */
function writtenIds(dir: string): number[] {
  const ids = readFileSync(join(dir, 'out/events.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { id: number }).id)
  assert.deepEqual(ids, Array.from({ length: ids.length }, (_, i) => ids[0]! + i))
  return ids
}

test('SIGTERM stops an unbounded pipeline cleanly: drain, summary "stopped", exit 0', async () => {
  const dir = caseWith('sigterm', {
    'p.yaml': generatorPipeline(),
  })
  const r = await runWithSignals(dir, ['run', 'p.yaml', '--no-progress'], [[1500, 'SIGTERM']])
  assert.equal(r.code, 0, r.stderr)
  assert.ok(r.afterSignalMs >= 0 && r.afterSignalMs < 5000, `exited ${r.afterSignalMs.toFixed(0)} ms after SIGTERM`)
  assert.match(r.stderr, /Pipeline stopped/)
  assert.match(r.stderr, /^gen\s/m)
  assert.doesNotMatch(r.stderr, STACK)
  // Every record read before the stop was drained to the file, in order, once.
  const ids = writtenIds(dir)
  assert.ok(ids.length > 100, `${ids.length} records written in ~1.5 s at 2000/s`)
  const summaryRow = r.stderr.match(/^out\s+sink\s+file\s+([\d,]+)\s+([\d,]+)/m)
  assert.ok(summaryRow, r.stderr)
  assert.equal(Number(summaryRow[2]!.replaceAll(',', '')), ids.length, 'the summary counts what the file holds')
})

test('a second signal exits at once with 130 while the drain is stuck', async () => {
  // A batch function that never returns: the drain can never finish. (The interval stands for
  // the socket a real stuck call would hold open.)
  const dir = caseWith('second-signal', {
    'stuck.mjs': 'export default function stuck() { return new Promise(() => { setInterval(() => {}, 1000) }) }\n',
    'p.yaml': `
data_dir: .sluice
sources:
  gen: { type: generator, rate: 2000 }
transforms:
  hang: { type: function, inputs: [gen], module: ./stuck.mjs, mode: batch }
sinks:
  out: { type: file, inputs: [hang], path: out/events.jsonl }
`,
  })
  const r = await runWithSignals(dir, ['run', 'p.yaml', '--no-progress'], [[1000, 'SIGTERM'], [2000, 'SIGINT']], 20_000)
  assert.equal(r.code, 130, r.stderr)
  assert.ok(r.afterSignalMs < 4000, `exited ${r.afterSignalMs.toFixed(0)} ms after the first signal`)
  assert.match(r.stderr, /Second signal/)
  assert.doesNotMatch(r.stderr, STACK)
})

test('a stuck drain gives up at shutdown_timeout: exit 1 with SLC_SHUTDOWN_TIMEOUT, no hang', async () => {
  const dir = caseWith('shutdown-timeout', {
    'stuck.mjs': 'export default function stuck() { return new Promise(() => { setInterval(() => {}, 1000) }) }\n',
    'p.yaml': `
data_dir: .sluice
shutdown_timeout: 500ms
sources:
  gen: { type: generator, rate: 2000 }
transforms:
  hang: { type: function, inputs: [gen], module: ./stuck.mjs, mode: batch }
sinks:
  out: { type: file, inputs: [hang], path: out/events.jsonl }
`,
  })
  const r = await runWithSignals(dir, ['run', 'p.yaml', '--no-progress'], [[1000, 'SIGTERM']], 20_000)
  assert.equal(r.code, 1, r.stderr)
  assert.ok(r.afterSignalMs < 6000, `exited ${r.afterSignalMs.toFixed(0)} ms after SIGTERM`)
  assert.match(r.stderr, /SLC_SHUTDOWN_TIMEOUT/)
  assert.match(r.stderr, /Pipeline stopped/)
  assert.doesNotMatch(r.stderr, STACK)
})

test('a pipeline that stalls on a promise nothing can settle exits 1, not 0', () => {
  const dir = caseWith('stall', {
    'stall.mjs': 'export default function stall() { return new Promise(() => {}) }\n',
    'p.yaml': `
data_dir: .sluice
sources:
  gen: { type: generator, count: 10 }
transforms:
  hang: { type: function, inputs: [gen], module: ./stall.mjs, mode: batch }
sinks:
  out: { type: file, inputs: [hang], path: out/events.jsonl }
`,
  })
  const r = sluice(['run', 'p.yaml', '--no-progress'], dir)
  assert.equal(r.status, 1, r.stderr)
  assert.match(r.stderr, /SLC_INTERNAL/)
  assert.match(r.stderr, /stalled/)
})

// ── memory_limit: the pipeline runs in a child node with heap sizes that fit ──

test('memory_limit: the run gets the planned heap, and its output is what it is without', () => {
  const dir = caseDir('memory-limit')
  const rows = ['id,amount', ...Array.from({ length: 5000 }, (_, i) => `${i},${i % 100}`)].join('\n') + '\n'
  writeFileSync(join(dir, 'in.csv'), rows)
  const yaml = (limit: string) => `
data_dir: .sluice
${limit}
sources:
  rows: { type: file, path: in.csv, format: csv }
transforms:
  big: { type: filter, inputs: [rows], condition: amount >= 50 }
sinks:
  out: { type: file, inputs: [big], path: out.jsonl, append: false }
`
  writeFileSync(join(dir, 'limited.yaml'), yaml('memory_limit: ${MEM:-100MiB}'))
  writeFileSync(join(dir, 'free.yaml'), yaml(''))
  const limited = sluice(['run', 'limited.yaml', '--no-progress', '--json-logs'], dir)
  assert.equal(limited.status, 0, limited.stderr)
  // 100 MiB leaves no room for worker threads: 50 MiB for node, a 38 + 3 × 4 MiB heap.
  assert.match(limited.stderr, /Memory limit 100 MiB: heap sized by --max-old-space-size=38 --max-semi-space-size=4/)
  assert.doesNotMatch(limited.stderr, /started without its heap sizes/)
  const out = readFileSync(join(dir, 'out.jsonl'), 'utf8')
  assert.equal(out.trim().split('\n').length, 2500)
  const free = sluice(['run', 'free.yaml', '--no-progress', '--reset'], dir)
  assert.equal(free.status, 0, free.stderr)
  assert.equal(readFileSync(join(dir, 'out.jsonl'), 'utf8'), out)
  assert.doesNotMatch(free.stderr, /Memory limit/)
})

test('memory_limit: a pipeline without a file source gets the whole heap, with no room kept for chunk workers', () => {
  const dir = caseWith('memory-limit-no-file', {
    'gen.yaml': `
data_dir: .sluice
memory_limit: 150MiB
sources:
  gen: { type: generator, count: 500, fields: { id: sequence } }
sinks:
  out: { type: file, inputs: [gen], path: out.jsonl }
`,
  })
  const r = sluice(['run', 'gen.yaml', '--no-progress', '--json-logs'], dir)
  assert.equal(r.status, 0, r.stderr)
  // 150 MiB on one thread: 50 MiB for node, 76 + 3 × 8 MiB of heap (core/memory.ts). With a file
  // source and 2 cores it would be 62 + 3 × 2, two 16 MiB workers beside.
  assert.match(r.stderr, /Memory limit 150 MiB: heap sized by --max-old-space-size=76 --max-semi-space-size=8/)
  assert.doesNotMatch(r.stderr, /started without its heap sizes/)
  assert.equal(readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n').length, 500)
})

test('memory_limit: a pipeline that outgrows it stops with SLC_MEMORY_LIMIT, not a V8 crash report', () => {
  // A function that keeps every record (and a copy of a large string) forever.
  const dir = caseWith('memory-limit-oom', {
    'hoard.mjs': "const kept = []\nexport default function hoard(r) { kept.push({ r, pad: 'x'.repeat(2000) + r.id }); return r }\n",
    'p.yaml': `
data_dir: .sluice
memory_limit: 80MiB
sources:
  gen: { type: generator, count: 10000000, fields: { id: sequence } }
transforms:
  hoard: { type: function, inputs: [gen], module: ./hoard.mjs }
sinks:
  out: { type: file, inputs: [hoard], path: /dev/null }
`,
  })
  const r = sluice(['run', 'p.yaml', '--no-progress'], dir)
  assert.equal(r.status, 1, r.stderr)
  assert.match(r.stderr, /error\[SLC_MEMORY_LIMIT\]: the pipeline needed more memory than memory_limit \(80 MiB\) allows/)
  assert.doesNotMatch(r.stderr, /FATAL ERROR|Native stack trace|Last few GCs/)
  assert.doesNotMatch(r.stderr, STACK)
})

test('memory_limit: when the launcher is killed (kill -9), its child stops too instead of running on alone', async () => {
  const dir = caseWith('memory-limit-orphan', {
    'p.yaml': generatorPipeline('memory_limit: 96MiB'),
  })
  // Processes running in the case's folder: the launcher, and its child once it started.
  const inDir = () =>
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readlinkSync(`/proc/${p}/cwd`) === dir
        } catch {
          return false
        }
      })
  const r = await runWithSignals(dir, ['run', 'p.yaml', '--no-progress'], [[1000, 'SIGKILL']])
  assert.equal(r.signal, 'SIGKILL')
  const deadline = performance.now() + 10_000
  while (inDir().length > 0 && performance.now() < deadline) await new Promise((res) => setTimeout(res, 100))
  assert.deepEqual(inDir(), [], 'the child exited after its launcher died')
  // It stopped as on SIGTERM: what it wrote is whole and in order.
  assert.ok(writtenIds(dir).length > 100)
})

test('memory_limit: SIGTERM to the command reaches the pipeline once: a clean stop, exit 0', async () => {
  const dir = caseWith('memory-limit-sigterm', {
    'p.yaml': generatorPipeline('memory_limit: 96MiB'),
  })
  const r = await runWithSignals(dir, ['run', 'p.yaml', '--no-progress'], [[1000, 'SIGTERM']])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stderr, /Pipeline stopped/)
  assert.doesNotMatch(r.stderr, /Second signal/)
  writtenIds(dir)
})
