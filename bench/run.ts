// `npm run bench`: every performance claim of Sluice, measured against the tools people would
// otherwise use, on the same input, in the same run, with outputs checked equal.
//
//   npm run bench                      the whole suite at default sizes
//   npm run bench -- --quick           small sizes, a fast check
//   npm run bench -- W1 W2             chosen workloads only (W1 … W5, F1, K1, K2)
//   npm run bench -- --help            every option
//
// Each batch engine is measured the same way from outside (wall time, user+sys CPU, peak RSS via
// /usr/bin/time), ≥ 3 runs each, interleaved (A B C A B C …), medians reported. Results go to
// bench/results/latest.{json,md,svg}. See bench/README.md.
import Database from 'better-sqlite3'
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { memoryFlags, threadsWithin } from '../src/core/memory.js'
import { parseByteSize } from '../src/core/units.js'
import { renderSvg } from './lib/chart.js'
import { datasetPaths, generate } from './lib/gen-data.js'
import { generateOrders } from './lib/gen-orders.js'
import { kafkaWorkloads } from './lib/kafka-bench.js'
import { sampleTreeMemory } from './lib/process-tree.js'
import { median, round, summarizeRuns, type RunMeasure } from './lib/summary.js'
import { compareW1, fingerprintW2, readW1, type W1Row } from './lib/verify.js'

const BENCH = dirname(fileURLToPath(import.meta.url))
const ROOT = dirname(BENCH)
const DATA = join(BENCH, 'data')
const OUT = join(DATA, 'out')
const RESULTS = join(BENCH, 'results')
const PEERS = join(BENCH, 'peers')
const PY = join(BENCH, '.venv', 'bin', 'python')
const BENTHOS = join(PEERS, 'bin', 'benthos')

// ─── CLI ──────────────────────────────────────────────────────────────────────────────────

const HELP = `usage: npm run bench -- [W1 W2 W3 W4 W5 F1 K1 K2] [options]

  --quick              small sizes: ${'500k rows, 3 runs, W3 2 rates × 10 s, W4 1 GB, 200k Kafka records'}
  --rows N             rows of the events table for W1/W2/W5 (default 5000000)
  --runs N             runs per engine for W1/W2/W5 (default 3)
  --seed N             data seed (default 42)
  --engines a,b        only these engines (sluice is always kept as the reference)
  --w3-rates a,b       W3 rates in events/s (default 10000,50000,100000,200000,400000)
  --w3-seconds N       W3 seconds per rate (default 60)
  --w4-gb N            W4 gigabytes of synthetic data (default 20)
  --w1-memory-limit S  an extra Sluice row in W1 under this memory_limit (default 80MiB, the RSS target; none: skip)
  --w2-memory-limit S  the same in W2 (default 150MiB, the RSS target)
  --w3-memory-limit S  an extra W3 run at 100k/s under this memory_limit (default 80MiB, the RSS target; none: skip)
  --w4-memory-limit S  Sluice's memory_limit in W4 (default 100MiB, the RSS target; none: unset)
  --kafka-records N    events loaded into the K1/K2 input topic (default 2000000)
  --f1-rows N          orders in F1's input (default 2000000)
  --skip-setup         do not run bench/peers/setup.sh
  --skip-build         do not run npm run build first
  --out DIR            where latest.{json,md,svg} go (default bench/results)
`

interface Options {
  workloads: string[]
  quick: boolean
  rows: number
  runs: number
  seed: number
  engines: string[] | null
  w3Rates: number[]
  w3Seconds: number
  w4Gb: number
  /** memory_limit of the extra Sluice row of W1/W2 and W3, and of W4 (bytes), or null for none. */
  w1MemoryLimit: number | null
  w2MemoryLimit: number | null
  w3MemoryLimit: number | null
  w4MemoryLimit: number | null
  kafkaRecords: number
  f1Rows: number
  skipSetup: boolean
  skipBuild: boolean
  out: string
}

function parseArgs(argv: string[]): Options {
  const quick = argv.includes('--quick')
  const o: Options = {
    workloads: [],
    quick,
    rows: quick ? 500_000 : 5_000_000,
    runs: 3,
    seed: 42,
    engines: null,
    w3Rates: quick ? [10_000, 100_000] : [10_000, 50_000, 100_000, 200_000, 400_000],
    w3Seconds: quick ? 10 : 60,
    w4Gb: quick ? 1 : 20,
    w1MemoryLimit: parseByteSize('80MiB'),
    w2MemoryLimit: parseByteSize('150MiB'),
    w3MemoryLimit: parseByteSize('80MiB'),
    w4MemoryLimit: parseByteSize('100MiB'),
    kafkaRecords: quick ? 200_000 : 2_000_000,
    f1Rows: quick ? 200_000 : 2_000_000,
    skipSetup: false,
    skipBuild: false,
    out: RESULTS,
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const next = () => {
      const v = argv[++i]
      if (v === undefined) die(`${a} needs a value`)
      return v
    }
    if (/^(w[1-5]|k[12]|f1)$/i.test(a)) o.workloads.push(a.toUpperCase())
    else if (a === '--quick') continue
    else if (a === '--rows') o.rows = Number(next())
    else if (a === '--runs') o.runs = Number(next())
    else if (a === '--seed') o.seed = Number(next())
    else if (a === '--engines') o.engines = next().split(',')
    else if (a === '--w3-rates') o.w3Rates = next().split(',').map(Number)
    else if (a === '--w3-seconds') o.w3Seconds = Number(next())
    else if (a === '--w4-gb') o.w4Gb = Number(next())
    else if (a === '--w1-memory-limit') o.w1MemoryLimit = memoryLimitArg(next())
    else if (a === '--w2-memory-limit') o.w2MemoryLimit = memoryLimitArg(next())
    else if (a === '--w3-memory-limit') o.w3MemoryLimit = memoryLimitArg(next())
    else if (a === '--w4-memory-limit') o.w4MemoryLimit = memoryLimitArg(next())
    else if (a === '--kafka-records') o.kafkaRecords = Number(next())
    else if (a === '--f1-rows') o.f1Rows = Number(next())
    else if (a === '--skip-setup') o.skipSetup = true
    else if (a === '--skip-build') o.skipBuild = true
    else if (a === '--out') o.out = resolve(next())
    else if (a === '--help' || a === '-h') {
      process.stdout.write(HELP)
      process.exit(0)
    } else die(`unknown argument ${a}\n${HELP}`)
  }
  if (o.workloads.length === 0) o.workloads = ['W1', 'W2', 'W3', 'W4', 'W5', 'F1', 'K1', 'K2']
  if (!(o.runs >= 1) || !(o.rows >= 1) || !(o.kafkaRecords >= 1) || !(o.f1Rows >= 1)) die('--runs, --rows, --kafka-records and --f1-rows must be positive')
  return o
}

function die(msg: string): never {
  process.stderr.write(`bench: ${msg}\n`)
  process.exit(2)
}

const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`)

// ─── Measuring a command from outside ─────────────────────────────────────────────────────

interface Measure {
  wall_s: number
  cpu_s: number
  /**
   * time(1)'s peak RSS; for a command of several processes (`sluice run` under memory_limit: the
   * waiting `sluice` and the pipeline's child node) the peak of the largest RSS plus the others'
   * private memory (lib/process-tree.ts), if that is more.
   */
  peak_rss_mb: number
  /** Most processes the command was at once. */
  processes: number
  exit: number
  stderr: string
  stdout: string
}

async function measure(cmd: string, args: string[], env: Record<string, string> = {}, timeoutS = 1800): Promise<Measure> {
  const tfile = join(DATA, `.time-${process.pid}`)
  rmSync(tfile, { force: true })
  const t0 = performance.now()
  const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', tfile, cmd, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  const tree = sampleTreeMemory(child.pid!)
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString()
    if (stdout.length > 1e7) stdout = stdout.slice(-1e6)
  })
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
    if (stderr.length > 1e5) stderr = stderr.slice(-5e4)
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000)
  const [code, signal] = (await once(child, 'close')) as [number | null, string | null]
  clearTimeout(timer)
  const wall = (performance.now() - t0) / 1000
  const treeMemory = tree.stop()
  let cpu = NaN
  let rss = NaN
  if (existsSync(tfile)) {
    const last = readFileSync(tfile, 'utf8').trim().split('\n').pop() ?? ''
    const [, u, s, m] = last.split(' ').map(Number)
    cpu = (u ?? NaN) + (s ?? NaN)
    rss = (m ?? NaN) / 1024
    rmSync(tfile, { force: true })
  }
  if (treeMemory.processes > 1 && treeMemory.peakMb > rss) rss = treeMemory.peakMb
  return { wall_s: wall, cpu_s: cpu, peak_rss_mb: rss, processes: treeMemory.processes, exit: code ?? (signal ? 128 : 1), stderr, stdout }
}

// ─── Engines ──────────────────────────────────────────────────────────────────────────────

type PeerStatus = Record<string, string>

interface Engine {
  name: string
  /** What it is, for the report. */
  label: string
  /** null when it can run; else why not. */
  missing: () => string | null
  command: (input: string, output: string) => { cmd: string; args: string[]; env?: Record<string, string> }
  /** Physical floor (cat, wc): measured, not output-checked. */
  floor?: boolean
}

function peerMissing(status: PeerStatus, key: string): () => string | null {
  return () => {
    const s = status[key]
    if (!s) return 'not installed (run bench/peers/setup.sh)'
    return s.startsWith('ok') ? null : s.replace(/^missing: /, '')
  }
}

/**
 * The workload's config with a top-level `memory_limit` added, as a user who needs that bound
 * writes it (the `sluice` command then sizes the heap and the worker threads to it).
 */
function limitedConfig(yaml: string, limit: number): string {
  const file = join(OUT, yaml.replace(/\.yaml$/, `.memory-limit-${limit / 1048576}MiB.yaml`))
  writeFileSync(file, `memory_limit: ${limit / 1048576}MiB\n${readFileSync(join(BENCH, 'workloads', yaml), 'utf8')}`)
  return file
}

function engines(workload: 'W1' | 'W2', status: PeerStatus, limit: number | null): Engine[] {
  const py = (script: string, ...extra: string[]) => (i: string, o: string) => ({ cmd: PY, args: [join(PEERS, script), i, o, ...extra] })
  const w = workload.toLowerCase()
  const yaml = workload === 'W1' ? 'w1-csv-groupby.yaml' : 'w2-jsonl-filter-project.yaml'
  const sluice = (config: string) => (i: string, o: string) => ({
    cmd: process.execPath,
    args: [join(ROOT, 'bin', 'sluice.js'), 'run', config, '--reset', '--no-progress', '-q'],
    env: { IN: i, OUT: o, DATA_DIR: join(DATA, 'sluice-state', w) },
  })
  const list: Engine[] = [{ name: 'sluice', label: `Sluice (sluice run bench/workloads/${yaml})`, missing: () => null, command: sluice(join(BENCH, 'workloads', yaml)) }]
  if (limit !== null) {
    list.push({ name: 'sluice_memory_limit', label: `Sluice under memory_limit: ${limit / 1048576}MiB (the same config)`, missing: () => null, command: sluice(limitedConfig(yaml, limit)) })
  }
  list.push(
    { name: 'pandas', label: 'pandas (whole file in memory)', missing: peerMissing(status, 'pandas'), command: py(`pandas/${w}.py`) },
    { name: 'pandas_chunked', label: 'pandas (chunked reader)', missing: peerMissing(status, 'pandas'), command: py(`pandas/${w}.py`, '--chunked') },
    { name: 'polars', label: 'Polars (lazy scan)', missing: peerMissing(status, 'polars'), command: py(`polars/${w}.py`) },
    { name: 'duckdb', label: 'DuckDB (SQL COPY)', missing: peerMissing(status, 'duckdb'), command: py(`duckdb/${w}.py`) },
    { name: 'miller', label: 'Miller (mlr)', missing: peerMissing(status, 'miller'), command: (i, o) => ({ cmd: join(PEERS, 'miller', `${w}.sh`), args: [i, o] }) },
  )
  if (workload === 'W2') list.push({ name: 'jq', label: 'jq -c', missing: peerMissing(status, 'jq'), command: (i, o) => ({ cmd: join(PEERS, 'jq', 'w2.sh'), args: [i, o] }) })
  list.push({ name: 'node_naive', label: 'naive Node (readline + ' + (workload === 'W1' ? 'quote-aware split)' : 'JSON.parse)'), missing: () => null, command: (i, o) => ({ cmd: process.execPath, args: [join(PEERS, 'node', `${w}.mjs`), i, o] }) })
  if (workload === 'W2') list.push({ name: 'benthos', label: 'Benthos v4.60.0 (file → mapping → file)', missing: peerMissing(status, 'benthos'), command: (i, o) => ({ cmd: BENTHOS, args: ['-c', join(PEERS, 'benthos', 'w2.yaml')], env: { IN: i, OUT: o } }) })
  list.push(
    { name: 'floor_cat', label: 'floor: cat file > /dev/null', missing: () => null, floor: true, command: (i) => ({ cmd: 'sh', args: ['-c', 'cat "$1" > /dev/null', 'sh', i] }) },
    { name: 'floor_wc', label: 'floor: wc -l file', missing: () => null, floor: true, command: (i) => ({ cmd: 'wc', args: ['-l', i] }) },
  )
  return list
}

// ─── Output checks ────────────────────────────────────────────────────────────────────────

type Check = { ok: true; summary: string } | { ok: false; reason: string }

// ─── Statistics ───────────────────────────────────────────────────────────────────────────


// ─── Batch workloads (W1, W2, W5) ─────────────────────────────────────────────────────────

interface EngineResult {
  engine: string
  label: string
  status: 'ok' | 'missing' | 'failed' | 'mismatch' | 'not_applicable'
  reason?: string
  runs?: { wall_s: number; cpu_s: number; peak_rss_mb: number }[]
  wall_s?: number | null
  cpu_s?: number | null
  records_per_s?: number | null
  mb_per_s?: number | null
  peak_rss_mb?: number | null
  check?: string
  ratio_vs_sluice?: { wall: number | null; cpu: number | null; peak_rss: number | null } | null
  [extra: string]: unknown
}

interface WorkloadResult {
  id: string
  title: string
  description: string
  input?: { path: string; rows: number; bytes: number }
  runs_per_engine?: number
  engines: EngineResult[]
  notes: string[]
  [extra: string]: unknown
}

const failures: string[] = []

async function batchWorkload(id: 'W1' | 'W2', opts: Options, status: PeerStatus, files: { csv: string; jsonl: string }): Promise<WorkloadResult> {
  const input = id === 'W1' ? files.csv : files.jsonl
  const bytes = statSync(input).size
  const title = id === 'W1' ? 'W1 — CSV group-by' : 'W2 — JSON lines filter/project'
  const description =
    id === 'W1'
      ? 'events CSV → keep event == "purchase" → group by country: count, sum(amount), avg(latency_ms) → CSV'
      : 'events JSONL → keep amount > 50 → ts, user_id, amount, amount_cents = round(amount*100) → JSONL'
  const notes: string[] = []
  const limit = id === 'W1' ? opts.w1MemoryLimit : opts.w2MemoryLimit
  let list = engines(id, status, limit)
  if (opts.engines) list = list.filter((e) => e.name.startsWith('sluice') || opts.engines!.includes(e.name))
  const results = new Map<string, EngineResult>()
  const active: Engine[] = []
  for (const e of list) {
    const why = e.missing()
    if (why) results.set(e.name, { engine: e.name, label: e.label, status: 'missing', reason: why })
    else {
      active.push(e)
      results.set(e.name, { engine: e.name, label: e.label, status: 'ok', runs: [] })
    }
  }
  if (id === 'W1') {
    results.set('jq', { engine: 'jq', label: 'jq', status: 'not_applicable', reason: 'jq reads JSON, not CSV' })
    results.set('benthos', { engine: 'benthos', label: 'Benthos', status: 'not_applicable', reason: 'the issue asks for Benthos in W2 and W3 only (no global group-by over a bounded file in Benthos core)' })
  }
  // Warm the page cache so every engine reads from memory.
  settleDisk()
  spawnSync('sh', ['-c', `cat "${input}" > /dev/null`])
  let w1Ref: Map<string, W1Row> | null = null
  let w2Ref: Awaited<ReturnType<typeof fingerprintW2>> | null = null
  const checked = new Set<string>()
  for (let run = 0; run < opts.runs; run++) {
    // Interleaved: every engine once per round; the order rotates so none always goes first.
    const order = active.map((_, i) => active[(i + run) % active.length]!)
    for (const e of order) {
      const r = results.get(e.name)!
      if (r.status !== 'ok' && r.status !== 'mismatch') continue
      const output = join(OUT, `${id.toLowerCase()}.${e.name}.out`)
      rmSync(output, { force: true })
      const { cmd, args, env } = e.command(input, output)
      const m = await measure(cmd, args, env)
      if (m.exit !== 0) {
        r.status = 'failed'
        r.reason = `exit ${m.exit}: ${m.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 400)}`
        failures.push(`${id} ${e.name} failed: ${r.reason}`)
        log(`${id} ${e.name} run ${run + 1}: FAILED ${r.reason}`)
        continue
      }
      r.runs!.push({ wall_s: round(m.wall_s, 3)!, cpu_s: round(m.cpu_s, 2)!, peak_rss_mb: round(m.peak_rss_mb, 1)! })
      log(`${id} ${e.name.padEnd(15)} run ${run + 1}/${opts.runs}: ${m.wall_s.toFixed(2)} s wall, ${m.cpu_s.toFixed(2)} s cpu, ${m.peak_rss_mb.toFixed(0)} MB`)
      if (e.floor || checked.has(e.name)) continue
      checked.add(e.name)
      // Check the output of the first run of every engine against the first engine's (Sluice's).
      try {
        if (id === 'W1') {
          const got = readW1(output)
          if (!w1Ref) {
            w1Ref = got
            r.check = `reference: ${got.size} groups`
          } else {
            const diff = compareW1(w1Ref, got)
            if (diff) {
              r.status = 'mismatch'
              r.check = `MISMATCH vs sluice: ${diff}`
            } else r.check = `equal to sluice (${got.size} groups, sums to 2 dp, means to 6 dp)`
          }
        } else {
          const fp = await fingerprintW2(output)
          if (!w2Ref) {
            w2Ref = fp
            r.check = `reference: ${fp.rows} rows`
            if (fp.bad > 0) {
              r.status = 'mismatch'
              r.check = `MISMATCH: ${fp.bad} unreadable rows, first: ${fp.firstBad}`
            }
          } else if (fp.rows !== w2Ref.rows || fp.h1 !== w2Ref.h1 || fp.h2 !== w2Ref.h2) {
            r.status = 'mismatch'
            r.check = `MISMATCH vs sluice: ${fp.rows} rows (sluice ${w2Ref.rows}), content fingerprint ${fp.h1 === w2Ref.h1 && fp.h2 === w2Ref.h2 ? 'equal' : 'differs'}${fp.bad ? `, ${fp.bad} unreadable rows, first: ${fp.firstBad}` : ''}`
          } else r.check = `equal to sluice (${fp.rows} rows, same rows as a multiset; amounts to 2 dp)`
        }
      } catch (err) {
        r.status = 'mismatch'
        r.check = `MISMATCH: output unreadable: ${(err as Error).message}`
      }
      if (r.status === 'mismatch') {
        failures.push(`${id} ${e.name}: ${r.check}`)
        log(`${id} ${e.name}: ${r.check}`)
      }
    }
  }
  summarizeRuns(results, opts.rows, bytes)
  notes.push('wall_s, cpu_s (user+sys) and peak_rss_mb are medians of the runs; records_per_s and mb_per_s are input rows and input MB (10^6 bytes) over the median wall time.')
  notes.push('ratio_vs_sluice.wall = engine wall time ÷ Sluice wall time: above 1 means slower than Sluice, below 1 faster.')
  if (limit !== null) notes.push(`sluice_memory_limit: the same config with \`memory_limit: ${limit / 1048576}MiB\` (the RSS target): the \`sluice\` command runs the pipeline in a child node with ${memoryFlags(limit).join(' ')}, and reads the file with ${threadsWithin(limit, availableParallelism())} thread(s) (what fits: docs/guides/memory.md). Its output is checked against the unlimited run's. Its peak RSS counts the waiting \`sluice\` process as well: the child's peak RSS plus the launcher's private memory, sampled every 100 ms (bench/lib/process-tree.ts; the node binary's pages are shared, counted once).`)
  notes.push('Sluice runs with `threads: auto` (decoding and the filter/map steps on every core; W5 compares 1 and 2 threads). Polars and DuckDB use both cores too (cpu_s can exceed wall_s); pandas, Miller, jq and naive Node mostly one; Benthos runs its pipeline on as many threads as cores.')
  return { id, title, description, input: { path: input.replace(ROOT + '/', ''), rows: opts.rows, bytes }, runs_per_engine: opts.runs, engines: [...results.values()], notes }
}

// ─── W5: parallel scaling ─────────────────────────────────────────────────────────────────

/**
 * W1's Sluice pipeline with `threads: 1` and `threads: 2`, interleaved; outputs must be equal.
 * Each round also starts two `threads: 1` runs at once, separate processes sharing nothing but
 * the machine: the time they take for twice the data is what two cores give this decode at best
 * (the machine's ceiling for W5), and `threads: 1`'s CPU per wall second is how much of the
 * second core one thread already keeps busy (V8's helper threads, reads).
 */
async function w5(opts: Options, files: { csv: string }): Promise<WorkloadResult> {
  const bytes = statSync(files.csv).size
  settleDisk()
  spawnSync('sh', ['-c', `cat "${files.csv}" > /dev/null`])
  const variants = [1, 2].map((threads) => ({ threads, name: `threads_${threads}`, runs: [] as RunMeasure[], output: join(OUT, `w5.threads-${threads}.out`) }))
  const results = new Map<string, EngineResult>()
  const runW1 = (threads: number, output: string, state: string) =>
    measure(process.execPath, [join(ROOT, 'bin', 'sluice.js'), 'run', join(BENCH, 'workloads', 'w1-csv-groupby.yaml'), '--reset', '--no-progress', '-q'], {
      IN: files.csv, OUT: output, DATA_DIR: join(DATA, 'sluice-state', state), THREADS: String(threads),
    })
  /** Per round, the wall time of two `threads: 1` runs started together (the later one's). */
  const pairs: number[] = []
  for (let run = 0; run < opts.runs; run++) {
    for (const v of run % 2 === 0 ? variants : [...variants].reverse()) {
      rmSync(v.output, { force: true })
      const m = await runW1(v.threads, v.output, 'w5')
      if (m.exit !== 0) {
        failures.push(`W5 ${v.name} failed: ${m.stderr.slice(-300)}`)
        return { id: 'W5', title: 'W5 — parallel scaling', description: '', engines: [{ engine: 'sluice', label: 'Sluice', status: 'failed', reason: m.stderr.slice(-300) }], notes: [] }
      }
      v.runs.push({ wall_s: round(m.wall_s, 3)!, cpu_s: round(m.cpu_s, 2)!, peak_rss_mb: round(m.peak_rss_mb, 1)! })
      log(`W5 ${v.name} run ${run + 1}/${opts.runs}: ${m.wall_s.toFixed(2)} s wall, ${m.cpu_s.toFixed(2)} s cpu, ${m.peak_rss_mb.toFixed(0)} MB`)
    }
    const pair = await Promise.all(['a', 'b'].map((k) => runW1(1, join(OUT, `w5.pair-${k}.out`), `w5-pair-${k}`)))
    const failed = pair.find((m) => m.exit !== 0)
    if (failed) failures.push(`W5 side-by-side threads: 1 run failed: ${failed.stderr.slice(-300)}`)
    else {
      pairs.push(Math.max(...pair.map((m) => m.wall_s)))
      log(`W5 two threads: 1 runs side by side, round ${run + 1}/${opts.runs}: ${pair.map((m) => m.wall_s.toFixed(2)).join(' and ')} s wall`)
    }
  }
  const diff = compareW1(readW1(variants[0]!.output), readW1(variants[1]!.output))
  for (const v of variants) {
    results.set(v.threads === 1 ? 'sluice' : v.name, {
      engine: v.name, label: `Sluice, threads: ${v.threads}`, status: diff ? 'mismatch' : 'ok', runs: v.runs,
      check: v.threads === 1 ? 'reference' : diff ? `MISMATCH vs threads: 1: ${diff}` : 'equal to threads: 1',
    })
  }
  if (diff) failures.push(`W5 threads: 2 output differs from threads: 1: ${diff}`)
  summarizeRuns(results, opts.rows, bytes)
  const one = results.get('sluice')!
  const two = results.get('threads_2')!
  const speedup = one.wall_s && two.wall_s ? round(one.wall_s / two.wall_s, 2) : null
  log(`W5 speed-up threads: 2 over threads: 1: ${speedup}×`)
  const pairWall = median(pairs)
  const ceiling = one.wall_s && Number.isFinite(pairWall) ? round((2 * one.wall_s) / pairWall, 2) : null
  const oneCores = one.wall_s && one.cpu_s ? round(one.cpu_s / one.wall_s, 2) : null
  log(`W5 machine ceiling (two threads: 1 runs side by side do twice the work in ${pairWall.toFixed(2)} s): ${ceiling}×; threads: 1 keeps ${oneCores} cores busy`)
  return {
    id: 'W5', title: 'W5 — parallel scaling', description: 'W1 (CSV → filter → group-by → CSV) with `threads: 1` and `threads: 2` on the file source',
    input: { path: files.csv.replace(ROOT + '/', ''), rows: opts.rows, bytes }, runs_per_engine: opts.runs,
    speedup_threads_2: speedup,
    machine_ceiling_2_threads: ceiling,
    side_by_side_wall_s: pairs.map((w) => round(w, 3)),
    threads_1_cores_busy: oneCores,
    engines: [...results.values()],
    notes: [
      `speed-up = median wall time with threads: 1 ÷ median wall time with threads: 2 = ${speedup}× (target ≥ 1.8×).`,
      `machine ceiling = 2 × median wall time with threads: 1 ÷ median wall time of two threads: 1 runs started together (separate processes, twice the work: ${pairs.map((w) => w.toFixed(2)).join(', ')} s) = ${ceiling}×: the most two cores of this machine gave this pipeline when nothing at all is shared. threads: 1 alone keeps ${oneCores} cores busy (cpu_s ÷ wall_s: V8's compiler and GC threads, reads on libuv's pool).`,
      'ratio_vs_sluice compares with the threads: 1 row. Runs alternate between the two settings.',
    ],
  }
}

// ─── F1: the engine core's file → SQLite floor ─────────────────────────────────────────────

/** The engine core promised at least this on one core, file → CSV → filter → SQLite (quickstart schema). */
const F1_FLOOR_RECORDS_PER_S = 300_000

/**
 * The quickstart's orders pipeline (CSV → filter → map → SQLite upsert) on one thread, over a
 * generated orders table of `--f1-rows` rows; each run writes a fresh database, checked against
 * the rows and amounts the generator counted.
 */
async function f1(opts: Options): Promise<WorkloadResult> {
  const title = 'F1 — file → SQLite on one core'
  const orders = generateOrders(opts.f1Rows, opts.seed, DATA)
  const bytes = statSync(orders.csv).size
  settleDisk()
  spawnSync('sh', ['-c', `cat "${orders.csv}" > /dev/null`])
  const db = join(OUT, 'f1.db')
  const row: EngineResult = { engine: 'sluice', label: 'Sluice, threads: 1', status: 'ok', runs: [] }
  for (let run = 0; run < opts.runs; run++) {
    for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true })
    const m = await measure(process.execPath, [join(ROOT, 'bin', 'sluice.js'), 'run', join(BENCH, 'workloads', 'f1-file-sqlite.yaml'), '--reset', '--no-progress', '-q'], {
      IN: orders.csv, DB: db, DATA_DIR: join(DATA, 'sluice-state', 'f1'),
    })
    if (m.exit !== 0) {
      failures.push(`F1 failed: ${m.stderr.slice(-300)}`)
      return { id: 'F1', title, description: '', engines: [{ engine: 'sluice', label: 'Sluice', status: 'failed', reason: m.stderr.slice(-300) }], notes: [] }
    }
    const h = new Database(db, { readonly: true })
    const got = h.prepare('SELECT count(*) AS n, sum(amount_cents) AS cents FROM paid_orders').get() as { n: number; cents: number }
    h.close()
    if (got.n !== orders.expected.rows || got.cents !== orders.expected.cents) {
      row.status = 'mismatch'
      row.check = `MISMATCH: ${got.n} rows, ${got.cents} cents; expected ${orders.expected.rows} rows, ${orders.expected.cents} cents`
      failures.push(`F1 ${row.check}`)
    }
    row.runs!.push({ wall_s: round(m.wall_s, 3)!, cpu_s: round(m.cpu_s, 2)!, peak_rss_mb: round(m.peak_rss_mb, 1)! })
    log(`F1 sluice run ${run + 1}/${opts.runs}: ${m.wall_s.toFixed(2)} s wall, ${m.cpu_s.toFixed(2)} s cpu, ${m.peak_rss_mb.toFixed(0)} MB, ${Math.round(orders.rows / m.wall_s).toLocaleString('en-US')} records/s`)
  }
  row.check ??= `SQLite rows = the paid orders (${orders.expected.rows}), amount_cents summed equal (all runs checked)`
  const results = new Map<string, EngineResult>([['sluice', row]])
  summarizeRuns(results, orders.rows, bytes)
  const rate = row.records_per_s ?? null
  return {
    id: 'F1', title, description: 'orders CSV (the quickstart schema) → keep status == "paid" && amount > 0 → map (amount_cents, large; drop two columns) → SQLite upsert on order_id',
    input: { path: orders.csv.replace(ROOT + '/', ''), rows: orders.rows, bytes }, runs_per_engine: opts.runs,
    engines: [...results.values()],
    notes: [
      `records/s = input rows over the median wall time of the whole command (start-up, the final commit): ${rate?.toLocaleString('en-US')} against the engine core's floor of ${F1_FLOOR_RECORDS_PER_S.toLocaleString('en-US')} (${rate !== null && rate >= F1_FLOOR_RECORDS_PER_S ? 'met' : 'missed'}).`,
      `${orders.expected.rows.toLocaleString('en-US')} of the ${orders.rows.toLocaleString('en-US')} rows pass the filter; each run starts with a fresh database and fresh state.`,
    ],
  }
}

/**
 * Write out the dirty pages earlier runs left (W2 alone writes ~200 MB per engine and run), so
 * no run starts while the last one's outputs are still being written back. A precaution: in the
 * run at 2d5d4ce, W3 at 10k/s right after W2 showed a 375 ms stall and a 75 ms GC pause that
 * 60 s reruns never showed (p99 16 ms, GC max 5.6 ms), but 2.4 GB of dirty pages made right
 * before a rerun did not reproduce it either. The cause is open.
 */
function settleDisk(): void {
  spawnSync('sync')
}

// ─── W3, W4: Sluice in-process, under memory_limit as a user who needs that bound runs it ─────

function memoryLimitArg(text: string): number | null {
  return text === 'none' ? null : parseByteSize(text)
}

/**
 * node + sluice-stream.mjs with the heap flags of `limit` (what \`sluice run\` does itself; an API
 * user starts node with memoryFlags()), and MEMORY_LIMIT for the pipeline's own setting.
 */
function streamCommand(limit: number | null, args: string[]): { args: string[]; env: Record<string, string> } {
  // W3 and W4 have no file source: no room to keep for chunk workers.
  const flags = limit === null ? [] : memoryFlags(limit, 1)
  return { args: [...flags, join(BENCH, 'lib', 'sluice-stream.mjs'), ...args], env: limit === null ? {} : { MEMORY_LIMIT: String(limit) } }
}

function memoryNote(limit: number | null): string {
  return limit === null
    ? 'Sluice runs without memory_limit (V8 sizes its heap for throughput).'
    : `Sluice runs with memory_limit: ${limit / 1048576}MiB, node started with ${memoryFlags(limit, 1).join(' ')} (docs/guides/memory.md).`
}

// ─── W3: streaming latency ────────────────────────────────────────────────────────────────

function percentileOfSorted(s: Float64Array, q: number): number {
  if (s.length === 0) return NaN
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!
}

async function w3(opts: Options, status: PeerStatus): Promise<WorkloadResult> {
  const notes: string[] = []
  const rows: EngineResult[] = []
  const warmup = opts.w3Seconds >= 20 ? 5 : 1
  const wantBenthos = !opts.engines || opts.engines.includes('benthos')
  const benthosMissing = peerMissing(status, 'benthos')()
  // Sluice, in-process measuring (bench/lib/sluice-stream.mjs), plus time(1) from outside.
  const sluiceAt = async (rate: number, limit: number | null, engine: string, label: string) => {
    settleDisk()
    const c = streamCommand(limit, ['w3', String(rate), String(opts.w3Seconds), String(warmup)])
    const m = await measure(process.execPath, c.args, { ...c.env, DATA_DIR: join(DATA, 'sluice-state', 'w3') }, opts.w3Seconds * 5 + 120)
    let inner: any = null
    try {
      inner = JSON.parse(m.stdout.trim().split('\n').pop() ?? '')
    } catch {}
    if (m.exit !== 0 || !inner) {
      failures.push(`W3 ${engine} at ${rate}/s failed: ${m.stderr.slice(-300)}`)
      rows.push({ engine, label, status: 'failed', rate, reason: m.stderr.slice(-300) })
      return
    }
    rows.push({
      engine, label, status: 'ok', rate,
      achieved_rate: inner.achieved_rate, records: inner.produced, latency_ms: inner.latency_ms, gc: inner.gc,
      wall_s: round(m.wall_s, 2), cpu_s: round(m.cpu_s, 2), cpu_per_core_pct: round((m.cpu_s / m.wall_s) * 100, 1), peak_rss_mb: round(m.peak_rss_mb, 1),
      records_per_s: inner.achieved_rate,
    })
    log(`W3 ${engine} ${rate}/s: p50 ${inner.latency_ms.p50} p99 ${inner.latency_ms.p99} p999 ${inner.latency_ms.p999} max ${inner.latency_ms.max} ms, gc max ${inner.gc.max_ms} ms, rss ${m.peak_rss_mb.toFixed(0)} MB, cpu ${m.cpu_s.toFixed(1)} s`)
  }
  const heldAt = (r: EngineResult) => r.status === 'ok' && (r.latency_ms as any)?.p99 <= 50 && (r.achieved_rate as number) >= 0.97 * (r.rate as number)
  for (const rate of opts.w3Rates) {
    await sluiceAt(rate, null, 'sluice', 'Sluice (generator → parse → map → 1 s tumbling aggregate + pass-through)')
    if (!wantBenthos) continue
    if (benthosMissing) {
      rows.push({ engine: 'benthos', label: 'Benthos', status: 'missing', rate, reason: benthosMissing })
      continue
    }
    // A rate above one Benthos did not hold tells nothing more, and takes minutes (it produces
    // the whole count at the rate it can).
    const lost = rows.find((r) => r.engine === 'benthos' && (r.rate as number) < rate && r.status === 'ok' && !heldAt(r))
    if (lost) {
      rows.push({ engine: 'benthos', label: 'Benthos', status: 'not_applicable', rate, reason: `not run: it did not hold ${fmt(lost.rate as number, 0)}/s` })
      continue
    }
    const latFile = join(OUT, `w3.benthos.${rate}.lat`)
    rmSync(latFile, { force: true })
    const batch = Math.max(1, Math.round(rate / 100))
    const count = batch * 100 * opts.w3Seconds
    const b = await measure(BENTHOS, ['-c', join(PEERS, 'benthos', 'w3.yaml')], { BATCH: String(batch), COUNT: String(count), OUT: latFile }, opts.w3Seconds * 5 + 120)
    if (b.exit !== 0 || !existsSync(latFile)) {
      failures.push(`W3 benthos at ${rate}/s failed: ${b.stderr.slice(-300)}`)
      rows.push({ engine: 'benthos', label: 'Benthos', status: 'failed', rate, reason: b.stderr.slice(-300) })
      continue
    }
    const all = readFileSync(latFile, 'utf8').split('\n').filter(Boolean).map(Number)
    rmSync(latFile, { force: true })
    const skip = Math.min(all.length, Math.round(warmup * rate))
    const lat = Float64Array.from(all.slice(skip), (us) => us / 1000).sort()
    const lm = {
      n: lat.length, p50: round(percentileOfSorted(lat, 0.5)), p99: round(percentileOfSorted(lat, 0.99)), p999: round(percentileOfSorted(lat, 0.999)),
      max: round(lat.length ? lat[lat.length - 1]! : NaN), mean: round(lat.reduce((a, x) => a + x, 0) / lat.length),
    }
    rows.push({
      engine: 'benthos', label: 'Benthos (generate → parse_json → mapping → file; no aggregate branch)', status: 'ok', rate,
      achieved_rate: round(all.length / b.wall_s, 0), records: all.length, latency_ms: lm, gc: null,
      wall_s: round(b.wall_s, 2), cpu_s: round(b.cpu_s, 2), cpu_per_core_pct: round((b.cpu_s / b.wall_s) * 100, 1), peak_rss_mb: round(b.peak_rss_mb, 1),
      records_per_s: round(all.length / b.wall_s, 0),
    })
    log(`W3 benthos ${rate}/s: p50 ${lm.p50} p99 ${lm.p99} p999 ${lm.p999} max ${lm.max} ms, rss ${b.peak_rss_mb.toFixed(0)} MB, cpu ${b.cpu_s.toFixed(1)} s`)
  }
  // The RSS target asks for ≤ 80 MB: the same pipeline at 100k/s under memory_limit.
  if (opts.w3MemoryLimit !== null) await sluiceAt(100_000, opts.w3MemoryLimit, 'sluice_memory_limit', `Sluice, memory_limit: ${opts.w3MemoryLimit / 1048576}MiB (same pipeline)`)
  const held = (engine: string) => {
    const ok = rows.filter((r) => r.engine === engine && heldAt(r))
    return ok.length ? Math.max(...ok.map((r) => r.rate as number)) : null
  }
  notes.push(`Each rate runs ${opts.w3Seconds} s in a fresh process; the first ${warmup} s of records (JIT warm-up) are left out of the percentiles.`)
  notes.push(`The Sluice rows run without memory_limit; the sluice_memory_limit row runs 100k/s under it. ${opts.w3MemoryLimit === null ? '' : memoryNote(opts.w3MemoryLimit)}`)
  notes.push('Sluice latency = sink write time − the record\'s `ts`, which the generator sets to the time the record was *due* (record n at n / rate s); the generator releases each record when due (±1 ms of timer resolution), so its own lateness counts too (and `ts` has millisecond resolution). The measuring sink batches with linger 5 ms.')
  notes.push('Benthos latency = time the output processor sees the message − the time the `generate` mapping created it (µs); its generator emits one batch per 10 ms tick, stamped at creation, so the tick wait is not in its numbers. A rate above one Benthos did not hold is not run. Benthos core has no windowed aggregate for one branch of a fan-out, so its pipeline has no aggregate branch: comparable for the pass-through path only. Go GC pauses are not observed (gc: null).')
  notes.push('GC figures: every pause seen by a PerformanceObserver(\'gc\') inside the Sluice process. "held" = achieved ≥ 97% of the target rate with p99 ≤ 50 ms.')
  return {
    id: 'W3', title: 'W3 — streaming latency', description: 'generator at fixed rates → parse JSON → map → 1 s tumbling aggregate + pass-through branch → sink; end-to-end latency per record',
    engines: rows, highest_rate_held_p99_50ms: { sluice: held('sluice'), benthos: wantBenthos && !benthosMissing ? held('benthos') : null }, notes,
  }
}

// ─── W4: constant memory ──────────────────────────────────────────────────────────────────

function linearSlope(xs: number[], ys: number[]): number {
  const n = xs.length
  if (n < 2) return NaN
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  let num = 0
  let den = 0
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my)
    den += (xs[i]! - mx) ** 2
  }
  return den === 0 ? NaN : num / den
}

async function w4(opts: Options): Promise<WorkloadResult> {
  settleDisk()
  const bytes = Math.round(opts.w4Gb * 1e9)
  const c = streamCommand(opts.w4MemoryLimit, ['w4', String(bytes), '/dev/null'])
  const m = await measure(process.execPath, c.args, { ...c.env, DATA_DIR: join(DATA, 'sluice-state', 'w4') }, 4 * 3600)
  let inner: any = null
  try {
    inner = JSON.parse(m.stdout.trim().split('\n').pop() ?? '')
  } catch {}
  const notes: string[] = [memoryNote(opts.w4MemoryLimit)]
  if (m.exit !== 0 || !inner) {
    failures.push(`W4 sluice failed: ${m.stderr.slice(-300)}`)
    return { id: 'W4', title: 'W4 — constant memory', description: '', engines: [{ engine: 'sluice', label: 'Sluice', status: 'failed', reason: m.stderr.slice(-300) }], notes }
  }
  const samples: { t: number; gb: number; rss_mb: number; mb_per_s: number }[] = inner.samples
  // Slope over everything after the first 10% (start-up: JIT, buffers filling).
  const steady = samples.filter((s) => s.gb >= 0.1 * (inner.bytes / 1e9))
  const slope = linearSlope(steady.map((s) => s.gb), steady.map((s) => s.rss_mb))
  const half = steady.filter((s) => s.gb >= 0.5 * (inner.bytes / 1e9))
  const slopeHalf = linearSlope(half.map((s) => s.gb), half.map((s) => s.rss_mb))
  const rates = steady.map((s) => s.mb_per_s).filter((x) => x > 0)
  const mean = rates.reduce((a, b) => a + b, 0) / rates.length
  const sd = Math.sqrt(rates.reduce((a, b) => a + (b - mean) ** 2, 0) / rates.length)
  const sorted = [...rates].sort((a, b) => a - b)
  const bytesPerCpuS = inner.bytes / m.cpu_s
  const rssFirst = steady.length ? Math.max(...steady.filter((s) => s.gb < 0.5 * (inner.bytes / 1e9)).map((s) => s.rss_mb)) : NaN
  const rssSecond = half.length ? Math.max(...half.map((s) => s.rss_mb)) : NaN
  notes.push('generator (as fast as possible, JSON text) → parse json → filter → file sink to /dev/null; nothing is read from disk. RSS sampled every second inside the process; the slope is a least-squares fit of RSS (MB) against GB processed, after the first 10% of the run.')
  notes.push('projected_hours_per_tb_per_core = (10^12 bytes ÷ bytes per CPU-second) ÷ 3600: the CPU time one core would need for a terabyte of this input.')
  const r: EngineResult = {
    engine: 'sluice', label: 'Sluice', status: 'ok',
    gb_processed: round(inner.bytes / 1e9, 2), records: inner.records, written: inner.written,
    wall_s: round(m.wall_s, 1), cpu_s: round(m.cpu_s, 1), records_per_s: round(inner.records / m.wall_s, 0), mb_per_s: round(inner.bytes / 1e6 / m.wall_s, 1),
    peak_rss_mb: round(m.peak_rss_mb, 1),
    rss_slope_mb_per_gb: round(slope, 3), rss_slope_second_half_mb_per_gb: round(slopeHalf, 3),
    rss_max_first_half_mb: round(rssFirst, 1), rss_max_second_half_mb: round(rssSecond, 1),
    throughput_mb_per_s: { mean: round(mean, 1), stdev: round(sd, 1), cv_pct: round((sd / mean) * 100, 1), p5: round(percentileOfSorted(Float64Array.from(sorted), 0.05), 1), p50: round(percentileOfSorted(Float64Array.from(sorted), 0.5), 1), p95: round(percentileOfSorted(Float64Array.from(sorted), 0.95), 1) },
    projected_hours_per_tb_per_core: round(1e12 / bytesPerCpuS / 3600, 2),
    gc: { count: inner.gc.count, total_ms: round(inner.gc.total_ms, 0), max_ms: round(inner.gc.max_ms, 2) },
    rss_samples: samples.filter((_, i) => i % Math.max(1, Math.ceil(samples.length / 120)) === 0),
  }
  log(`W4 sluice: ${r.gb_processed} GB in ${r.wall_s} s (${r.mb_per_s} MB/s), rss slope ${r.rss_slope_mb_per_gb} MB/GB, peak ${r.peak_rss_mb} MB, ${r.projected_hours_per_tb_per_core} h/TB/core`)
  return { id: 'W4', title: 'W4 — constant memory', description: `generator → parse → filter → file sink (/dev/null), ${opts.w4Gb} GB of synthetic JSON`, engines: [r], notes }
}

// ─── Machine, report ──────────────────────────────────────────────────────────────────────

function machine() {
  const git = (args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout.trim()
  const versions: Record<string, string> = { node: process.version }
  return {
    cpu_model: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memory_gb: round(totalmem() / 1024 ** 3, 1),
    os: `${process.platform} ${spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim()}`,
    git_sha: git(['rev-parse', 'HEAD']),
    // Taken before the build: whether the measured src/ had uncommitted changes.
    git_dirty: git(['status', '--porcelain', '--', 'src']).length > 0,
    versions,
  }
}

const fmt = (x: unknown, d = 2): string => {
  if (x === null || x === undefined || (typeof x === 'number' && !Number.isFinite(x))) return '–'
  if (typeof x !== 'number') return String(x)
  return x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: 0 })
}
const ratio = (x: number | null | undefined) => (x == null ? '–' : `${x.toFixed(2)}×`)

function markdown(report: any): string {
  const m = report.machine
  const out: string[] = []
  out.push('# Sluice benchmark results', '')
  out.push(`Generated by \`npm run bench${report.args.length ? ' -- ' + report.args.join(' ') : ''}\` on ${report.date}. Git ${m.git_sha.slice(0, 10)}${m.git_dirty ? ' (src/ had uncommitted changes)' : ''}.`)
  out.push(`Machine: ${m.cpu_model}, ${m.cores} cores, ${m.memory_gb} GiB RAM, ${m.os}, Node ${m.versions.node}. Total bench time ${fmt(report.total_s, 0)} s.`, '')
  if (report.build !== 'npm run build: ok') out.push(`**Build:** ${report.build}.`, '')
  out.push(`Peers: ${Object.entries(report.peers).map(([k, v]) => `${k} ${v}`).join('; ')}.`, '')
  if (report.failures.length) {
    out.push('**FAILURES:**', '')
    for (const f of report.failures) out.push(`- ${f}`)
    out.push('')
  }
  out.push('![throughput and peak memory per engine](latest.svg)', '')
  for (const w of report.workloads) {
    out.push(`## ${w.title}`, '', w.description, '')
    if (w.input) out.push(`Input: \`${w.input.path}\`, ${fmt(w.input.rows, 0)} rows, ${fmt(w.input.bytes / 1e6, 0)} MB; ${w.runs_per_engine} runs per engine, interleaved; medians.`, '')
    if (w.id === 'W1' || w.id === 'W2' || w.id === 'W5' || w.id === 'F1' || w.id === 'K1' || w.id === 'K2') {
      out.push('| engine | wall s | × Sluice (time) | CPU s | records/s | MB/s | peak RSS MB | × Sluice (RSS) | output |', '|---|---:|---:|---:|---:|---:|---:|---:|---|')
      for (const e of w.engines) {
        if (e.status === 'ok' || e.status === 'mismatch')
          out.push(`| ${e.engine} | ${fmt(e.wall_s)} | ${ratio(e.ratio_vs_sluice?.wall)} | ${fmt(e.cpu_s)} | ${fmt(e.records_per_s, 0)} | ${fmt(e.mb_per_s, 1)} | ${fmt(e.peak_rss_mb, 0)} | ${ratio(e.ratio_vs_sluice?.peak_rss)} | ${e.status === 'mismatch' ? '**' + e.check + '**' : (e.check ?? (e.engine.startsWith('floor') ? 'not checked (floor)' : ''))} |`)
        else out.push(`| ${e.engine} | ${e.status.replace('_', ' ')} |  |  |  |  |  |  | ${e.reason ?? ''} |`)
      }
    } else if (w.id === 'W3') {
      out.push('| engine | target/s | achieved/s | p50 ms | p99 ms | p99.9 ms | max ms | GC max ms | GC total ms | CPU % of a core | peak RSS MB |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
      for (const e of w.engines) {
        if (e.status !== 'ok') out.push(`| ${e.engine} | ${fmt(e.rate, 0)} | ${e.status.replace('_', ' ')} |  |  |  |  |  |  |  | ${e.reason ?? ''} |`)
        else out.push(`| ${e.engine} | ${fmt(e.rate, 0)} | ${fmt(e.achieved_rate, 0)} | ${fmt(e.latency_ms.p50)} | ${fmt(e.latency_ms.p99)} | ${fmt(e.latency_ms.p999)} | ${fmt(e.latency_ms.max)} | ${fmt(e.gc?.max_ms)} | ${fmt(e.gc?.total_ms, 0)} | ${fmt(e.cpu_per_core_pct, 0)} | ${fmt(e.peak_rss_mb, 0)} |`)
      }
      out.push('', `Highest rate held with p99 ≤ 50 ms: Sluice ${fmt(w.highest_rate_held_p99_50ms.sluice, 0)}/s${w.highest_rate_held_p99_50ms.benthos !== undefined ? `, Benthos ${fmt(w.highest_rate_held_p99_50ms.benthos, 0)}/s` : ''} (of the rates tried).`)
    } else if (w.id === 'W4') {
      for (const e of w.engines) {
        if (e.status !== 'ok') {
          out.push(`Sluice: ${e.status}: ${e.reason}`)
          continue
        }
        out.push('| metric | value |', '|---|---:|')
        out.push(`| data processed | ${fmt(e.gb_processed)} GB (${fmt(e.records, 0)} records) |`)
        out.push(`| wall / CPU | ${fmt(e.wall_s, 0)} s / ${fmt(e.cpu_s, 0)} s |`)
        out.push(`| throughput | ${fmt(e.mb_per_s, 1)} MB/s, ${fmt(e.records_per_s, 0)} records/s |`)
        out.push(`| throughput per second (MB/s) | mean ${fmt(e.throughput_mb_per_s.mean, 1)}, p5 ${fmt(e.throughput_mb_per_s.p5, 1)}, p50 ${fmt(e.throughput_mb_per_s.p50, 1)}, p95 ${fmt(e.throughput_mb_per_s.p95, 1)}, CV ${fmt(e.throughput_mb_per_s.cv_pct, 1)}% |`)
        out.push(`| RSS slope | ${fmt(e.rss_slope_mb_per_gb, 3)} MB per GB (second half: ${fmt(e.rss_slope_second_half_mb_per_gb, 3)}) |`)
        out.push(`| RSS max, first half / second half | ${fmt(e.rss_max_first_half_mb, 0)} MB / ${fmt(e.rss_max_second_half_mb, 0)} MB |`)
        out.push(`| peak RSS | ${fmt(e.peak_rss_mb, 0)} MB |`)
        out.push(`| GC | ${fmt(e.gc.count, 0)} pauses, ${fmt(e.gc.total_ms, 0)} ms total, max ${fmt(e.gc.max_ms)} ms |`)
        out.push(`| projected hours per TB per core | ${fmt(e.projected_hours_per_tb_per_core)} |`)
      }
    }
    if (w.notes?.length) {
      out.push('')
      for (const n of w.notes) out.push(`- ${n}`)
    }
    out.push('')
  }
  return out.join('\n')
}

// ─── Main ─────────────────────────────────────────────────────────────────────────────────

async function main() {
  const rawArgs = process.argv.slice(2)
  const opts = parseArgs(rawArgs)
  const started = performance.now()
  let buildNote: string | null = null
  // The code measured is what the build saw: files edited during a long run do not count.
  const measured = machine()
  mkdirSync(OUT, { recursive: true })
  mkdirSync(opts.out, { recursive: true })
  if (!opts.skipBuild) {
    log('npm run build')
    const b = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, encoding: 'utf8' })
    if (b.status !== 0) {
      const why = `${b.stdout}${b.stderr}`.split('\n').filter((l) => l.includes('error')).slice(0, 3).join(' | ')
      if (!existsSync(join(ROOT, 'dist', 'index.js'))) die(`npm run build failed and there is no dist/ to measure: ${why}`)
      buildNote = `npm run build failed (${why}); the dist/ of an earlier build was measured`
      log(`WARNING: ${buildNote}`)
    }
  }
  let status: PeerStatus = {}
  if (!opts.skipSetup) {
    log('bench/peers/setup.sh (installs missing peers; skip with --skip-setup)')
    spawnSync('bash', [join(PEERS, 'setup.sh')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
  }
  if (existsSync(join(PEERS, 'status.json'))) status = JSON.parse(readFileSync(join(PEERS, 'status.json'), 'utf8'))
  const needFiles = opts.workloads.some((w) => w === 'W1' || w === 'W2' || w === 'W5')
  let files = datasetPaths(DATA, opts.rows, opts.seed)
  if (needFiles) {
    if (!existsSync(files.csv) || !existsSync(files.jsonl)) log(`generating ${opts.rows} rows (seed ${opts.seed}) into bench/data/ (cached)`)
    files = generate(opts.rows, opts.seed, DATA)
  }
  const workloads: WorkloadResult[] = []
  const kafkaIds = opts.workloads.filter((w): w is 'K1' | 'K2' => w === 'K1' || w === 'K2')
  for (const w of opts.workloads) {
    if (kafkaIds.includes(w as 'K1') && w !== kafkaIds[0]) continue // done with the first
    log(`── ${kafkaIds[0] === w ? kafkaIds.join(' ') : w}`)
    if (w === 'W1' || w === 'W2') workloads.push(await batchWorkload(w, opts, status, files))
    else if (w === 'W3') workloads.push(await w3(opts, status))
    else if (w === 'W4') workloads.push(await w4(opts))
    else if (w === kafkaIds[0]) {
      // K1 and K2 share one broker and one load of the input topic.
      const r = await kafkaWorkloads(kafkaIds, { records: opts.kafkaRecords, runs: opts.runs, seed: opts.seed, engines: opts.engines, status, data: DATA, out: OUT, root: ROOT, bench: BENCH, measure, log })
      workloads.push(...(r.workloads as WorkloadResult[]))
      failures.push(...r.failures)
    }
    else if (w === 'W5') workloads.push(await w5(opts, files))
    else if (w === 'F1') workloads.push(await f1(opts))
  }
  const total = (performance.now() - started) / 1000
  const report = {
    date: new Date().toISOString(), args: rawArgs, quick: opts.quick, total_s: round(total, 0), machine: measured, build: buildNote ?? 'npm run build: ok', peers: status,
    parameters: { rows: opts.rows, runs: opts.runs, seed: opts.seed, w3_rates: opts.w3Rates, w3_seconds: opts.w3Seconds, w4_gb: opts.w4Gb, w3_memory_limit: opts.w3MemoryLimit, w4_memory_limit: opts.w4MemoryLimit, kafka_records: opts.kafkaRecords },
    failures, workloads,
  }
  writeFileSync(join(opts.out, 'latest.json'), JSON.stringify(report, null, 2) + '\n')
  writeFileSync(join(opts.out, 'latest.md'), markdown(report))
  writeFileSync(join(opts.out, 'latest.svg'), renderSvg(report))
  log(`wrote ${join(opts.out, 'latest.{json,md,svg}').replace(ROOT + '/', '')} in ${total.toFixed(0)} s total`)
  if (failures.length) {
    process.stderr.write(`\nBENCHMARK FAILED (${failures.length}):\n${failures.map((f) => `  - ${f}`).join('\n')}\n`)
    process.exit(1)
  }
}

await main()
