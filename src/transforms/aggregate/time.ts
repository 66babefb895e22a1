// Event time of a record: ISO-8601 strings (a fast path for the canonical UTC form, then
// Date.parse) or epoch numbers. Returns NaN when the value is not a time.

export type TimeFormat = 'auto' | 'iso' | 'epoch_s' | 'epoch_ms'

/** Below this an epoch number is seconds (1e11 s is the year 5138), above it milliseconds. */
export const EPOCH_MS_THRESHOLD = 1e11
const NUMERIC_RE = /^\s*[+-]?\d+(?:\.\d+)?\s*$/
const NO_ZONE_RE = /^\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*$/

const DATE_RE = /^\s*(\d{4})-(\d{2})-(\d{2})/

function validDate(y: number, m: number, d: number): boolean {
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
  return m >= 1 && m <= 12 && d >= 1 && d <= (m === 2 && leap ? 29 : DAYS_IN_MONTH[m - 1]!)
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/**
 * `YYYY-MM-DDTHH:MM:SS[.fff…]Z` without Date: digits are read with charCodeAt and the day number
 * comes from Howard Hinnant's days_from_civil. NaN when the string is not in exactly that form
 * (the caller then tries Date.parse).
 */
export function parseCanonicalIso(s: string): number {
  const n = s.length
  if (n < 20 || n > 30 || s.charCodeAt(n - 1) !== 90 /* Z */) return NaN
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return NaN
  const y = d4(s, 0)
  const mo = d2(s, 5)
  const d = d2(s, 8)
  const h = d2(s, 11)
  const mi = d2(s, 14)
  const sec = d2(s, 17)
  if (y < 0 || h > 23 || mi > 59 || sec > 59 || h < 0 || mi < 0 || sec < 0 || !validDate(y, mo, d)) return NaN
  let ms = 0
  if (n > 20) {
    if (s.charCodeAt(19) !== 46 /* . */ || n === 21) return NaN
    // Milliseconds from the first three fraction digits; further digits must still be digits.
    let scale = 100
    for (let i = 20; i < n - 1; i++) {
      const c = s.charCodeAt(i) - 48
      if (c < 0 || c > 9) return NaN
      if (scale >= 1) {
        ms += c * scale
        scale /= 10
      }
    }
  } else if (s.charCodeAt(19) !== 90) return NaN
  // days_from_civil
  const yy = mo <= 2 ? y - 1 : y
  const era = Math.floor(yy / 400)
  const yoe = yy - era * 400
  const doy = Math.floor((153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  const days = era * 146097 + doe - 719468
  return days * 86_400_000 + h * 3_600_000 + mi * 60_000 + sec * 1000 + ms
}

function d2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48
  const b = s.charCodeAt(i + 1) - 48
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1
}

function d4(s: string, i: number): number {
  const a = d2(s, i)
  const b = d2(s, i + 2)
  return a < 0 || b < 0 ? -1 : a * 100 + b
}

function fromEpoch(n: number, format: TimeFormat): number {
  if (!Number.isFinite(n)) return NaN
  if (format === 'epoch_s') return n * 1000
  if (format === 'epoch_ms') return n
  return Math.abs(n) < EPOCH_MS_THRESHOLD ? n * 1000 : n
}

/** Milliseconds since the epoch, or NaN. */
export function parseEventTime(v: unknown, format: TimeFormat): number {
  if (typeof v === 'string') {
    if (format === 'auto' || format === 'iso') {
      const t = parseCanonicalIso(v)
      if (t === t) return t
      if (format === 'auto' && NUMERIC_RE.test(v)) return fromEpoch(Number(v), format)
      // Date.parse rolls impossible dates over (February 30 → March 1): refuse them.
      const date = DATE_RE.exec(v)
      if (date !== null && !validDate(Number(date[1]), Number(date[2]), Number(date[3]))) return NaN
      // Date.parse reads a date-time without a zone as local time: Sluice reads it as UTC.
      if (NO_ZONE_RE.test(v)) return Date.parse(`${v.trim().replace(' ', 'T')}Z`)
      return Date.parse(v)
    }
    return NUMERIC_RE.test(v) ? fromEpoch(Number(v), format) : NaN
  }
  if (typeof v === 'number') return format === 'iso' ? NaN : fromEpoch(v, format)
  if (v instanceof Date) return v.getTime()
  return NaN
}

/** ISO-8601 UTC with milliseconds; very large or small times still print. */
export function iso(ms: number): string {
  return new Date(ms).toISOString()
}
