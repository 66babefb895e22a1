// Output checks of the batch workloads: every engine's output is compared with Sluice's, and a
// mismatch fails the benchmark. Kept apart from run.ts so test/bench/verify.test.ts can prove the
// checks catch what they must (a wrong sum, a missing group, a changed or missing row).
import { createReadStream, readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'

export interface W1Row { count: number; sum_amount: number; avg_latency_ms: number }

export function readW1(path: string): Map<string, W1Row> {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.length > 0)
  const header = lines.shift()!.split(',').map((h) => h.replace(/^"|"$/g, ''))
  const col = (n: string) => {
    const i = header.indexOf(n)
    if (i < 0) throw new Error(`no column ${n} in header ${header.join(',')}`)
    return i
  }
  const [c, n, s, a] = [col('country'), col('count'), col('sum_amount'), col('avg_latency_ms')]
  const rows = new Map<string, W1Row>()
  for (const line of lines) {
    const f = line.split(',').map((v) => v.replace(/^"|"$/g, ''))
    rows.set(f[c]!, { count: Number(f[n]), sum_amount: Number(f[s]), avg_latency_ms: Number(f[a]) })
  }
  return rows
}

/** Equal after rounding to `digits` decimals (a difference under one unit of the last digit passes too, for values at a rounding boundary). */
export function closeEnough(a: number, b: number, digits: number): boolean {
  const f = 10 ** digits
  return Math.round(a * f) === Math.round(b * f) || Math.abs(a - b) < 1 / f
}

export function compareW1(ref: Map<string, W1Row>, got: Map<string, W1Row>): string | null {
  if (ref.size !== got.size) return `${got.size} groups, expected ${ref.size}`
  for (const [k, r] of ref) {
    const g = got.get(k)
    if (!g) return `group ${k} missing`
    if (g.count !== r.count) return `${k}: count ${g.count}, expected ${r.count}`
    if (!closeEnough(g.sum_amount, r.sum_amount, 2)) return `${k}: sum_amount ${g.sum_amount}, expected ${r.sum_amount}`
    if (!closeEnough(g.avg_latency_ms, r.avg_latency_ms, 6)) return `${k}: avg_latency_ms ${g.avg_latency_ms}, expected ${r.avg_latency_ms}`
  }
  return null
}

/** FNV-1a 32-bit with a seed: order-independent fingerprints are sums of these over rows. */
export function fnv(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h
}

/** Order-independent fingerprint of a W2 output: row count and two sums of row hashes. */
export async function fingerprintW2(path: string): Promise<{ rows: number; h1: number; h2: number; bad: number; firstBad?: string }> {
  let rows = 0
  let h1 = 0
  let h2 = 0
  let bad = 0
  let firstBad: string | undefined
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity })
  for await (const line of rl) {
    if (line.length === 0) continue
    rows++
    let canon: string
    try {
      const o = JSON.parse(line)
      canon = `${o.ts}|${o.user_id}|${Number(o.amount).toFixed(2)}|${Math.round(Number(o.amount_cents))}`
      if (typeof o.ts !== 'string' || o.user_id === undefined || o.amount === undefined || o.amount_cents === undefined) throw new Error('missing field')
    } catch {
      bad++
      firstBad ??= line.slice(0, 200)
      canon = line
    }
    h1 = (h1 + fnv(canon, 1)) >>> 0
    h2 = (h2 + fnv(canon, 0x9e3779b9)) >>> 0
  }
  return { rows, h1, h2, bad, firstBad }
}
