// `sluice run --profile`: a V8 CPU profile of the run, taken in-process through `node:inspector`,
// written as a `.cpuprofile` (open it in Chrome DevTools → Performance, or speedscope) and as a
// self-contained SVG flamegraph (open it in a browser: hover for a frame's time, click to zoom).
// Chunk worker threads (core/threads/) sample themselves too while a profile runs: each gets a
// `.cpuprofile` of its own, and the flamegraph shows every thread side by side under the root.
import { mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'

/** The subset of V8's Profiler.Profile this module reads. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; children?: number[] }[]
  startTime: number
  endTime: number
  samples?: number[]
  timeDeltas?: number[]
}

export interface ProfileFiles {
  cpuprofile: string
  flamegraph: string
  /** One `.cpuprofile` per chunk worker thread that ran during the profile. */
  threads: string[]
}

export interface RunningProfile {
  /** Stop sampling and write `<dir>/<name>.cpuprofile` and `<dir>/<name>.svg` (once; later calls return the same files). */
  stop(): Promise<ProfileFiles>
}

/** A CPU profile of one thread, named for the flamegraph. */
export interface ThreadProfile {
  thread: string
  profile: CpuProfile
}

export interface CpuSampling {
  /** Stop sampling: the profile from the start. */
  stop(): Promise<CpuProfile>
}

/**
 * Sample the CPU of the calling thread (the main thread, or a worker thread: a session connects
 * to its own thread's inspector) every `intervalUs` µs.
 */
export async function sampleCpu(intervalUs: number): Promise<CpuSampling> {
  // Loaded here: node:inspector takes ~2 ms to load, and only --profile needs it.
  const { Session } = createRequire(import.meta.url)('node:inspector') as typeof import('node:inspector')
  const session = new Session()
  session.connect()
  const post = <T = unknown>(method: string, params?: object) =>
    new Promise<T>((ok, fail) => session.post(method, params ?? {}, (err, res) => (err ? fail(err) : ok(res as T))))
  await post('Profiler.enable')
  await post('Profiler.setSamplingInterval', { interval: intervalUs })
  await post('Profiler.start')
  return {
    async stop() {
      try {
        return (await post<{ profile: CpuProfile }>('Profiler.stop')).profile
      } finally {
        session.disconnect()
      }
    },
  }
}

/** The profile running in this process, which chunk worker threads join (see workerProfiling). */
let running: { intervalUs: number; threads: ThreadProfile[] } | undefined

/** The interval chunk workers sample at while `sluice run --profile` runs; undefined otherwise. */
export function workerProfiling(): number | undefined {
  return running?.intervalUs
}

/** Hand in a worker thread's profile (core/threads/pool.ts collects it before the worker stops). */
export function addThreadProfile(thread: ThreadProfile): void {
  running?.threads.push(thread)
}

/**
 * Start sampling the CPU of this thread, and of the chunk worker threads that start while it
 * runs. `intervalUs` is V8's sampling interval (default 1000 µs: overhead of a few per cent;
 * finer intervals cost more).
 */
export async function startProfile(dir: string, name = `sluice-${timestamp()}`, intervalUs = 1000): Promise<RunningProfile> {
  const out = resolve(dir)
  mkdirSync(out, { recursive: true })
  const sampling = await sampleCpu(intervalUs)
  const threads: ThreadProfile[] = []
  running = { intervalUs, threads }
  let stopped: Promise<ProfileFiles> | undefined
  const stop = async (): Promise<ProfileFiles> => {
    running = undefined
    const profile = await sampling.stop()
    const files: ProfileFiles = { cpuprofile: join(out, `${name}.cpuprofile`), flamegraph: join(out, `${name}.svg`), threads: [] }
    writeFileSync(files.cpuprofile, JSON.stringify(profile))
    for (const t of threads) {
      const file = join(out, `${name}.${t.thread.replace(/[^\w.-]+/g, '-')}.cpuprofile`)
      writeFileSync(file, JSON.stringify(t.profile))
      files.threads.push(file)
    }
    const all = threads.length > 0 ? [{ thread: 'main thread', profile }, ...threads] : profile
    writeFileSync(files.flamegraph, renderFlamegraph(all, { title: `Sluice CPU profile — ${name}${threads.length > 0 ? ` (${threads.length + 1} threads)` : ''}` }))
    return files
  }
  return { stop: () => (stopped ??= stop()) }
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
}

interface Frame {
  name: string
  where: string
  self: number
  total: number
  children: Map<string, Frame>
}

/**
 * Merge the profile into a call tree of frames keyed by function and location, with self and
 * total time in µs. `(idle)` and `(program)` stay as they are: they say the thread waited.
 */
export function callTree(profile: CpuProfile): Frame {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfUs = new Map<number, number>()
  const samples = profile.samples ?? []
  const deltas = profile.timeDeltas ?? []
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; the sample stands for the interval after it.
    const d = Math.max(0, deltas[i + 1] ?? 0)
    selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + d)
  }
  const root: Frame = { name: 'all', where: '', self: 0, total: 0, children: new Map() }
  const walk = (id: number, into: Frame, depth: number) => {
    const node = byId.get(id)
    if (!node || depth > 512) return
    const cf = node.callFrame
    const isRoot = cf.functionName === '(root)'
    let frame = into
    if (!isRoot) {
      const name = cf.functionName || '(anonymous)'
      const where = cf.url ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}:${cf.columnNumber + 1}` : ''
      const key = `${name} ${where}`
      frame = into.children.get(key) ?? { name, where, self: 0, total: 0, children: new Map() }
      into.children.set(key, frame)
    }
    frame.self += selfUs.get(id) ?? 0
    for (const c of node.children ?? []) walk(c, frame, depth + 1)
  }
  walk(profile.nodes[0]!.id, root, 0)
  const sum = (f: Frame): number => {
    let t = f.self
    for (const c of f.children.values()) t += sum(c)
    f.total = t
    return t
  }
  sum(root)
  return root
}

/** One call tree for several threads: under the root, a frame per thread holding its tree. */
export function threadsTree(threads: readonly ThreadProfile[]): Frame {
  const root: Frame = { name: 'all', where: '', self: 0, total: 0, children: new Map() }
  for (const { thread, profile } of threads) {
    const tree = callTree(profile)
    tree.name = thread
    root.children.set(thread, tree)
    root.total += tree.total
  }
  return root
}

function shortUrl(url: string): string {
  const u = url.replace(/^file:\/\//, '')
  const i = u.lastIndexOf('/node_modules/')
  if (i >= 0) return u.slice(i + 1)
  const d = u.lastIndexOf('/dist/')
  if (d >= 0) return u.slice(d + 1)
  const s = u.lastIndexOf('/src/')
  return s >= 0 ? u.slice(s + 1) : u
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** A warm colour per frame, stable for a name; Sluice's own code blue, Node internals grey. */
function colour(f: Frame): string {
  let h = 0
  for (let i = 0; i < f.name.length; i++) h = (h * 31 + f.name.charCodeAt(i)) >>> 0
  if (f.where.startsWith('dist/') || f.where.startsWith('src/')) return `hsl(${200 + (h % 30)},70%,${62 + (h % 14)}%)`
  if (f.where.startsWith('node:') || f.where === '') return `hsl(0,0%,${68 + (h % 14)}%)`
  return `hsl(${20 + (h % 35)},85%,${58 + (h % 14)}%)`
}

/**
 * A self-contained SVG flamegraph (root at the bottom, width ∝ total time). Frames narrower than
 * a tenth of a pixel are left out so the file stays small; an inline script zooms on click.
 */
export function renderFlamegraph(profile: CpuProfile | readonly ThreadProfile[], o: { title?: string; width?: number } = {}): string {
  const root = 'nodes' in profile ? callTree(profile) : threadsTree(profile)
  const W = o.width ?? 1200
  const ROW = 17
  const PAD = 10
  const minUs = root.total / (W * 10)
  const placed: { f: Frame; x: number; w: number; depth: number }[] = []
  let depthMax = 0
  const place = (f: Frame, x: number, depth: number) => {
    depthMax = Math.max(depthMax, depth)
    const w = root.total > 0 ? (f.total / root.total) * (W - 2 * PAD) : W - 2 * PAD
    placed.push({ f, x, w, depth })
    let cx = x
    const kids = [...f.children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const c of kids) {
      if (c.total >= minUs) place(c, cx, depth + 1)
      cx += root.total > 0 ? (c.total / root.total) * (W - 2 * PAD) : 0
    }
  }
  place(root, PAD, 0)
  const H = (depthMax + 1) * ROW + 60
  const pctOf = (us: number) => (root.total > 0 ? ((100 * us) / root.total).toFixed(2) : '0')
  // Root at the bottom: frame depth d sits at y = H - 20 - (d + 1) * ROW.
  const body = placed.map(({ f, x, w, depth }) => {
    const y = H - 20 - (depth + 1) * ROW
    const label = `${f.name}${f.where ? ` (${f.where})` : ''} — total ${(f.total / 1000).toFixed(1)} ms (${pctOf(f.total)}%), self ${(f.self / 1000).toFixed(1)} ms (${pctOf(f.self)}%)`
    return (
      `<g class="f" data-x="${x.toFixed(2)}" data-w="${w.toFixed(2)}" data-d="${depth}"><title>${esc(label)}</title>` +
      `<rect x="${x.toFixed(2)}" y="${y}" width="${Math.max(0.1, w).toFixed(2)}" height="${ROW - 1}" fill="${colour(f)}"/>` +
      `<text x="${(x + 3).toFixed(2)}" y="${y + ROW - 5}">${w > 30 ? esc(truncate(f.name, Math.floor((w - 6) / 7))) : ''}</text></g>`
    )
  })
  const title = esc(o.title ?? 'CPU profile')
  const total = `${(root.total / 1000).toFixed(0)} ms sampled`
  return `<?xml version="1.0" standalone="no"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="monospace" font-size="11">
<style>.f text{pointer-events:none;fill:#000}.f:hover rect{stroke:#000;stroke-width:.5}.f{cursor:pointer}</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="${W / 2}" y="20" text-anchor="middle" font-size="15">${title}</text>
<text x="${W / 2}" y="36" text-anchor="middle" fill="#555">${total}; width = time on CPU including callees; hover for details, click to zoom, click the bottom bar to reset</text>
${body.join('\n')}
<script><![CDATA[
(function(){var W=${W},P=${PAD};var gs=[].slice.call(document.querySelectorAll('g.f'));
function zoom(x0,w0,d0){gs.forEach(function(g){var x=+g.dataset.x,w=+g.dataset.w,d=+g.dataset.d;var r=g.querySelector('rect'),t=g.querySelector('text');
var inside=x>=x0-1e-6&&x+w<=x0+w0+1e-6;var nx=P+(x-x0)/w0*(W-2*P),nw=w/w0*(W-2*P);
if(!inside&&d>=d0){g.style.display='none';return}g.style.display='';if(d<d0){nx=P;nw=W-2*P}
r.setAttribute('x',nx);r.setAttribute('width',Math.max(.1,nw));t.setAttribute('x',nx+3);
var n=g.querySelector('title').textContent.split(' ')[0];var m=Math.floor((nw-6)/7);t.textContent=nw>30?(n.length>m?n.slice(0,Math.max(0,m-1))+'…':n):''})}
gs.forEach(function(g){g.addEventListener('click',function(){zoom(+g.dataset.x,+g.dataset.w,+g.dataset.d)})})})();
]]></script>
</svg>
`
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, Math.max(0, n - 1))}…`
}

/** The functions with the most self time, for a one-screen summary (`[name, where, ms, %]`). */
export function topSelf(profile: CpuProfile, n = 10): { name: string; where: string; ms: number; pct: number }[] {
  const root = callTree(profile)
  const agg = new Map<string, { name: string; where: string; us: number }>()
  const visit = (f: Frame) => {
    if (f !== root) {
      const k = `${f.name} ${f.where}`
      const a = agg.get(k) ?? { name: f.name, where: f.where, us: 0 }
      a.us += f.self
      agg.set(k, a)
    }
    for (const c of f.children.values()) visit(c)
  }
  visit(root)
  return [...agg.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, n)
    .map((a) => ({ name: a.name, where: a.where, ms: a.us / 1000, pct: root.total > 0 ? (100 * a.us) / root.total : 0 }))
}
