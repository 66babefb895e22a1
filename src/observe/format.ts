// Number formatting shared by the progress line and the summary table.

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`
  const m = Math.floor(ms / 60_000)
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`
}

/** Left-aligned text columns and right-aligned numbers, for terminals and logs alike. */
export function renderTable(header: string[], rows: string[][], numeric: boolean[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)))
  const line = (cells: string[]) => cells.map((v, c) => (numeric[c] ? v.padStart(widths[c]!) : v.padEnd(widths[c]!))).join('  ').trimEnd()
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** A value as an error message shows it: JSON (bigints as digits), cut to `max` characters. */
export function previewValue(v: unknown, max = 80): string {
  let text: string
  try {
    text = typeof v === 'bigint' ? v.toString() : (JSON.stringify(v) ?? String(v))
  } catch {
    text = String(v)
  }
  return text.length > max ? `${text.slice(0, max - 3)}...` : text
}
