// How every batch-style workload (W1, W2, K1, K2) turns an engine's runs into its table row:
// medians of the runs, input rate over the median wall time, and ratios against Sluice.

export const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export const round = (x: number, d = 2): number | null => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : null)

export interface RunMeasure {
  wall_s: number
  cpu_s: number
  peak_rss_mb: number
}

export interface SummarizedRow {
  runs?: RunMeasure[]
  wall_s?: number | null
  cpu_s?: number | null
  peak_rss_mb?: number | null
  records_per_s?: number | null
  mb_per_s?: number | null
  ratio_vs_sluice?: { wall: number | null; cpu: number | null; peak_rss: number | null } | null
}

/** Fills the medians and rates of every row with runs (input `records` and `bytes` over the median wall time), then the ratios to the `sluice` row. */
export function summarizeRuns(results: Map<string, SummarizedRow>, records: number, bytes: number): void {
  for (const r of results.values()) {
    if (!r.runs || r.runs.length === 0) continue
    const wall = median(r.runs.map((x) => x.wall_s))
    r.wall_s = round(wall, 3)
    r.cpu_s = round(median(r.runs.map((x) => x.cpu_s)), 2)
    r.peak_rss_mb = round(median(r.runs.map((x) => x.peak_rss_mb)), 1)
    r.records_per_s = round(records / wall, 0)
    r.mb_per_s = round(bytes / 1e6 / wall, 1)
  }
  const s = results.get('sluice')
  for (const r of results.values()) {
    if (!s?.wall_s || !r.wall_s) continue
    r.ratio_vs_sluice = {
      wall: round(r.wall_s / s.wall_s, 3),
      cpu: s.cpu_s && r.cpu_s ? round(r.cpu_s / s.cpu_s, 3) : null,
      peak_rss: s.peak_rss_mb && r.peak_rss_mb ? round(r.peak_rss_mb / s.peak_rss_mb, 3) : null,
    }
  }
}
