// The end-of-run summary: records in/out per component, dead letters, duration, rate, peak RSS.
import type { RunResult } from '../core/topology/run.js'
import { formatBytes, formatCount, formatDuration, renderTable } from './format.js'

export function renderSummary(result: RunResult, deadLetterFile?: string): string {
  const { stats } = result
  const rows: string[][] = []
  for (const s of stats.components.values()) {
    if (s.kind === 'dead_letter' && s.received === 0) continue
    rows.push([
      s.id === '_dead_letter' ? '(dead letters)' : s.id,
      s.kind === 'dead_letter' ? 'sink' : s.kind,
      s.type,
      formatCount(s.received),
      formatCount(s.sent),
      formatCount(s.deadLettered),
      s.retries > 0 ? formatCount(s.retries) : '',
    ])
  }
  const order = { source: 0, transform: 1, sink: 2 } as Record<string, number>
  rows.sort((a, b) => order[a[1]!]! - order[b[1]!]!)
  const hasRetries = rows.some((r) => r[6] !== '')
  const header = ['component', 'kind', 'type', 'in', 'out', 'dead-lettered', 'retries']
  const numeric = [false, false, false, true, true, true, true]
  const table = hasRetries
    ? renderTable(header, rows, numeric)
    : renderTable(header.slice(0, 6), rows.map((r) => r.slice(0, 6)), numeric.slice(0, 6))
  const t = stats.totals()
  const seconds = result.durationMs / 1000
  const peakRss = process.resourceUsage().maxRSS * 1024
  const lines = [
    '',
    `Pipeline ${result.status} in ${formatDuration(result.durationMs)}.`,
    '',
    table,
    '',
    `Read ${formatCount(t.read)} records (${formatBytes(stats.bytesRead)}), wrote ${formatCount(t.written)}, dead-lettered ${formatCount(t.deadLettered)}` +
      ` · ${formatCount(seconds > 0 ? t.read / seconds : 0)} records/s · peak RSS ${formatBytes(peakRss)}`,
  ]
  const held = [...stats.components.values()].filter((s) => s.state && s.state.keys > 0)
  if (held.length > 0) lines.push(`State held: ${held.map((s) => `${s.id} ${formatCount(s.state!.keys)} keys (~${formatBytes(s.state!.bytes)})`).join(', ')}`)
  if (t.deadLettered > 0 && deadLetterFile) lines.push(`Dead letters: ${deadLetterFile}`)
  return lines.join('\n') + '\n'
}
