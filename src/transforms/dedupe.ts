/** The `dedupe` transform: drops records whose key was seen recently (within a time window, or among the last `max_keys` keys). */
import { defineTransform, type StatefulInput, type StatefulTransform } from '../component/define.js'
import { duration, z } from '../component/options.js'
import type { Rec } from '../core/batch.js'
import { RecordError, SluiceError } from '../core/errors.js'

const fieldName = z.string().min(1)

const options = z
  .strictObject({
    key: z
      .array(fieldName)
      .min(1)
      .meta({
        description:
          'Fields whose values together identify a record. Values compare as text (`42` equals `"42"`); objects and lists compare by ' +
          'their JSON. A record missing one of these fields (or with a null there) is passed on unchanged and not remembered.',
      }),
    within: duration(
      'How long a key is remembered after the record that was kept: a record with the same key within this time is dropped, one after ' +
        'it is kept (and starts a new window). Measured in event time with `time_field`, else in processing time. Without `within`, ' +
        'a key is remembered until `max_keys` pushes it out.',
    ).optional(),
    time_field: fieldName.optional().meta({
      description:
        'Field holding the event time (an ISO-8601 string, or epoch seconds or milliseconds: numbers below 100,000,000,000 are seconds). ' +
        'Needs `within`. A record without a readable time goes to the dead-letter output.',
    }),
    max_keys: z.number().int().positive().default(1_000_000).meta({
      description:
        'Most keys remembered. Beyond it the key remembered longest (least recently seen without `within`) is forgotten, so memory stays ' +
        'bounded; a duplicate of a forgotten key is then passed on.',
    }),
  })
  .superRefine((o, ctx) => {
    if (o.time_field !== undefined && o.within === undefined) {
      ctx.addIssue({ code: 'custom', path: ['time_field'], message: '`time_field` needs `within`, the time a key is remembered' })
    }
  })

export type DedupeOptions = z.output<typeof options>

type Mode = 'lru' | 'processing_time' | 'event_time'

/** The JSON the state is saved as at a checkpoint barrier. */
export interface DedupeSnapshot {
  version: 1
  mode: Mode
  /** Duplicates dropped since the first start. */
  duplicates: number
  /** Keys forgotten to stay within `max_keys`. */
  evicted: number
  /** Highest event time seen (event-time mode), else null. */
  max_event_time: number | null
  /** `[key, time]` pairs, oldest first: the time the key's window started (ms), or when it was last seen (LRU mode). */
  keys: [string, number][]
}

const SEP = '\u0000'
/** Bytes a remembered key costs besides its text: Map entry, boxed number, string header (estimate). */
const ENTRY_OVERHEAD = 80

/**
 * The keys are one Map from key text to a time. Its insertion order is the eviction order: in
 * LRU mode a duplicate moves its key to the end; in time modes a key moves to the end when a new
 * window starts for it, so the first entries are the oldest windows and expiry stops at the first
 * entry still open.
 */
export class Dedupe implements StatefulTransform {
  readonly kind = 'stateful'
  readonly #id: string
  readonly #fields: readonly string[]
  readonly #within: number
  readonly #timeField: string | undefined
  readonly #maxKeys: number
  readonly #mode: Mode
  #keys = new Map<string, number>()
  #keyChars = 0
  #duplicates = 0
  #evicted = 0
  #maxEventTime = -Infinity

  constructor(id: string, opts: DedupeOptions) {
    this.#id = id
    this.#fields = opts.key
    this.#within = opts.within ?? Infinity
    this.#timeField = opts.time_field
    this.#maxKeys = opts.max_keys
    this.#mode = opts.within === undefined ? 'lru' : opts.time_field === undefined ? 'processing_time' : 'event_time'
  }

  process(records: Rec[], input: StatefulInput): Rec[] {
    const out: Rec[] = []
    const keys = this.#keys
    const within = this.#within
    const mode = this.#mode
    if (mode === 'processing_time') this.#expire(input.now)
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!
      const key = this.#keyOf(record)
      if (key === undefined) {
        out.push(record)
        continue
      }
      if (mode === 'lru') {
        const seen = keys.get(key)
        if (seen !== undefined) {
          keys.delete(key)
          keys.set(key, input.now)
          this.#duplicates++
          continue
        }
        this.#remember(key, input.now)
        out.push(record)
        continue
      }
      let t: number
      if (mode === 'event_time') {
        const parsed = parseEventTime(record[this.#timeField!])
        if (parsed === undefined) {
          input.reject(
            i,
            new RecordError('SLC_RECORD_TRANSFORM', `dedupe "${this.#id}": field "${this.#timeField}" holds no timestamp (${preview(record[this.#timeField!])})`),
          )
          continue
        }
        t = parsed
        if (t > this.#maxEventTime) this.#maxEventTime = t
      } else {
        t = input.now
      }
      const start = keys.get(key)
      if (start !== undefined && Math.abs(t - start) < within) {
        this.#duplicates++
        continue
      }
      // A new window for this key, unless the record is older than the window remembered (an
      // out-of-order event): it is kept, and the newer window stays.
      if (start === undefined || t > start) {
        if (start !== undefined) {
          keys.delete(key)
          this.#keyChars -= key.length
        }
        this.#remember(key, t)
      }
      out.push(record)
    }
    if (mode === 'event_time') this.#expire(this.#maxEventTime)
    return out
  }

  #keyOf(record: Rec): string | undefined {
    const fields = this.#fields
    let key = ''
    for (let i = 0; i < fields.length; i++) {
      const v = record[fields[i]!]
      if (v === undefined || v === null) return undefined
      const part = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v)
      key = i === 0 ? part : key + SEP + part
    }
    return key
  }

  #remember(key: string, t: number): void {
    const keys = this.#keys
    keys.set(key, t)
    this.#keyChars += key.length
    while (keys.size > this.#maxKeys) {
      const oldest = keys.keys().next().value!
      keys.delete(oldest)
      this.#keyChars -= oldest.length
      this.#evicted++
    }
  }

  /** Forget the keys whose window ended at `now` (processing time) or at the highest event time. */
  #expire(now: number): void {
    if (this.#mode === 'lru' || !Number.isFinite(now)) return
    const within = this.#within
    const keys = this.#keys
    for (const [key, start] of keys) {
      if (now - start < within) break
      keys.delete(key)
      this.#keyChars -= key.length
    }
  }

  tick(nowMs: number): Rec[] {
    if (this.#mode === 'processing_time') this.#expire(nowMs)
    return []
  }

  flush(): Rec[] {
    return []
  }

  /** Duplicates dropped since the first start (carried across restarts by the snapshot). */
  duplicates(): number {
    return this.#duplicates
  }

  /** Keys forgotten to stay within `max_keys`. */
  evicted(): number {
    return this.#evicted
  }

  snapshot(): DedupeSnapshot {
    return {
      version: 1,
      mode: this.#mode,
      duplicates: this.#duplicates,
      evicted: this.#evicted,
      max_event_time: Number.isFinite(this.#maxEventTime) ? this.#maxEventTime : null,
      keys: [...this.#keys],
    }
  }

  restore(state: unknown): void {
    const s = state as Partial<DedupeSnapshot> | null
    if (s === null || typeof s !== 'object' || s.version !== 1 || !Array.isArray(s.keys)) {
      throw new SluiceError('SLC_CHECKPOINT', `dedupe "${this.#id}": the saved state is not a dedupe snapshot (version 1)`)
    }
    this.#keys = new Map()
    this.#keyChars = 0
    this.#duplicates = typeof s.duplicates === 'number' ? s.duplicates : 0
    this.#evicted = typeof s.evicted === 'number' ? s.evicted : 0
    this.#maxEventTime = typeof s.max_event_time === 'number' ? s.max_event_time : -Infinity
    // The times of a snapshot taken in another mode may be of another clock: LRU and processing-time
    // times are both the runtime clock, event times are not. Keys whose times mean nothing here
    // are not restored (the config changed; the counters still carry over).
    const processingClock = (m: unknown) => m === 'lru' || m === 'processing_time'
    const sameClock = s.mode === this.#mode || this.#mode === 'lru' || (processingClock(s.mode) && processingClock(this.#mode))
    if (!sameClock) return
    for (const entry of s.keys) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number' || !Number.isFinite(entry[1])) continue
      this.#remember(entry[0], entry[1]) // oldest first: a smaller max_keys keeps the newest
    }
  }

  stateSize(): { keys: number; bytes: number } {
    return { keys: this.#keys.size, bytes: this.#keys.size * ENTRY_OVERHEAD + this.#keyChars * 2 }
  }
}

// ─── Event time ───────────────────────────────────────────────────────────────────────────

// Below this an epoch number is seconds (1e11 s is the year 5138), above it milliseconds.
const EPOCH_MS_THRESHOLD = 1e11

/**
 * Milliseconds since the epoch of a timestamp value: epoch seconds/milliseconds (numbers or
 * numeric strings), or an ISO-8601 string; undefined when it is none of these. The canonical
 * form `2026-01-01T00:00:03.500Z` is read digit by digit (no Date.parse).
 */
export function parseEventTime(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? (Math.abs(v) < EPOCH_MS_THRESHOLD ? v * 1000 : v) : undefined
  if (typeof v !== 'string') return v instanceof Date && !Number.isNaN(v.getTime()) ? v.getTime() : undefined
  const fast = parseCanonicalIso(v)
  if (fast !== undefined) return Number.isNaN(fast) ? undefined : fast
  const s = v.trim()
  if (s === '') return undefined
  if (/^[+-]?\d+(?:\.\d+)?$/.test(s)) return parseEventTime(Number(s))
  // Date.parse reads a date-time without zone as local time: only accept strings with a zone or a bare date.
  if (/T|\s\d/.test(s) && !/(Z|[+-]\d{2}(:?\d{2})?)$/i.test(s)) {
    const t = Date.parse(`${s.replace(' ', 'T')}Z`)
    return Number.isNaN(t) ? undefined : t
  }
  const t = Date.parse(s)
  return Number.isNaN(t) ? undefined : t
}

const digit = (s: string, i: number): number => {
  const c = s.charCodeAt(i) - 48
  return c >= 0 && c <= 9 ? c : NaN
}

/**
 * `YYYY-MM-DDTHH:MM:SS[.fff]Z` in ms; NaN for that shape with an impossible date (2026-02-31, which
 * Date.parse would roll over into March); undefined for any other shape (the caller falls back).
 */
function parseCanonicalIso(s: string): number | undefined {
  const n = s.length
  if (n < 20 || s.charCodeAt(n - 1) !== 90 /* Z */ || s[4] !== '-' || s[7] !== '-' || s[10] !== 'T' || s[13] !== ':' || s[16] !== ':') return undefined
  const year = digit(s, 0) * 1000 + digit(s, 1) * 100 + digit(s, 2) * 10 + digit(s, 3)
  const month = digit(s, 5) * 10 + digit(s, 6)
  const day = digit(s, 8) * 10 + digit(s, 9)
  const hour = digit(s, 11) * 10 + digit(s, 12)
  const minute = digit(s, 14) * 10 + digit(s, 15)
  const second = digit(s, 17) * 10 + digit(s, 18)
  let ms = 0
  if (n > 20) {
    if (s[19] !== '.' || n > 24 || n === 21) return undefined
    let scale = 100
    for (let i = 20; i < n - 1; i++) {
      ms += digit(s, i) * scale
      scale /= 10
    }
  }
  if (Number.isNaN(year + month + day + hour + minute + second + ms)) return undefined
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return NaN
  const t = Date.UTC(year, month - 1, day, hour, minute, second, ms)
  return new Date(t).getUTCDate() === day ? t : NaN
}

function preview(v: unknown): string {
  if (v === undefined) return 'missing'
  let text: string
  try {
    text = JSON.stringify(v) ?? String(v)
  } catch {
    text = String(v)
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

export const dedupe = defineTransform({
  type: 'dedupe',
  status: 'beta',
  summary: 'Drop records whose key was already seen recently; the first occurrence goes on.',
  description:
    'Remembers the `key` of each record it passes on and drops later records with the same key. Three ways to say how long a key ' +
    'is remembered:\n\n' +
    '- **`within` and `time_field`** (event time): a record is a duplicate when its event time is less than `within` from that of the ' +
    'kept record with its key. Keys are forgotten once the highest event time seen has moved `within` past them, so replaying ' +
    'old data gives the same result as the live run.\n' +
    '- **`within` alone** (processing time): a key is remembered for `within` of wall-clock time after the record that was kept.\n' +
    '- **neither**: a key is remembered until `max_keys` newer keys push it out (least recently seen first).\n\n' +
    'A duplicate does not extend the window: after `within`, the next record with the key is kept and starts a new one. ' +
    'In every mode at most `max_keys` keys are kept, the oldest forgotten first, so memory is bounded; a duplicate of a forgotten ' +
    'key is passed on. A record missing a key field (or with null there) is passed on unchanged and not remembered; in event-time ' +
    'mode a record without a readable time goes to the dead-letter output.\n\n' +
    'The remembered keys (with their times) and the count of dropped duplicates are saved at checkpoints and restored on restart, ' +
    'so a record replayed after a crash is recognised as a duplicate of one kept before it.',
  options,
  examples: [
    { title: 'One event per id within ten minutes of event time', yaml: 'type: dedupe\ninputs: [events]\nkey: [event_id]\nwithin: 10m\ntime_field: ts' },
    { title: 'Remember the last 100 000 keys', yaml: 'type: dedupe\ninputs: [orders]\nkey: [order_id, line]\nmax_keys: 100000' },
    { title: 'At most one alert per host and check per minute', yaml: 'type: dedupe\ninputs: [alerts]\nkey: [host, check]\nwithin: 1m' },
  ],
  build(opts, ctx) {
    return new Dedupe(ctx.id, opts)
  },
})
