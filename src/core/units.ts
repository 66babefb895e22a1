// Durations and byte sizes as users write them ("200ms", "4MiB"). Free of option schemas, so
// the CLI launcher can read `memory_limit` without loading the engine (cli/launch.ts).

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
export const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/
const SIZE_UNITS: Record<string, number> = {
  B: 1, KB: 1e3, MB: 1e6, GB: 1e9, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3,
}
export const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)$/

/** Parse "200ms", "1.5s", "2m" into milliseconds; throws on anything else. */
export function parseDuration(text: string): number {
  const m = DURATION_RE.exec(text.trim())
  if (!m) throw new Error(`expected a duration such as "200ms", "5s" or "1m", found "${text}"`)
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2]!]!)
}

/** Parse "4MiB", "64KiB", "1GB" into bytes; throws on anything else. */
export function parseByteSize(text: string): number {
  const m = SIZE_RE.exec(text.trim())
  if (!m) throw new Error(`expected a size such as "64KiB", "4MiB" or "1GB", found "${text}"`)
  return Math.round(Number(m[1]) * SIZE_UNITS[m[2]!]!)
}
