// Sluice side of the streaming workloads (W3 latency, W4 constant memory), run in-process through
// the public TypeScript API of the compiled engine (dist/), so the measuring sink, the GC observer
// and the RSS sampler live inside the Sluice process. Prints one JSON summary line on stdout.
//
//   node bench/lib/sluice-stream.mjs w3 <rate> <seconds> [warmup_s]
//   node bench/lib/sluice-stream.mjs w4 <bytes> <out-path>
import { PerformanceObserver } from 'node:perf_hooks'
import { Session } from 'node:inspector/promises'
import { writeFileSync } from 'node:fs'
const session = new Session(); session.connect()
if (process.env.HEAPSAMPLE) { await session.post('HeapProfiler.enable'); await session.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }) }
import { builtins, defineSink, options, pipeline, RunStats } from '../../dist/index.js'

const { z, batchOptions, retryOptions } = options
const [mode, ...args] = process.argv.slice(2)

// ─── GC pauses and RSS, observed from inside ──────────────────────────────────────────────
const gc = { count: 0, total_ms: 0, max_ms: 0 }
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.kinds ??= {}; const k = e.detail?.kind ?? e.kind; const rec = (gc.kinds[k] ??= { n: 0, total: 0, max: 0, over5: 0 }); rec.n++; rec.total += e.duration; if (e.duration > rec.max) rec.max = e.duration; if (e.duration > 5) rec.over5++
    gc.count++
    gc.total_ms += e.duration
    if (e.duration > gc.max_ms) gc.max_ms = e.duration
  }
}).observe({ entryTypes: ['gc'] })

// ─── Latency histogram: 0.1 ms buckets up to 60 s, exact max ─────────────────────────────
class Histogram {
  constructor() {
    this.buckets = new Uint32Array(600_000)
    this.n = 0
    this.max = 0
    this.sum = 0
  }
  record(ms) {
    if (ms < 0) ms = 0
    const b = Math.min(this.buckets.length - 1, Math.floor(ms * 10))
    this.buckets[b]++
    this.n++
    this.sum += ms
    if (ms > this.max) this.max = ms
  }
  quantile(q) {
    if (this.n === 0) return null
    const want = Math.ceil(q * this.n)
    let seen = 0
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i]
      if (seen >= want) return Math.min((i + 1) / 10, this.max)
    }
    return this.max
  }
}

/** A sink that records, per record, write time − record.ts (the generator's scheduled time). */
function latencySink(hist, from) {
  return defineSink({
    type: 'latency',
    status: 'alpha',
    summary: 'Record end-to-end latency of each record (benchmark).',
    options: z.strictObject({
      field: z.string().default('ts'),
      batch: batchOptions({ max_records: 1000, max_bytes: '1MiB', linger: '5ms' }),
      retry: retryOptions(),
    }),
    build: (o) => ({
      write(records) {
        const now = performance.timeOrigin + performance.now()
        for (const r of records) {
          const t = Date.parse(r[o.field])
          if (t >= from) hist.record(now - t)
        }
      },
      close() {},
    }),
  })
}

/** A sink that only counts (the aggregate branch of W3). */
const countSink = defineSink({
  type: 'count',
  status: 'alpha',
  summary: 'Count records (benchmark).',
  options: z.strictObject({ batch: batchOptions({ max_records: 1000, max_bytes: '1MiB', linger: '5ms' }), retry: retryOptions() }),
  build: () => ({ write() {}, close() {} }),
})

// memory_limit (bytes) when run.ts started node with its heap flags: the run checks they match.
const SETTINGS = {
  data_dir: process.env.DATA_DIR ?? 'bench/data/sluice-state',
  ...(process.env.MEMORY_LIMIT && { memory_limit: `${process.env.MEMORY_LIMIT}B` }),
}

const FIELDS = {
  id: 'sequence',
  ts: 'timestamp',
  user_id: { kind: 'int', min: 1, max: 100000 },
  country: { kind: 'choice', values: ['US', 'DE', 'FR', 'GB', 'JP', 'BR', 'IN', 'CA', 'AU', 'ES'] },
  event: { kind: 'choice', values: ['view', 'click', 'scroll', 'search', 'cart', 'checkout', 'purchase', 'logout'] },
  amount: { kind: 'float', min: 0, max: 500, decimals: 2 },
  latency_ms: { kind: 'int', min: 1, max: 2000 },
  ua: { kind: 'choice', values: ['Mozilla/5.0', 'curl/8.5.0', 'Mozilla/5.0 (X11, Linux x86_64)'] },
}

const rssSamples = []
const t0 = performance.now()
const cpu0 = process.cpuUsage()
const sampler = setInterval(() => {
  rssSamples.push({ t: (performance.now() - t0) / 1000, rss_mb: process.memoryUsage.rss() / 1048576 })
}, 1000)

if (mode === 'w3') {
  const rate = Number(args[0])
  const seconds = Number(args[1])
  const warmup = Number(args[2] ?? 2)
  const hist = new Histogram()
  const from = Date.now() + warmup * 1000
  const registry = builtins.with(latencySink(hist, from), countSink)
  const stats = new RunStats()
  const result = await pipeline(SETTINGS, registry)
    .source('gen', { type: 'generator', rate, count: Math.round(rate * seconds), format: 'json', fields: FIELDS })
    .transform('parsed', { type: 'parse', inputs: ['gen'], format: 'json' })
    .transform('mapped', { type: 'map', inputs: ['parsed'], set: { amount_cents: 'round(amount * 100.0)' } })
    .transform('per_second', {
      type: 'aggregate', inputs: ['mapped'], group_by: ['country'], window: { type: 'tumbling', size: '1s' }, time_field: 'ts',
      aggregations: { count: 'count()', revenue: 'sum(amount)', p99_latency: 'p99(latency_ms)' },
    })
    .sink('passthrough', { type: 'latency', inputs: ['mapped'] })
    .sink('windows', { type: 'count', inputs: ['per_second'] })
    // Fresh state, as the YAML workloads run with --reset: a previous rate's run ended its input
    // and saved the aggregate's end-of-input watermark, which made every record of this run late.
    .run({ stats, reset: true })
  clearInterval(sampler)
  if (process.env.HEAPSAMPLE) { const { profile } = await session.post('HeapProfiler.stopSampling'); writeFileSync(process.env.HEAPSAMPLE, JSON.stringify(profile)) }
  const wall = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const r2 = (x) => (x === null ? null : Math.round(x * 100) / 100)
  console.log(JSON.stringify({
    status: result.status ?? 'ok', rate, seconds, warmup_s: warmup,
    produced: stats.get('gen').sent, written: stats.get('passthrough').sent, windows_rows: stats.get('windows').sent,
    achieved_rate: Math.round(stats.get('gen').sent / wall),
    latency_ms: { n: hist.n, p50: r2(hist.quantile(0.5)), p99: r2(hist.quantile(0.99)), p999: r2(hist.quantile(0.999)), max: r2(hist.max), mean: r2(hist.sum / hist.n) },
    gc: { count: gc.count, total_ms: r2(gc.total_ms), max_ms: r2(gc.max_ms), kinds: gc.kinds },
    peak_rss_mb: r2(process.resourceUsage().maxRSS / 1024),
    wall_s: r2(wall), cpu_s: r2((cpu.user + cpu.system) / 1e6),
  }))
} else if (mode === 'w4') {
  const targetBytes = Number(args[0])
  const out = args[1] ?? '/dev/null'
  const stats = new RunStats()
  // The generator runs unbounded; the run stops (a clean shutdown: drain, commit) once it has
  // produced targetBytes. A record count estimated from a sample message undershot by 4%.
  const stop = new AbortController()
  const samples = []
  clearInterval(sampler)
  let lastBytes = 0
  let lastT = performance.now()
  const sampler4 = setInterval(() => {
    const now = performance.now()
    const gen = stats.components.get('gen')
    const bytes = gen ? gen.bytes : 0
    if (bytes >= targetBytes) stop.abort()
    samples.push({
      t: Math.round((now - t0) / 100) / 10, gb: bytes / 1e9, rss_mb: Math.round(process.memoryUsage.rss() / 104857.6) / 10,
      mb_per_s: Math.round(((bytes - lastBytes) / 1e6 / ((now - lastT) / 1000)) * 10) / 10,
    })
    lastBytes = bytes
    lastT = now
  }, 1000)
  const result = await pipeline(SETTINGS)
    .source('gen', { type: 'generator', format: 'json', batch_size: 2000, fields: FIELDS })
    .transform('parsed', { type: 'parse', inputs: ['gen'], format: 'json' })
    .transform('kept', { type: 'filter', inputs: ['parsed'], condition: 'amount > 250.0 && event != "logout"' })
    .sink('out', { type: 'file', inputs: ['kept'], path: out, format: 'jsonl', append: true })
    .run({ stats, signal: stop.signal, reset: true })
  clearInterval(sampler4)
  const wall = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const gen = stats.get('gen')
  console.log(JSON.stringify({
    status: result.status ?? 'ok', records: gen.sent, bytes: gen.bytes, written: stats.get('out').sent,
    wall_s: wall, cpu_s: (cpu.user + cpu.system) / 1e6, peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    gc: { count: gc.count, total_ms: gc.total_ms, max_ms: gc.max_ms }, samples,
  }))
} else {
  console.error('usage: sluice-stream.mjs w3 <rate> <seconds> [warmup_s] | w4 <bytes> [out]')
  process.exit(2)
}
process.exit(0)
