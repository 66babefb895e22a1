// K1 (Kafka → parse → filter → Kafka) and K2 (Kafka → SQLite) for `npm run bench`: one real
// broker (test/services/kafka.ts, the same starter the tests use), one 6-partition input topic
// loaded once from the events JSON lines by an external client (kcat, else Kafka's console
// producer), then interleaved runs of Sluice and of kcat (C, librdkafka) as the physical floor,
// each measured from outside by /usr/bin/time like every other engine. Every Sluice run uses a
// fresh consumer group (and, for K1, a fresh output topic); its output is read back and checked.
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { createReadStream, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import Database from 'better-sqlite3'
import { consoleConsume, consoleProduce, startKafka, type KafkaBroker } from '../../test/services/kafka.js'
import { generate } from './gen-data.js'
import { round, summarizeRuns } from './summary.js'
import { fnv } from './verify.js'

interface Measure { wall_s: number; cpu_s: number; peak_rss_mb: number; exit: number; stderr: string; stdout: string }

export interface KafkaBenchContext {
  records: number
  runs: number
  seed: number
  /** Only these engines (sluice always kept). */
  engines: string[] | null
  status: Record<string, string>
  data: string
  out: string
  root: string
  bench: string
  measure: (cmd: string, args: string[], env?: Record<string, string>, timeoutS?: number) => Promise<Measure>
  log: (msg: string) => void
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type Row = Record<string, any>

const INPUT_TOPIC = 'events'
const PARTITIONS = 6
/** K1's condition, the same as W2's: `amount > 50`. */
const K1_KEEP = (r: any) => r.amount > 50


/** Every field of an event, amounts to 2 decimals: equal for the input line and Sluice's re-encoded JSON. */
const canon = (o: any) => `${o.ts}|${o.user_id}|${o.country}|${o.event}|${Number(o.amount).toFixed(2)}|${o.latency_ms}|${o.ua}`

interface Fingerprint { rows: number; h1: number; h2: number; bad: number; firstBad?: string }

async function fingerprintLines(lines: AsyncIterable<string> | Iterable<string>, keep: (o: any) => boolean = () => true): Promise<Fingerprint & { cents: number; total: number }> {
  const fp = { rows: 0, h1: 0, h2: 0, bad: 0, firstBad: undefined as string | undefined, cents: 0, total: 0 }
  for await (const line of lines) {
    if (line.length === 0) continue
    fp.total++
    let o: any
    try {
      o = JSON.parse(line)
      if (typeof o.ts !== 'string' || typeof o.amount !== 'number') throw new Error('missing field')
    } catch {
      fp.bad++
      fp.firstBad ??= line.slice(0, 200)
      continue
    }
    fp.cents += Math.round(o.amount * 100)
    if (!keep(o)) continue
    fp.rows++
    const c = canon(o)
    fp.h1 = (fp.h1 + fnv(c, 1)) >>> 0
    fp.h2 = (fp.h2 + fnv(c, 0x9e3779b9)) >>> 0
  }
  return fp
}

const hasKcat = () => spawnSync('sh', ['-c', 'command -v kcat'], { encoding: 'utf8' }).status === 0
/** `kcat 1.7.1 (librdkafka 2.0.2)`, for the report. */
const kcatVersion = () => {
  const m = /Version (\S+) .*librdkafka (\S+)/.exec(spawnSync('kcat', ['-V'], { encoding: 'utf8' }).stdout ?? '')
  return m ? `kcat ${m[1]} (librdkafka ${m[2]})` : 'kcat'
}

/** The end offsets of a topic's partitions (kcat -Q with timestamp -1), summed: the records it holds. */
function topicRecords(broker: KafkaBroker, topic: string, partitions: number): number {
  const args = ['-Q', '-b', broker.bootstrap]
  for (let p = 0; p < partitions; p++) args.push('-t', `${topic}:${p}:-1`)
  const r = spawnSync('kcat', args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`kcat -Q failed: ${r.stderr.trim()}`)
  let sum = 0
  let seen = 0
  for (const m of r.stdout.matchAll(/\[(\d+)\]\s+offset\s+(-?\d+)/g)) {
    sum += Number(m[2])
    seen++
  }
  if (seen !== partitions) throw new Error(`kcat -Q answered for ${seen} of ${partitions} partitions: ${r.stdout.trim()}`)
  return sum
}

/** Read a whole topic back as value lines: kcat when installed, else Kafka's console consumer. */
async function* readTopic(broker: KafkaBroker, topic: string, expected: number): AsyncGenerator<string> {
  if (!hasKcat()) {
    yield* await consoleConsume(broker, topic, { maxMessages: expected + 10_000, timeoutMs: 15_000 })
    return
  }
  const child = spawn('kcat', ['-C', '-b', broker.bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%s\n'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)))
  const closed = once(child, 'close')
  yield* createInterface({ input: child.stdout as Readable, crlfDelay: Infinity })
  const [code] = (await closed) as [number | null]
  if (code !== 0) throw new Error(`kcat -C of ${topic} failed (exit ${code}): ${stderr.trim()}`)
}

interface KEngine {
  name: string
  label: string
  floor?: boolean
  missing: string | null
  /** Before each run, not measured: fresh group / topic / database. */
  prepare?: (run: number) => Promise<void>
  command: (run: number) => { cmd: string; args: string[]; env?: Record<string, string> }
  /** After each run, not measured: null when the output is right, else what is wrong. The summary goes to the report. */
  check?: (run: number) => Promise<{ ok: boolean; summary: string }>
}

export async function kafkaWorkloads(ids: ('K1' | 'K2')[], c: KafkaBenchContext): Promise<{ workloads: Row[]; failures: string[] }> {
  const failures: string[] = []
  const files = generate(c.records, c.seed, c.data)
  const input = files.jsonl
  const bytes = statSync(input).size
  // bench/peers/setup.sh installs kcat and records it; a kcat already on PATH is used as it is.
  const kcatMissing = hasKcat() ? null : c.status.kcat?.startsWith('missing') ? c.status.kcat.replace(/^missing: /, '') : 'not installed (run bench/peers/setup.sh)'
  const failAll = (why: string) => {
    for (const id of ids) failures.push(`${id}: ${why}`)
    return { workloads: ids.map((id) => ({ id, title: title(id), description: description(id), engines: [{ engine: 'sluice', label: 'Sluice', status: 'failed', reason: why }], notes: [] })), failures }
  }

  c.log(`K: starting a Kafka broker (test/services/kafka.ts)`)
  let broker: KafkaBroker
  try {
    broker = await startKafka({ heapMb: 1024 })
  } catch (e) {
    return failAll(`cannot start the Kafka broker: ${(e as Error).message.slice(0, 300)}`)
  }
  try {
    await broker.createTopic(INPUT_TOPIC, PARTITIONS)
    // Load once, with an external client; not part of any measurement.
    const t0 = performance.now()
    let loader: string
    if (hasKcat()) {
      loader = 'kcat -P'
      const r = spawnSync('kcat', ['-P', '-b', broker.bootstrap, '-t', INPUT_TOPIC, '-l', input, '-X', 'enable.idempotence=true', '-X', 'acks=all'], { encoding: 'utf8' })
      if (r.status !== 0) throw new Error(`loading the input topic with kcat -P failed (exit ${r.status}): ${r.stderr.slice(-300)}`)
    } else {
      loader = 'Kafka console producer'
      await consoleProduce(broker, INPUT_TOPIC, input)
    }
    const loadS = (performance.now() - t0) / 1000
    let loaded = c.records
    if (hasKcat()) {
      loaded = topicRecords(broker, INPUT_TOPIC, PARTITIONS)
      if (loaded !== c.records) throw new Error(`the input topic holds ${loaded} records after loading ${c.records}`)
    }
    c.log(`K: loaded ${c.records} events (${(bytes / 1e6).toFixed(0)} MB) into ${INPUT_TOPIC} (${PARTITIONS} partitions) with ${loader} in ${loadS.toFixed(1)} s`)

    // What the outputs must be, from the input file itself.
    const expected = await fingerprintLines(createInterface({ input: createReadStream(input), crlfDelay: Infinity }), K1_KEEP)
    c.log(`K: expected K1 output ${expected.rows} of ${expected.total} events (amount > 50)`)
    const workloads: Row[] = []
    for (const id of ids) {
      workloads.push(await runWorkload(id, c, broker, { input, bytes, loader, loadS, expected, kcatMissing }, failures))
    }
    return { workloads, failures }
  } catch (e) {
    return failAll((e as Error).message.slice(0, 400))
  } finally {
    await broker.close()
  }
}

function title(id: 'K1' | 'K2') {
  return id === 'K1' ? 'K1 — Kafka → parse → filter → Kafka' : 'K2 — Kafka → SQLite'
}
function description(id: 'K1' | 'K2') {
  return id === 'K1'
    ? `events topic (${PARTITIONS} partitions, JSON values) → parse JSON → keep amount > 50 → another ${PARTITIONS}-partition topic (idempotent producer, acks=all)`
    : `events topic (${PARTITIONS} partitions, JSON values) → parse JSON → SQLite table (created from the data)`
}

async function runWorkload(
  id: 'K1' | 'K2',
  c: KafkaBenchContext,
  broker: KafkaBroker,
  d: { input: string; bytes: number; loader: string; loadS: number; expected: Fingerprint & { cents: number; total: number }; kcatMissing: string | null },
  failures: string[],
): Promise<Row> {
  const stamp = Date.now().toString(36)
  const group = (run: number) => `bench-${id.toLowerCase()}-${stamp}-r${run}`
  const outTopic = (run: number) => `k1-out-${stamp}-r${run}`
  const db = join(c.out, 'k2.sluice.db')
  const sluiceEnv = (run: number): Record<string, string> => ({
    BROKERS: broker.bootstrap,
    TOPIC: INPUT_TOPIC,
    GROUP: group(run),
    DATA_DIR: join(c.data, 'sluice-state', id.toLowerCase()),
    ...(id === 'K1' ? { OUT_TOPIC: outTopic(run) } : { DB: db }),
  })
  const yaml = id === 'K1' ? 'k1-kafka-filter-kafka.yaml' : 'k2-kafka-sqlite.yaml'
  const list: KEngine[] = [
    {
      name: 'sluice',
      label: `Sluice (sluice run bench/workloads/${yaml})`,
      missing: null,
      prepare: async (run) => {
        if (id === 'K1') await broker.createTopic(outTopic(run), PARTITIONS)
        else for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true })
      },
      command: (run) => ({ cmd: process.execPath, args: [join(c.root, 'bin', 'sluice.js'), 'run', join(c.bench, 'workloads', yaml), '--reset', '--no-progress', '-q'], env: sluiceEnv(run) }),
      check:
        id === 'K1'
          ? async (run) => {
              const got = await fingerprintLines(readTopic(broker, outTopic(run), d.expected.rows))
              const same = got.rows === d.expected.rows && got.h1 === d.expected.h1 && got.h2 === d.expected.h2 && got.bad === 0
              return same
                ? { ok: true, summary: `output topic read back: ${got.rows} records = the filtered count, same records as a multiset` }
                : { ok: false, summary: `MISMATCH: output topic holds ${got.total} records (${got.bad} unreadable${got.firstBad ? `, first: ${got.firstBad}` : ''}), expected ${d.expected.rows}; content fingerprint ${got.h1 === d.expected.h1 && got.h2 === d.expected.h2 ? 'equal' : 'differs'}` }
            }
          : async () => {
              const h = new Database(db, { readonly: true })
              try {
                const r = h.prepare('SELECT count(*) AS n, sum(CAST(round(amount * 100) AS INTEGER)) AS cents FROM events').get() as { n: number; cents: number }
                const ok = r.n === d.expected.total && r.cents === d.expected.cents
                return ok
                  ? { ok: true, summary: `SQLite rows = input count (${r.n}), sum(amount) equal` }
                  : { ok: false, summary: `MISMATCH: ${r.n} rows (expected ${d.expected.total}), sum(amount) in cents ${r.cents} (expected ${d.expected.cents})` }
              } finally {
                h.close()
              }
            },
    },
    {
      name: 'floor_kcat_consume',
      label: `floor: ${kcatVersion()} -C -e, no group → /dev/null`,
      floor: true,
      missing: d.kcatMissing,
      command: () => ({ cmd: 'sh', args: ['-c', 'exec kcat -C -b "$1" -t "$2" -o beginning -e -q > /dev/null', 'sh', broker.bootstrap, INPUT_TOPIC] }),
    },
  ]
  if (id === 'K1') {
    const prodTopic = (run: number) => `kcat-p-${stamp}-r${run}`
    list.push({
      name: 'floor_kcat_produce',
      label: `floor: ${kcatVersion()} -P -l file (idempotent, acks=all), every input line`,
      floor: true,
      missing: d.kcatMissing,
      prepare: (run) => broker.createTopic(prodTopic(run), PARTITIONS),
      command: (run) => ({ cmd: 'kcat', args: ['-P', '-b', broker.bootstrap, '-t', prodTopic(run), '-l', d.input, '-X', 'enable.idempotence=true', '-X', 'acks=all'] }),
      check: async (run) => {
        const n = topicRecords(broker, prodTopic(run), PARTITIONS)
        return n === d.expected.total ? { ok: true, summary: `${n} records in the topic (count only)` } : { ok: false, summary: `MISMATCH: ${n} records in the topic, expected ${d.expected.total}` }
      },
    })
  }
  const wanted = c.engines ? list.filter((e) => e.name === 'sluice' || c.engines!.includes(e.name)) : list
  const results = new Map<string, Row>()
  const active: KEngine[] = []
  for (const e of wanted) {
    if (e.missing) results.set(e.name, { engine: e.name, label: e.label, status: 'missing', reason: e.missing })
    else {
      active.push(e)
      results.set(e.name, { engine: e.name, label: e.label, status: 'ok', runs: [] })
    }
  }
  const timeoutS = 300 + Math.ceil(c.records / 2000)
  for (let run = 0; run < c.runs; run++) {
    const order = active.map((_, i) => active[(i + run) % active.length]!)
    for (const e of order) {
      const r = results.get(e.name)!
      if (r.status !== 'ok' && r.status !== 'mismatch') continue
      try {
        await e.prepare?.(run)
      } catch (err) {
        r.status = 'failed'
        r.reason = `preparing run ${run + 1}: ${(err as Error).message.slice(0, 300)}`
        failures.push(`${id} ${e.name}: ${r.reason}`)
        continue
      }
      const { cmd, args, env } = e.command(run)
      const m = await c.measure(cmd, args, env, timeoutS)
      if (m.exit !== 0) {
        r.status = 'failed'
        r.reason = `exit ${m.exit}: ${m.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 400)}`
        failures.push(`${id} ${e.name} failed: ${r.reason}`)
        c.log(`${id} ${e.name} run ${run + 1}: FAILED ${r.reason}`)
        continue
      }
      r.runs.push({ wall_s: round(m.wall_s, 3), cpu_s: round(m.cpu_s, 2), peak_rss_mb: round(m.peak_rss_mb, 1) })
      c.log(`${id} ${e.name.padEnd(18)} run ${run + 1}/${c.runs}: ${m.wall_s.toFixed(2)} s wall, ${m.cpu_s.toFixed(2)} s cpu, ${m.peak_rss_mb.toFixed(0)} MB`)
      if (!e.check) continue
      let verdict: { ok: boolean; summary: string }
      try {
        verdict = await e.check(run)
      } catch (err) {
        verdict = { ok: false, summary: `MISMATCH: output unreadable: ${(err as Error).message.slice(0, 300)}` }
      }
      // Every run is checked; the report keeps the first run's summary, or the first mismatch.
      if (!verdict.ok) {
        r.status = 'mismatch'
        r.check = `run ${run + 1}: ${verdict.summary}`
        failures.push(`${id} ${e.name}: ${r.check}`)
        c.log(`${id} ${e.name}: ${r.check}`)
      } else if (r.check === undefined) r.check = verdict.summary
    }
  }
  const valueBytes = d.bytes - d.expected.total // one newline per line in the file, none in a message
  for (const r of results.values()) {
    if (r.status === 'ok' && r.check && r.runs && r.runs.length > 1) r.check += ` (all ${r.runs.length} runs checked)`
  }
  summarizeRuns(results, d.expected.total, valueBytes)
  const notes = [
    `One single-node Kafka ${'4.x'} broker (KRaft, test/services/kafka.ts, 1 GiB heap) on loopback, on the same 2 cores as the engines: the broker's CPU is not in any engine's CPU s, but it competes with them.`,
    `The input topic (${PARTITIONS} partitions) was loaded once, before any measurement, with ${d.loader} from \`${d.input.replace(c.root + '/', '')}\` (${d.loadS.toFixed(1)} s).`,
    'records/s = input records over the median wall time; MB/s = input message-value bytes (the JSONL file without its newlines) over the median wall time. Wall time is the whole process: start-up, joining the consumer group, reading, writing, the final commit and leaving the group.',
    'Every Sluice run uses a fresh consumer group (so it reads the topic from the start) and `stop_at_end: true` (the run ends once every partition is read up to the end offset it had at start).',
    'The kcat rows are the physical floor, not a pipeline: `kcat -C -e` assigns every partition itself (no group), prints the values to /dev/null and parses nothing; `kcat -P` produces every line of the file (not only the filtered ones) to a fresh topic with the same producer settings as the Sluice sink (idempotent, acks=all, no compression).',
  ]
  if (id === 'K1') notes.push(`Sluice's output: ${d.expected.rows} of ${d.expected.total} events (amount > 50) to a fresh ${PARTITIONS}-partition topic per run, read back after each run with ${hasKcat() ? 'kcat' : 'the console consumer'} and compared with the filtered input by count and an order-independent fingerprint of every field.`)
  else notes.push('Sluice\'s output: a fresh SQLite file per run (WAL, synchronous=normal, the sink\'s defaults); after each run the row count and the sum of `amount` are compared with the input.')
  return {
    id, title: title(id), description: description(id),
    input: { path: `kafka topic ${INPUT_TOPIC} (${PARTITIONS} partitions) from ${d.input.replace(c.root + '/', '')}`, rows: d.expected.total, bytes: d.bytes },
    runs_per_engine: c.runs, engines: [...results.values()], notes,
  }
}
