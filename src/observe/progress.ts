// The live progress line on a terminal: records/s, bytes, % and ETA for bounded inputs.
// Only drawn when stderr is a TTY (CI and pipes get logs and the summary only).
import cliProgress from 'cli-progress'
import type { RunStats } from './stats.js'
import { formatBytes, formatCount } from './format.js'

export interface Progress {
  stop(): void
}

export function startProgress(stats: RunStats, stream: NodeJS.WriteStream = process.stderr, intervalMs = 200): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: ' {bar} {pct} | {records} records | {rate}/s | {bytes} | ETA {eta}',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      noTTYOutput: false,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  )
  bar.start(1, 0, { pct: '  0%', records: '0', rate: '0', bytes: '0 B', eta: '…' })
  let lastRecords = 0
  let lastAt = performance.now()
  let rate = 0
  const timer = setInterval(() => {
    const now = performance.now()
    const { read } = stats.totals()
    const instant = ((read - lastRecords) * 1000) / Math.max(1, now - lastAt)
    rate = rate === 0 ? instant : rate * 0.7 + instant * 0.3
    lastRecords = read
    lastAt = now
    const fraction = stats.bytesTotal > 0 ? Math.min(1, stats.bytesRead / stats.bytesTotal) : 0
    const elapsed = (now - stats.startedAt) / 1000
    const eta = fraction > 0.01 && fraction < 1 ? `${Math.ceil((elapsed / fraction) * (1 - fraction))}s` : fraction >= 1 ? '0s' : '…'
    bar.update(fraction, {
      pct: stats.bytesTotal > 0 ? `${Math.floor(fraction * 100).toString().padStart(3)}%` : ' n/a',
      records: formatCount(read),
      rate: formatCount(Math.round(rate)),
      bytes: formatBytes(stats.bytesRead),
      eta,
    })
  }, intervalMs)
  timer.unref()
  return {
    stop() {
      clearInterval(timer)
      bar.stop()
    },
  }
}
