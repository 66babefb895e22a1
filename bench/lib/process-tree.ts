// The memory a measured command holds when it is more than one process: `sluice run` under
// `memory_limit` runs the pipeline in a child node and waits for it (src/cli/launch.ts), and
// time(1)'s peak RSS is the largest process's alone. Sampled from /proc: the largest RSS in the
// tree plus the private pages of every other process in it (what a cgroup would charge on top:
// the node binary's pages are shared and counted once), peak over the samples.
import { readFileSync } from 'node:fs'

const SAMPLE_MS = 100

export interface TreeMemory {
  /** Peak of (largest RSS + the other processes' private memory), MB; NaN if nothing was sampled. */
  peakMb: number
  /** Most processes seen at once below the root. */
  processes: number
}

/** Start sampling the descendants of `rootPid` (not the root itself: time(1)); `stop` returns the peak. */
export function sampleTreeMemory(rootPid: number): { stop(): TreeMemory } {
  let peakKb = NaN
  let processes = 0
  const sample = () => {
    const pids = descendants(rootPid)
    if (pids.length === 0) return
    processes = Math.max(processes, pids.length)
    let largest = 0
    let privateSum = 0
    let privateOfLargest = 0
    for (const pid of pids) {
      const m = memoryOf(pid)
      if (m === undefined) continue
      privateSum += m.privateKb
      if (m.rssKb > largest) {
        largest = m.rssKb
        privateOfLargest = m.privateKb
      }
    }
    const kb = largest + privateSum - privateOfLargest
    if (!(kb <= peakKb)) peakKb = kb
  }
  const timer = setInterval(sample, SAMPLE_MS)
  return {
    stop() {
      clearInterval(timer)
      return { peakMb: peakKb / 1024, processes }
    },
  }
}

function descendants(pid: number): number[] {
  const out: number[] = []
  const walk = (p: number) => {
    let children: string
    try {
      children = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8')
    } catch {
      return
    }
    for (const c of children.split(' ')) {
      if (c === '' || c === '\n') continue
      const child = Number(c)
      out.push(child)
      walk(child)
    }
  }
  walk(pid)
  return out
}

function memoryOf(pid: number): { rssKb: number; privateKb: number } | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8')
  } catch {
    return undefined // it exited between the listing and now
  }
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0)
  return { rssKb: field('Rss'), privateKb: field('Private_Clean') + field('Private_Dirty') }
}
