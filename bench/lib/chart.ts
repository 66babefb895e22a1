// Hand-made SVG chart of a benchmark report: per workload, one panel of throughput (W3: p99
// latency) and one of peak RSS, a horizontal bar per engine. No dependencies.

interface Bar { label: string; value: number | null; highlight: boolean; note?: string }
interface Panel { title: string; unit: string; bars: Bar[] }

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function num(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(x >= 1e7 ? 0 : 1)}M`
  if (x >= 1e4) return `${(x / 1e3).toFixed(0)}k`
  if (x >= 100) return x.toFixed(0)
  return x.toFixed(x >= 10 ? 1 : 2)
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function renderSvg(report: any): string {
  const rows: { title: string; panels: [Panel, Panel] }[] = []
  for (const w of report.workloads ?? []) {
    const ok = (w.engines ?? []).filter((e: any) => (e.status === 'ok' || e.status === 'mismatch') && !String(e.engine).startsWith('floor'))
    if (ok.length === 0) continue
    if (w.id === 'W3') {
      const label = (e: any) => `${e.engine} @ ${num(e.rate)}/s`
      rows.push({
        title: w.title,
        panels: [
          { title: 'p99 latency (lower is better)', unit: 'ms', bars: ok.map((e: any) => ({ label: label(e), value: e.latency_ms?.p99 ?? null, highlight: e.engine === 'sluice' })) },
          { title: 'peak RSS (lower is better)', unit: 'MB', bars: ok.map((e: any) => ({ label: label(e), value: e.peak_rss_mb ?? null, highlight: e.engine === 'sluice' })) },
        ],
      })
    } else {
      const label = (e: any) => (e.status === 'mismatch' ? `${e.engine} (MISMATCH)` : e.engine)
      rows.push({
        title: w.title,
        panels: [
          { title: 'throughput (higher is better)', unit: 'records/s', bars: ok.map((e: any) => ({ label: label(e), value: e.records_per_s ?? null, highlight: e.engine === 'sluice' })) },
          { title: 'peak RSS (lower is better)', unit: 'MB', bars: ok.map((e: any) => ({ label: label(e), value: e.peak_rss_mb ?? null, highlight: e.engine === 'sluice' })) },
        ],
      })
    }
  }
  const W = 1000
  const labelW = 150
  const panelW = (W - 40) / 2
  const barH = 16
  const gap = 4
  let y = 50
  const parts: string[] = []
  for (const row of rows) {
    const n = Math.max(...row.panels.map((p) => p.bars.length))
    parts.push(`<text x="20" y="${y}" class="h2">${esc(row.title)}</text>`)
    y += 10
    row.panels.forEach((p, pi) => {
      const x0 = 20 + pi * (panelW + 20)
      const max = Math.max(1e-9, ...p.bars.map((b) => b.value ?? 0))
      const plotW = panelW - labelW - 60
      parts.push(`<text x="${x0}" y="${y + 12}" class="h3">${esc(p.title)}, ${esc(p.unit)}</text>`)
      p.bars.forEach((b, i) => {
        const by = y + 20 + i * (barH + gap)
        const w = b.value == null ? 0 : Math.max(1, (b.value / max) * plotW)
        parts.push(`<text x="${x0 + labelW - 6}" y="${by + barH - 4}" class="lbl" text-anchor="end">${esc(b.label)}</text>`)
        parts.push(`<rect x="${x0 + labelW}" y="${by}" width="${w.toFixed(1)}" height="${barH}" class="${b.highlight ? 'bar hi' : 'bar'}"/>`)
        parts.push(`<text x="${x0 + labelW + w + 4}" y="${by + barH - 4}" class="val">${b.value == null ? '–' : num(b.value)}</text>`)
      })
    })
    y += 20 + n * (barH + gap) + 30
  }
  const m = report.machine ?? {}
  const H = y + 10
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">
<style>
  .h1 { font-size: 18px; font-weight: 600; fill: #111; }
  .sub { font-size: 11px; fill: #555; }
  .h2 { font-size: 14px; font-weight: 600; fill: #111; }
  .h3 { font-size: 11px; fill: #444; }
  .lbl { font-size: 11px; fill: #222; }
  .val { font-size: 10px; fill: #333; }
  .bar { fill: #9db4cc; }
  .hi { fill: #e8772e; }
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="20" y="22" class="h1">Sluice vs peers — npm run bench${report.quick ? ' --quick' : ''}</text>
<text x="20" y="38" class="sub">${esc(`${report.date ?? ''} · ${m.cpu_model ?? ''}, ${m.cores ?? '?'} cores, ${m.memory_gb ?? '?'} GiB · git ${String(m.git_sha ?? '').slice(0, 10)} · medians of ${report.parameters?.runs ?? '?'} interleaved runs · Sluice in orange`)}</text>
${parts.join('\n')}
</svg>
`
}
