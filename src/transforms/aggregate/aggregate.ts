// The running `aggregate` transform: windows keyed by start, groups keyed by a composed string,
// accumulators in flat per-group slot arrays updated by one switch (no closures, no per-record
// arrays on the tumbling path), per-partition watermarks, late-record policies, state bounds,
// JSON snapshots.
//
// Throughput (bench/micro/transforms/aggregate.bench.ts, Node 20.20, one Xeon core, tumbling
// 1m, group_by [country] with 50 values, count + sum + avg, 1M records in batches of 2048,
// best of 5): 14.3–14.9M records/s with epoch-ms times, 9.4–9.6M/s with canonical ISO-8601
// strings. State memory: 341 bytes of heap per (window, group) entry with count + sum (1M
// distinct 11-character groups in a global window: +341 MB heapUsed after GC), which the
// max_state_bytes estimate (GROUP_BYTES below) follows.
import type { FieldUse, StatefulInput, StatefulTransform } from '../../component/define.js'
import { compileExpression, fieldsOf, type CompiledExpression } from '../../component/expression.js'
import type { Rec } from '../../core/batch.js'
import { RecordError } from '../../core/errors.js'
import { PartialRecord, type AggregatePartial } from '../../core/threads/partial.js'
import { parseAggregation, type AggCall } from './functions.js'
import { HyperLogLog } from './hll.js'
import type { AggregateOptions } from './options.js'
import { TDigest, type TDigestState } from './tdigest.js'
import { iso, parseEventTime, type TimeFormat } from './time.js'

// Accumulator kinds (one switch over them updates a group).
const K_COUNT_ALL = 0
const K_COUNT = 1
const K_SUM = 2
const K_AVG = 3
const K_MIN = 4
const K_MAX = 5
const K_FIRST = 6
const K_LAST = 7
const K_DISTINCT = 8
const K_APPROX = 9
const K_PCT = 10
const K_COLLECT = 11

const KIND_OF: Record<AggCall['fn'], number> = {
  count: K_COUNT,
  sum: K_SUM,
  avg: K_AVG,
  min: K_MIN,
  max: K_MAX,
  first: K_FIRST,
  last: K_LAST,
  count_distinct: K_DISTINCT,
  approx_count_distinct: K_APPROX,
  percentile: K_PCT,
  collect: K_COLLECT,
}

// Estimated heap bytes, for max_state_bytes and stateSize(). Measured with
// bench/micro/transforms/aggregate.bench.ts (memory part): an entry with count + sum costs
// ~341 bytes (Map entry and its share of the table, Group object, slot array, key string).
const GROUP_BYTES = 290
const SLOT_BYTES = 8
const SET_ENTRY_BYTES = 40
const HLL_BYTES = 4096 + 200
const DIGEST_POINT_BYTES = 16
const DIGEST_MAX_POINTS = 700
const LIST_ITEM_BYTES = 16

/** Input values of the record being absorbed are read once into a scratch array. */
interface Input {
  field: string | undefined
  expr: CompiledExpression | undefined
  /** sum/avg/percentile read it: numbers only. */
  numeric: boolean
  /** min/max read it: finite numbers or strings. */
  comparable: boolean
  /** The call text of the first aggregation needing a type (for messages). */
  label: string
}

interface Collected {
  v: unknown[]
  s: number[]
}

/** A (window, group) entry: its key, group values, window bounds and accumulator slots. */
class Group {
  key: string
  kv: unknown
  start: number
  end: number
  /** Order of first appearance (ties between rows of the same window_start). */
  ord: number
  n: number[]
  o: unknown[]
  bytes: number
  /** Sessions: emitted and kept for late updates. */
  emitted = false
  constructor(key: string, kv: unknown, start: number, end: number, ord: number, n: number[], o: unknown[], bytes: number) {
    this.key = key
    this.kv = kv
    this.start = start
    this.end = end
    this.ord = ord
    this.n = n
    this.o = o
    this.bytes = bytes
  }
}

/** A tumbling, hopping or global window. */
class Win {
  readonly start: number
  readonly end: number
  readonly groups = new Map<string, Group>()
  emitted = false
  /** Keys emitted early (state bound): later records for them are late. */
  evicted: Set<string> | undefined
  constructor(start: number, end: number) {
    this.start = start
    this.end = end
  }
}

interface Partition {
  max: number
  seen: number
  ended: boolean
}

type BaseSnap = [kv: unknown, ord: number, n: number[], o: unknown[]]
type GroupSnap = BaseSnap | [kv: unknown, ord: number, n: number[], o: unknown[], start: number, end: number, emitted: number]

interface Snapshot {
  v: 1
  /** Configuration fingerprint: window type and aggregations (a changed config cannot restore). */
  cfg: string
  wm: number | string
  floor: number | string
  now: number | string
  seq: number
  ord: number
  flushed: boolean
  partitions: [name: string, max: number | string, seen: number, ended: number][]
  windows?: { s: number | string; e: number | string; em: number; ev?: string[]; g: GroupSnap[] }[]
  sessions?: GroupSnap[]
}

/**
 * Pre-aggregation: a file source's worker threads (core/threads/worker.ts) fold each chunk's records
 * into an Aggregate of their own and send its entries (`takePartial`); this thread's Aggregate
 * merges them in chunk order, so the records never cross threads. Merging must give what adding
 * the records one by one gives: the global window (no watermark, nothing late while the input
 * runs), no time_field, and accumulators with an exact merge and bounded state (count, sum, avg
 * with compensated sums, min, max, approx_count_distinct's registers). first/last need the global
 * record order, count_distinct and collect grow with the records, and percentile digests merge
 * only approximately: those pipelines aggregate on this thread.
 */
const MERGEABLE: ReadonlySet<AggCall['fn']> = new Set<AggCall['fn']>(['count', 'sum', 'avg', 'min', 'max', 'approx_count_distinct'])

/** Whether workers may pre-aggregate for an aggregate with these options (see MERGEABLE). */
export function preaggregable(opts: AggregateOptions): boolean {
  if (opts.window.type !== 'global' || opts.time_field !== undefined) return false
  return Object.values(opts.aggregations).every((text) => {
    const call = parseAggregation(text)
    return typeof call !== 'string' && MERGEABLE.has(call.fn)
  })
}

/**
 * A worker's partial holds at most this many entries, by the state estimate at most this many
 * bytes; a chunk with more groups goes as records (pre-aggregating it would save little). The
 * main Aggregate admits a partial only when every partial out fits under its bounds at these
 * sizes (`reservePartial`), so merging one never meets on_limit, which needs the records.
 */
export const PARTIAL_MAX_KEYS = 4096
export const PARTIAL_MAX_BYTES = 4 * 1024 * 1024

const enc = (x: number): number | string => (Number.isFinite(x) ? x : String(x))
const dec = (x: number | string): number => (typeof x === 'string' ? Number(x) : x)

export class Aggregate implements StatefulTransform {
  readonly kind = 'stateful'
  readonly #id: string
  // Window
  readonly #wtype: 'tumbling' | 'hopping' | 'session' | 'global'
  readonly #size: number
  readonly #slide: number
  readonly #gap: number
  readonly #windowed: boolean
  // Time
  readonly #timeField: string | undefined
  readonly #timeFormat: TimeFormat
  readonly #lateness: number
  readonly #idle: number
  readonly #lateUpdate: boolean
  readonly #retention: number
  // Groups
  readonly #groupFields: string[]
  readonly #singleGroup: string | undefined
  // Aggregations (parallel arrays, one entry per output field)
  readonly #names: string[]
  readonly #kind: Uint8Array
  readonly #input: Int32Array
  readonly #nslot: Int32Array
  /**
   * sum/avg: the slot of the running compensation (Neumaier), after every other slot so that
   * snapshots saved without it restore with 0. Compensated sums hardly depend on the order of
   * addition, so chunks pre-aggregated in worker threads and merged give the sum one thread gives.
   */
  readonly #cslot: Int32Array
  readonly #oslot: Int32Array
  readonly #param: Float64Array
  /** percentile: the aggregation owns its digest (several percentiles of one input share it). */
  readonly #owner: Uint8Array
  readonly #nN: number
  readonly #nO: number
  readonly #inputs: Input[]
  readonly #vals: unknown[]
  readonly #hasExpr: boolean
  readonly #groupBytes: number
  readonly #cfg: string
  // Limits
  readonly #maxKeys: number
  readonly #maxBytes: number
  readonly #onLimit: AggregateOptions['on_limit']

  // ─── State ───
  #windows = new Map<number, Win>()
  #sessions = new Map<string, Group[]>()
  #partitions = new Map<string, Partition>()
  #wm = -Infinity
  /** Windows ending at or before this were emitted early (state bound) and dropped. */
  #floor = -Infinity
  /** max(#wm, #floor): a window ending at or before it is closed. */
  #closed = -Infinity
  #now = -Infinity
  #seq = 0
  #ord = 0
  #keys = 0
  #bytes = 0
  /** In this run the input ended: nothing more is accepted (a next run restores as not ended). */
  #flushed = false
  /** The watermark when the input ended, for the snapshot (#wm is then +∞). */
  #wmAtEnd = -Infinity
  /** Lower bound of the ends of open sessions (and expiries of kept ones): skip scans before it. */
  #sessionScanAt = Infinity
  // The window the last record went to (tumbling fast path).
  #curStart = NaN
  #curWin: Win | undefined
  // Per-call scratch
  #pending: Set<Group> | undefined
  #reject: StatefulInput['reject'] = () => {}
  #index = 0
  /** Partials admitted by `reservePartial` and not yet merged or released. */
  #partialsOut = 0

  constructor(opts: AggregateOptions, id: string) {
    this.#id = id
    const w = opts.window
    this.#wtype = w.type
    this.#size = w.type === 'tumbling' || w.type === 'hopping' ? w.size : 0
    this.#slide = w.type === 'hopping' ? w.slide : this.#size
    this.#gap = w.type === 'session' ? w.gap : 0
    this.#windowed = w.type !== 'global'
    this.#timeField = opts.time_field
    this.#timeFormat = opts.time_format
    this.#lateness = opts.allowed_lateness
    this.#idle = opts.idle_timeout
    this.#lateUpdate = opts.late === 'update'
    this.#retention = opts.late_retention
    this.#groupFields = opts.group_by
    this.#singleGroup = opts.group_by.length === 1 ? opts.group_by[0] : undefined
    this.#maxKeys = opts.max_keys
    this.#maxBytes = opts.max_state_bytes
    this.#onLimit = opts.on_limit

    this.#names = Object.keys(opts.aggregations)
    const m = this.#names.length
    this.#kind = new Uint8Array(m)
    this.#input = new Int32Array(m).fill(-1)
    this.#nslot = new Int32Array(m).fill(-1)
    this.#cslot = new Int32Array(m).fill(-1)
    this.#oslot = new Int32Array(m).fill(-1)
    this.#param = new Float64Array(m)
    this.#owner = new Uint8Array(m)
    this.#inputs = []
    const inputIndex = new Map<string, number>()
    const digestSlot = new Map<number, number>()
    let nN = 0
    let nO = 0
    for (let i = 0; i < m; i++) {
      const name = this.#names[i]!
      const text = opts.aggregations[name]!
      const call = parseAggregation(text)
      if (typeof call === 'string') throw new Error(`aggregate "${id}": aggregations.${name}: ${call}`) // validated before
      let kind = KIND_OF[call.fn]
      if (call.arg === undefined) kind = K_COUNT_ALL
      else {
        let j = inputIndex.get(call.arg)
        if (j === undefined) {
          j = this.#inputs.length
          inputIndex.set(call.arg, j)
          this.#inputs.push({
            field: call.field ? call.arg : undefined,
            expr: call.field ? undefined : compileExpression(call.arg, { component: id, option: `aggregations.${name}`, type: 'aggregate' }),
            numeric: false,
            comparable: false,
            label: text,
          })
        }
        const inp = this.#inputs[j]!
        if ((kind === K_SUM || kind === K_AVG || kind === K_PCT) && !inp.numeric) {
          inp.numeric = true
          inp.label = text
        }
        if ((kind === K_MIN || kind === K_MAX) && !inp.comparable && !inp.numeric) {
          inp.comparable = true
          inp.label = text
        }
        this.#input[i] = j
      }
      this.#kind[i] = kind
      switch (kind) {
        case K_COUNT_ALL:
        case K_COUNT:
          this.#nslot[i] = nN++
          break
        case K_SUM:
        case K_AVG:
          this.#nslot[i] = nN
          nN += 2
          break
        case K_FIRST:
        case K_LAST:
          this.#nslot[i] = nN
          nN += 2
          this.#oslot[i] = nO++
          break
        case K_PCT: {
          this.#param[i] = call.q!
          const shared = digestSlot.get(this.#input[i]!)
          if (shared === undefined) {
            digestSlot.set(this.#input[i]!, nO)
            this.#oslot[i] = nO++
            this.#owner[i] = 1
          } else this.#oslot[i] = shared
          break
        }
        case K_COLLECT:
          this.#param[i] = call.limit!
          this.#oslot[i] = nO++
          break
        default:
          this.#oslot[i] = nO++
      }
    }
    for (let i = 0; i < m; i++) if (this.#kind[i] === K_SUM || this.#kind[i] === K_AVG) this.#cslot[i] = nN++
    this.#nN = nN
    this.#nO = nO
    this.#vals = new Array<unknown>(this.#inputs.length).fill(undefined)
    this.#hasExpr = this.#inputs.some((x) => x.expr !== undefined)
    this.#groupBytes = GROUP_BYTES + SLOT_BYTES * (nN + nO)
    this.#cfg = `${w.type}|${this.#groupFields.join(',')}|${this.#names.map((n) => `${n}=${opts.aggregations[n]}`).join(';')}`
  }

  // ─── Runtime contract ───────────────────────────────────────────────────────────────────

  process(records: Rec[], input: StatefulInput): Rec[] {
    const now = input.now
    if (now > this.#now) this.#now = now
    this.#reject = input.reject
    const first = records.length === 1 ? records[0] : undefined
    const batchMax = first instanceof PartialRecord ? this.#absorbPartial(first.partial) : this.#absorbRecords(records, now)
    if (records.length > 0) {
      let p = this.#partitions.get(input.partition)
      if (p === undefined) {
        p = { max: -Infinity, seen: now, ended: false }
        this.#partitions.set(input.partition, p)
      }
      p.seen = now
      p.ended = false
      if (batchMax > p.max) p.max = batchMax
    }
    this.#advance()
    return this.#drain()
  }

  /** Add records one by one; returns the latest event time among them (-Infinity for none). */
  #absorbRecords(records: Rec[], now: number): number {
    const tf = this.#timeField
    const fmt = this.#timeFormat
    const nIn = this.#inputs.length
    const inputs = this.#inputs
    const vals = this.#vals
    let batchMax = -Infinity
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!
      this.#index = i
      let t: number
      if (tf !== undefined) {
        t = parseEventTime(r[tf], fmt)
        if (t !== t) {
          this.#badTime(r[tf])
          continue
        }
        if (t > batchMax) batchMax = t
      } else t = now
      // Input values, read once; then type checks, before any state changes.
      if (this.#hasExpr) {
        if (!this.#evalInputs(r)) continue
      } else {
        for (let j = 0; j < nIn; j++) vals[j] = r[inputs[j]!.field!]
      }
      if (!this.#checkTypes()) continue
      const seq = this.#seq++
      switch (this.#wtype) {
        case 'tumbling':
          this.#addTumbling(r, t, seq)
          break
        case 'hopping':
          this.#addHopping(r, t, seq)
          break
        case 'session':
          this.#addSession(r, t, seq)
          break
        default:
          this.#addGlobal(r, t, seq)
      }
      this.#emitEarlyOverBound()
    }
    vals.fill(undefined) // do not keep the last record's values alive
    return batchMax
  }

  // ─── Pre-aggregation (see MERGEABLE) ───────────────────────────────────────────────────

  /**
   * Whether one more worker partial may be sent to this aggregate: true (and counted until
   * `releasePartial`) when the state, with every partial out at its largest, stays within
   * max_keys and max_state_bytes, nothing was emitted early and the input has not ended.
   */
  reservePartial(): boolean {
    const out = this.#partialsOut + 1
    const w = this.#windows.get(0)
    if (this.#flushed || (w !== undefined && (w.emitted || w.evicted !== undefined))) return false
    if (this.#keys + out * PARTIAL_MAX_KEYS > this.#maxKeys || this.#bytes + out * PARTIAL_MAX_BYTES > this.#maxBytes) return false
    this.#partialsOut = out
    return true
  }

  /** A reserved partial was merged, came back as records, or was dropped. */
  releasePartial(): void {
    if (this.#partialsOut > 0) this.#partialsOut--
  }

  /**
   * Worker side: the entries taken since the last call, then an empty state. Undefined when they
   * outgrew PARTIAL_MAX_KEYS or PARTIAL_MAX_BYTES (the caller sends the records instead).
   */
  takePartial(received: number): AggregatePartial | undefined {
    const w = this.#windows.get(0)
    const partial = this.partialFits ? { received, groups: w ? [...w.groups.values()].map((g) => this.#snapGroup(g)) : [] } : undefined
    this.#windows = new Map()
    this.#curWin = undefined
    this.#partitions = new Map()
    this.#keys = 0
    this.#bytes = 0
    this.#seq = 0
    this.#ord = 0
    return partial
  }

  /** Worker side: whether the entries taken so far still fit in one partial. */
  get partialFits(): boolean {
    return this.#keys <= PARTIAL_MAX_KEYS && this.#bytes <= PARTIAL_MAX_BYTES
  }

  /** The global window, created on first use. */
  #globalWindow(): Win {
    let w = this.#curWin
    if (w === undefined) {
      w = this.#windows.get(0)
      if (w === undefined) this.#windows.set(0, (w = new Win(0, 0)))
      this.#curWin = w
    }
    return w
  }

  /** Merge a worker's partial: as if its records had arrived here, in order. No event times. */
  #absorbPartial(p: AggregatePartial): number {
    const w = this.#globalWindow()
    this.#seq += p.received
    for (const gs of p.groups as BaseSnap[]) {
      const src = this.#restoreGroup(gs, 0, 0)
      const dst = w.groups.get(src.key)
      if (dst === undefined) {
        src.ord = this.#ord++
        w.groups.set(src.key, src)
      } else {
        this.#keys--
        this.#bytes -= this.#merge(dst, src)
      }
    }
    // reservePartial kept room for this partial; the estimate is checked all the same.
    this.#emitEarlyOverBound()
    return -Infinity
  }

  partitionEnded(partition: string): Rec[] {
    const p = this.#partitions.get(partition)
    if (p !== undefined) p.ended = true
    this.#advance()
    return this.#drain()
  }

  tick(nowMs: number): Rec[] {
    if (nowMs > this.#now) this.#now = nowMs
    this.#advance()
    return this.#drain()
  }

  /**
   * End of input: emit every window and session still open. They stay in the state, marked
   * emitted, and the snapshot keeps the watermark reached before the end: a later run over more
   * input (an appended file, more of a topic) goes on from there. A record for a window emitted
   * here is then late like any other (dead-lettered, or an update with `late: update`), and a
   * global window keeps counting, so its next flush emits totals over all the input, not a
   * partial row that an upsert would take for the whole.
   */
  flush(): Rec[] {
    const pending = this.#pendingSet()
    for (const w of this.#windows.values()) {
      if (w.emitted) continue
      for (const g of w.groups.values()) pending.add(g)
      w.emitted = true
    }
    for (const list of this.#sessions.values()) {
      for (const g of list) {
        if (g.emitted) continue
        pending.add(g)
        g.emitted = true
      }
    }
    this.#wmAtEnd = this.#wm
    this.#wm = Infinity
    this.#closed = Infinity
    this.#flushed = true
    this.#curWin = undefined
    this.#curStart = NaN
    this.#sessionScanAt = Infinity
    return this.#drain()
  }

  stateSize(): { keys: number; bytes: number } {
    return { keys: this.#keys, bytes: this.#bytes }
  }

  /** Group fields, the time field and aggregation inputs; its rows are its own. */
  fields(): FieldUse | undefined {
    const direct = [...this.#groupFields, ...(this.#timeField !== undefined ? [this.#timeField] : [])]
    for (const inp of this.#inputs) if (inp.field !== undefined) direct.push(inp.field)
    const reads = fieldsOf(this.#inputs.flatMap((inp) => (inp.expr ? [inp.expr] : [])), direct)
    return reads && { reads, passes: false }
  }

  /** The current watermark (ms; -Infinity before any event time). For tests and the live view. */
  get watermark(): number {
    return this.#wm
  }

  snapshot(): Snapshot {
    const snap: Snapshot = {
      v: 1,
      cfg: this.#cfg,
      wm: enc(this.#flushed ? this.#wmAtEnd : this.#wm),
      floor: enc(this.#floor),
      now: enc(this.#now),
      seq: this.#seq,
      ord: this.#ord,
      flushed: false,
      partitions: [...this.#partitions].map(([name, p]) => [name, enc(p.max), p.seen, p.ended ? 1 : 0]),
    }
    if (this.#wtype === 'session') {
      const out: GroupSnap[] = []
      for (const list of this.#sessions.values()) for (const g of list) out.push([...this.#snapGroup(g), g.start, g.end, g.emitted ? 1 : 0])
      snap.sessions = out
    } else {
      snap.windows = [...this.#windows.values()].map((w) => ({
        s: enc(w.start),
        e: enc(w.end),
        em: w.emitted ? 1 : 0,
        ...(w.evicted && w.evicted.size > 0 ? { ev: [...w.evicted] } : {}),
        g: [...w.groups.values()].map((g) => this.#snapGroup(g)),
      }))
    }
    return snap
  }

  restore(state: unknown): void {
    const s = state as Snapshot
    if (typeof s !== 'object' || s === null || s.v !== 1) throw new Error(`aggregate "${this.#id}": cannot restore state: unknown snapshot format`)
    if (s.cfg !== this.#cfg) {
      throw new Error(
        `aggregate "${this.#id}": cannot restore state saved with a different window, group_by or aggregations ` +
          `(saved: ${s.cfg}; now: ${this.#cfg}); remove the saved state to start over`,
      )
    }
    this.#windows = new Map()
    this.#sessions = new Map()
    this.#partitions = new Map(s.partitions.map(([name, max, seen, ended]) => [name, { max: dec(max), seen, ended: ended === 1 }]))
    this.#wm = dec(s.wm)
    this.#floor = dec(s.floor)
    this.#now = dec(s.now)
    if (s.flushed) {
      // Saved at the end of input by an earlier version: the state was cleared and the watermark
      // is +∞. Go on from the last event time; a window that may hold emitted records is closed.
      this.#wm = this.#computeWatermark()
      const reach = this.#wtype === 'session' ? this.#gap : this.#size
      if (this.#wm + this.#lateness + reach > this.#floor) this.#floor = this.#wm + this.#lateness + reach
    }
    this.#closed = Math.max(this.#wm, this.#floor)
    this.#seq = s.seq
    this.#ord = s.ord
    this.#flushed = false
    this.#keys = 0
    this.#bytes = 0
    this.#curWin = undefined
    this.#curStart = NaN
    if (s.sessions) {
      let scanAt = Infinity
      for (const gs of s.sessions) {
        const g = this.#restoreGroup(gs, gs[4] ?? 0, gs[5] ?? 0)
        g.emitted = gs[6] === 1
        let list = this.#sessions.get(g.key)
        if (list === undefined) this.#sessions.set(g.key, (list = []))
        list.push(g)
        scanAt = Math.min(scanAt, g.emitted ? g.end + this.#retention : g.end)
      }
      for (const list of this.#sessions.values()) list.sort((a, b) => a.start - b.start)
      this.#sessionScanAt = scanAt
    }
    for (const ws of s.windows ?? []) {
      const w = new Win(dec(ws.s), dec(ws.e))
      w.emitted = ws.em === 1
      if (ws.ev) w.evicted = new Set(ws.ev)
      for (const gs of ws.g) {
        const g = this.#restoreGroup(gs, w.start, w.end)
        w.groups.set(g.key, g)
      }
      // A global window restored after an end of input counts on: its next flush emits it again.
      if (!this.#windowed) w.emitted = false
      this.#windows.set(w.start, w)
    }
  }

  // ─── Records into windows ───────────────────────────────────────────────────────────────

  #addTumbling(r: Rec, t: number, seq: number): void {
    const size = this.#size
    const start = t - (((t % size) + size) % size)
    let w = start === this.#curStart ? this.#curWin : undefined
    if (w === undefined) {
      const end = start + size
      w = this.#windows.get(start)
      if ((w === undefined && end <= this.#closed) || (w !== undefined && w.emitted)) {
        if (!this.#addLate(w, start, end, r, t, seq)) this.#lateReject(t, start, end)
        return
      }
      if (w === undefined) {
        w = new Win(start, end)
        this.#windows.set(start, w)
      }
      this.#curStart = start
      this.#curWin = w
    }
    const key = this.#keyOf(r)
    let g = w.groups.get(key)
    if (g === undefined) {
      g = this.#newGroup(w, key, r)
      if (g === undefined) return
    }
    this.#update(g, t, seq)
  }

  #addHopping(r: Rec, t: number, seq: number): void {
    const size = this.#size
    const slide = this.#slide
    const last = t - (((t % slide) + slide) % slide)
    const key = this.#keyOf(r)
    // A bound would be crossed by the new entries: check before touching any window.
    if (this.#onLimit !== 'emit_early' && !this.#roomForHops(last, t, key)) return
    let added = 0
    let lateStart = NaN
    for (let start = last - (Math.ceil((size - (t - last)) / slide) - 1) * slide; start <= last; start += slide) {
      const end = start + size
      let w = this.#windows.get(start)
      if ((w === undefined && end <= this.#closed) || (w !== undefined && w.emitted)) {
        if (this.#addLate(w, start, end, r, t, seq)) added++
        else if (lateStart !== lateStart) lateStart = start
        continue
      }
      if (w === undefined) {
        w = new Win(start, end)
        this.#windows.set(start, w)
      }
      let g = w.groups.get(key)
      if (g === undefined) {
        g = this.#newGroup(w, key, r)
        if (g === undefined) return
      }
      this.#update(g, t, seq)
      added++
    }
    // Late for some of its windows only: counted where it still can be (like Flink).
    if (added === 0) this.#lateReject(t, lateStart, lateStart + size)
  }

  /** For dead_letter / fail: would the record's hopping windows need more entries than allowed? */
  #roomForHops(last: number, t: number, key: string): boolean {
    const size = this.#size
    const slide = this.#slide
    let missing = 0
    for (let start = last - (Math.ceil((size - (t - last)) / slide) - 1) * slide; start <= last; start += slide) {
      const w = this.#windows.get(start)
      if (w === undefined ? start + size > this.#closed || this.#lateUpdate : !w.groups.has(key)) missing++
    }
    if (missing === 0 || (this.#keys + missing <= this.#maxKeys && this.#bytes < this.#maxBytes)) return true
    this.#limitReached()
    return false
  }

  #addGlobal(r: Rec, t: number, seq: number): void {
    if (this.#curWin === undefined && this.#flushed) {
      this.#lateReject(t, NaN, NaN)
      return
    }
    const w = this.#globalWindow()
    const key = this.#keyOf(r)
    let g = w.groups.get(key)
    if (g === undefined) {
      g = this.#newGroup(w, key, r)
      if (g === undefined) return
    }
    this.#update(g, t, seq)
  }

  /**
   * A record for a window already emitted. update: added to the kept state (re-created empty when
   * the window had no entry) and the corrected row queued. Returns false when it cannot be counted.
   */
  #addLate(w: Win | undefined, start: number, end: number, r: Rec, t: number, seq: number): boolean {
    if (!this.#lateUpdate || end <= this.#floor || end + this.#retention <= this.#wm) return false
    if (w === undefined) {
      w = new Win(start, end)
      w.emitted = true
      this.#windows.set(start, w)
    }
    const key = this.#keyOf(r)
    let g = w.groups.get(key)
    if (g === undefined) {
      if (w.evicted?.has(key)) return false
      g = this.#newGroup(w, key, r)
      if (g === undefined) return true // rejected for the state bound already
    }
    this.#update(g, t, seq)
    this.#pendingSet().add(g)
    return true
  }

  #addSession(r: Rec, t: number, seq: number): void {
    const gap = this.#gap
    const key = this.#keyOf(r)
    let list = this.#sessions.get(key)
    // Sessions of this group overlapping [t, t + gap); they are sorted by start and disjoint.
    let first = -1
    let lastIdx = -1
    let start = t
    let end = t + gap
    if (list !== undefined) {
      for (let i = 0; i < list.length; i++) {
        const s = list[i]!
        if (s.start < t + gap && t < s.end) {
          if (first < 0) first = i
          lastIdx = i
          if (s.start < start) start = s.start
          if (s.end > end) end = s.end
        }
      }
    }
    const closed = end <= this.#wm
    if (closed) {
      // Late: only a kept (emitted) session can take it, in update mode, within retention.
      if (!this.#lateUpdate || end + this.#retention <= this.#wm) {
        this.#lateReject(t, start, end)
        return
      }
    }
    let g: Group
    if (first < 0) {
      if (this.#keys >= this.#maxKeys || this.#bytes >= this.#maxBytes) {
        if (this.#onLimit !== 'emit_early') {
          this.#limitReached()
          return
        }
      }
      g = this.#makeGroup(key, this.#groupValues(r), t, t + gap, this.#ord++)
      this.#keys++
      this.#bytes += g.bytes
      if (list === undefined) this.#sessions.set(key, (list = []))
      let at = list.length
      while (at > 0 && list[at - 1]!.start > t) at--
      list.splice(at, 0, g)
    } else {
      g = list!.at(first)!
      for (let i = lastIdx; i > first; i--) {
        const other = list![i]!
        this.#bytes -= this.#merge(g, other)
        if (other.ord < g.ord) g.ord = other.ord
        this.#pending?.delete(other)
        this.#keys--
        list!.splice(i, 1)
      }
      g.start = start
      g.end = end
    }
    this.#update(g, t, seq)
    g.emitted = closed
    if (closed) this.#pendingSet().add(g)
    else {
      this.#pending?.delete(g) // re-opened by this record: its row comes when it closes again
      if (end < this.#sessionScanAt) this.#sessionScanAt = end
    }
  }

  // ─── Groups and accumulators ────────────────────────────────────────────────────────────

  /** The group key: one field's string value as it is; otherwise type-tagged parts joined by NUL. */
  #keyOf(r: Rec): string {
    const f = this.#singleGroup
    if (f !== undefined) {
      const v = r[f]
      // Tagged encodings start with \u0001, so a plain string can be its own key unless it does.
      return typeof v === 'string' && v.charCodeAt(0) !== 1 ? v : encodePart(v)
    }
    const fields = this.#groupFields
    if (fields.length === 0) return ''
    let key = ''
    for (let i = 0; i < fields.length; i++) {
      const v = r[fields[i]!]
      const part = typeof v === 'string' && v.charCodeAt(0) !== 1 && v.indexOf('\u0000') === -1 ? v : encodePart(v)
      key = i === 0 ? part : `${key}\u0000${part}`
    }
    return key
  }

  #keyOfValues(kv: unknown): string {
    if (this.#singleGroup !== undefined) return this.#keyOf({ [this.#singleGroup]: kv })
    if (this.#groupFields.length === 0) return ''
    const rec: Rec = {}
    this.#groupFields.forEach((f, i) => (rec[f] = (kv as unknown[])[i]))
    return this.#keyOf(rec)
  }

  #groupValues(r: Rec): unknown {
    if (this.#singleGroup !== undefined) return r[this.#singleGroup] ?? null
    const fields = this.#groupFields
    if (fields.length === 0) return null
    const kv = new Array<unknown>(fields.length)
    for (let i = 0; i < fields.length; i++) kv[i] = r[fields[i]!] ?? null
    return kv
  }

  /** A new entry in `w` under the state bound policy; undefined when the record was rejected. */
  #newGroup(w: Win, key: string, r: Rec): Group | undefined {
    if (w.evicted !== undefined && w.evicted.has(key)) {
      this.#reject(
        this.#index,
        new RecordError('SLC_RECORD_TRANSFORM', `aggregate "${this.#id}": late record: the row of its ${this.#windowText(w.start, w.end)} was emitted early because the state bound was reached`),
      )
      return undefined
    }
    if (this.#keys >= this.#maxKeys || this.#bytes >= this.#maxBytes) {
      if (this.#onLimit !== 'emit_early') {
        this.#limitReached()
        return undefined
      }
    }
    const g = this.#makeGroup(key, this.#groupValues(r), w.start, w.end, this.#ord++)
    w.groups.set(key, g)
    this.#keys++
    this.#bytes += g.bytes
    return g
  }

  #makeGroup(key: string, kv: unknown, start: number, end: number, ord: number): Group {
    // Grown by push: packed (not holey) element kinds.
    const n: number[] = []
    for (let i = 0; i < this.#nN; i++) n.push(0)
    let o = EMPTY
    if (this.#nO > 0) {
      o = []
      for (let i = 0; i < this.#nO; i++) o.push(undefined)
    }
    return new Group(key, kv, start, end, ord, n, o, this.#groupBytes + 2 * key.length)
  }

  #update(g: Group, t: number, seq: number): void {
    const kinds = this.#kind
    const vals = this.#vals
    const n = g.n
    for (let i = 0; i < kinds.length; i++) {
      const kind = kinds[i]!
      if (kind === K_COUNT_ALL) {
        n[this.#nslot[i]!]!++
        continue
      }
      const v = vals[this.#input[i]!]
      if (v === undefined || v === null) continue
      switch (kind) {
        case K_COUNT:
          n[this.#nslot[i]!]!++
          break
        case K_SUM:
        case K_AVG: {
          const a = this.#nslot[i]!
          addCompensated(n, a, this.#cslot[i]!, v as number)
          n[a + 1]!++
          break
        }
        case K_MIN: {
          const o = g.o
          const b = this.#oslot[i]!
          const cur = o[b]
          if (cur === undefined || before(v, cur)) o[b] = v
          break
        }
        case K_MAX: {
          const o = g.o
          const b = this.#oslot[i]!
          const cur = o[b]
          if (cur === undefined || before(cur, v)) o[b] = v
          break
        }
        case K_FIRST: {
          const a = this.#nslot[i]!
          const b = this.#oslot[i]!
          if (g.o[b] === undefined || t < n[a]! || (t === n[a]! && seq < n[a + 1]!)) {
            n[a] = t
            n[a + 1] = seq
            g.o[b] = v
          }
          break
        }
        case K_LAST: {
          const a = this.#nslot[i]!
          const b = this.#oslot[i]!
          if (g.o[b] === undefined || t > n[a]! || (t === n[a]! && seq > n[a + 1]!)) {
            n[a] = t
            n[a + 1] = seq
            g.o[b] = v
          }
          break
        }
        case K_DISTINCT: {
          const b = this.#oslot[i]!
          let set = g.o[b] as Set<unknown> | undefined
          if (set === undefined) g.o[b] = set = new Set()
          const x = typeof v === 'object' ? JSON.stringify(v) : v
          const before = set.size
          set.add(x)
          if (set.size !== before) this.#grow(g, SET_ENTRY_BYTES + (typeof x === 'string' ? 2 * x.length : 0))
          break
        }
        case K_APPROX: {
          const b = this.#oslot[i]!
          let h = g.o[b] as HyperLogLog | undefined
          if (h === undefined) {
            g.o[b] = h = new HyperLogLog()
            this.#grow(g, HLL_BYTES)
          }
          h.add(v)
          break
        }
        case K_PCT: {
          if (this.#owner[i] === 0) break
          const b = this.#oslot[i]!
          let d = g.o[b] as TDigest | undefined
          if (d === undefined) g.o[b] = d = new TDigest()
          d.add(v as number)
          if (d.count <= DIGEST_MAX_POINTS) this.#grow(g, DIGEST_POINT_BYTES)
          break
        }
        case K_COLLECT: {
          const b = this.#oslot[i]!
          let c = g.o[b] as Collected | undefined
          if (c === undefined) g.o[b] = c = { v: [], s: [] }
          if (c.v.length < this.#param[i]!) {
            c.v.push(v)
            c.s.push(seq)
            this.#grow(g, LIST_ITEM_BYTES + (typeof v === 'string' ? 2 * v.length : 0))
          }
          break
        }
      }
    }
  }

  #grow(g: Group, bytes: number): void {
    g.bytes += bytes
    this.#bytes += bytes
  }

  /**
   * Fold `src` into `dst` (a record bridged two sessions, or a worker's partial met its entry).
   * Returns the bytes freed: src's entry, and what its sets and sketches held that dst already had.
   */
  #merge(dst: Group, src: Group): number {
    const kinds = this.#kind
    const dn = dst.n
    const sn = src.n
    const done = new Set<number>()
    let freed = 0
    for (let i = 0; i < kinds.length; i++) {
      const a = this.#nslot[i]!
      const b = this.#oslot[i]!
      switch (kinds[i]) {
        case K_COUNT_ALL:
        case K_COUNT:
          dn[a] += sn[a]!
          break
        case K_SUM:
        case K_AVG: {
          const c = this.#cslot[i]!
          addCompensated(dn, a, c, sn[a]!)
          dn[c] += sn[c]!
          dn[a + 1] += sn[a + 1]!
          break
        }
        case K_MIN:
          if (src.o[b] !== undefined && (dst.o[b] === undefined || before(src.o[b], dst.o[b]))) dst.o[b] = src.o[b]
          break
        case K_MAX:
          if (src.o[b] !== undefined && (dst.o[b] === undefined || before(dst.o[b], src.o[b]))) dst.o[b] = src.o[b]
          break
        case K_FIRST:
          if (src.o[b] !== undefined && (dst.o[b] === undefined || sn[a]! < dn[a]! || (sn[a] === dn[a] && sn[a + 1]! < dn[a + 1]!))) {
            dn[a] = sn[a]!
            dn[a + 1] = sn[a + 1]!
            dst.o[b] = src.o[b]
          }
          break
        case K_LAST:
          if (src.o[b] !== undefined && (dst.o[b] === undefined || sn[a]! > dn[a]! || (sn[a] === dn[a] && sn[a + 1]! > dn[a + 1]!))) {
            dn[a] = sn[a]!
            dn[a + 1] = sn[a + 1]!
            dst.o[b] = src.o[b]
          }
          break
        case K_DISTINCT: {
          const s = src.o[b] as Set<unknown> | undefined
          if (s === undefined) break
          const d = dst.o[b] as Set<unknown> | undefined
          if (d === undefined) dst.o[b] = s
          else {
            for (const x of s) {
              if (d.has(x)) freed += SET_ENTRY_BYTES + (typeof x === 'string' ? 2 * x.length : 0)
              else d.add(x)
            }
          }
          break
        }
        case K_APPROX: {
          const s = src.o[b] as HyperLogLog | undefined
          if (s === undefined) break
          const d = dst.o[b] as HyperLogLog | undefined
          if (d === undefined) dst.o[b] = s
          else {
            d.merge(s)
            freed += HLL_BYTES
          }
          break
        }
        case K_PCT: {
          if (done.has(b)) break
          done.add(b)
          const s = src.o[b] as TDigest | undefined
          if (s === undefined) break
          const d = dst.o[b] as TDigest | undefined
          if (d === undefined) dst.o[b] = s
          else {
            const points = Math.min(d.count, DIGEST_MAX_POINTS) + Math.min(s.count, DIGEST_MAX_POINTS)
            d.merge(s)
            freed += DIGEST_POINT_BYTES * (points - Math.min(d.count, DIGEST_MAX_POINTS))
          }
          break
        }
        case K_COLLECT: {
          const s = src.o[b] as Collected | undefined
          if (s === undefined) break
          const d = dst.o[b] as Collected | undefined
          if (d === undefined) dst.o[b] = s
          else {
            const merged = mergeCollected(d, s, this.#param[i]!)
            freed += collectedBytes(d) + collectedBytes(s) - collectedBytes(merged)
            dst.o[b] = merged
          }
          break
        }
      }
    }
    const base = this.#groupBytes + 2 * src.key.length
    dst.bytes += src.bytes - base - freed
    return base + freed
  }

  /** Read input values when some are CEL expressions; false when the record was rejected. */
  #evalInputs(r: Rec): boolean {
    const inputs = this.#inputs
    const vals = this.#vals
    for (let j = 0; j < inputs.length; j++) {
      const inp = inputs[j]!
      if (inp.expr === undefined) vals[j] = r[inp.field!]
      else {
        try {
          vals[j] = inp.expr.evaluate(r)
        } catch (e) {
          this.#reject(this.#index, e)
          return false
        }
      }
    }
    return true
  }

  /** Numbers for sum/avg/percentile, numbers or strings for min/max; false when rejected. */
  #checkTypes(): boolean {
    const inputs = this.#inputs
    const vals = this.#vals
    for (let j = 0; j < inputs.length; j++) {
      const inp = inputs[j]!
      if (!inp.numeric && !inp.comparable) continue
      const v = vals[j]
      if (v === undefined || v === null) continue
      if (typeof v === 'number' && v - v === 0) continue // finite number
      if (inp.comparable && typeof v === 'string') continue
      const want = inp.numeric ? 'a finite number' : 'a finite number or a string'
      this.#reject(
        this.#index,
        new RecordError('SLC_RECORD_TRANSFORM', `aggregate "${this.#id}": ${inp.label} needs ${want}, found ${describe(v)}${typeof v === 'string' ? ' (convert it with a map cast first)' : ''}`),
      )
      return false
    }
    return true
  }

  // ─── Watermark and emission ─────────────────────────────────────────────────────────────

  #computeWatermark(): number {
    if (this.#timeField === undefined) return this.#now - this.#lateness
    let minActive = Infinity
    let maxAll = -Infinity
    let active = false
    const now = this.#now
    const idle = this.#idle
    for (const p of this.#partitions.values()) {
      if (p.max > maxAll) maxAll = p.max
      if (!p.ended && (idle <= 0 || now - p.seen < idle)) {
        active = true
        if (p.max < minActive) minActive = p.max
      }
    }
    return (active ? minActive : maxAll) - this.#lateness
  }

  /** Raise the watermark (never lowers it) and queue the windows it closes. */
  #advance(): void {
    if (this.#flushed) return
    const wm = this.#computeWatermark()
    if (!(wm > this.#wm)) return
    this.#wm = wm
    if (wm > this.#closed) this.#closed = wm
    if (this.#wtype === 'global') return
    if (this.#wtype === 'session') {
      if (wm >= this.#sessionScanAt) this.#scanSessions()
      return
    }
    this.#curWin = undefined
    this.#curStart = NaN
    for (const w of this.#windows.values()) {
      if (!w.emitted) {
        if (w.end > wm) continue
        const pending = this.#pendingSet()
        for (const g of w.groups.values()) pending.add(g)
        if (this.#lateUpdate) {
          w.emitted = true
          continue
        }
      } else if (w.end + this.#retention > wm) continue
      this.#dropWindow(w)
    }
  }

  #scanSessions(): void {
    const wm = this.#wm
    const keep = this.#lateUpdate
    let scanAt = Infinity
    for (const [key, list] of this.#sessions) {
      for (let i = 0; i < list.length; i++) {
        const g = list[i]!
        if (!g.emitted && g.end <= wm) {
          this.#pendingSet().add(g)
          g.emitted = true
        }
        if (g.emitted && (!keep || g.end + this.#retention <= wm)) {
          list.splice(i--, 1)
          this.#keys--
          this.#bytes -= g.bytes
          continue
        }
        const at = g.emitted ? g.end + this.#retention : g.end
        if (at < scanAt) scanAt = at
      }
      if (list.length === 0) this.#sessions.delete(key)
    }
    this.#sessionScanAt = scanAt
  }

  #dropWindow(w: Win): void {
    this.#windows.delete(w.start)
    this.#keys -= w.groups.size
    for (const g of w.groups.values()) this.#bytes -= g.bytes
  }

  /** Over max_keys or max_state_bytes under emit_early: evict. */
  #emitEarlyOverBound(): void {
    if ((this.#keys > this.#maxKeys || this.#bytes > this.#maxBytes) && this.#onLimit === 'emit_early') this.#evict()
  }

  /** emit_early: emit and drop the oldest entries until under 90% of the bounds. */
  #evict(): void {
    const keyTarget = this.#maxKeys - Math.max(1, Math.floor(this.#maxKeys / 10))
    const byteTarget = this.#maxBytes - Math.floor(this.#maxBytes / 10)
    const over = () => this.#keys > keyTarget || this.#bytes > byteTarget
    const pending = this.#pendingSet()
    this.#curWin = undefined
    this.#curStart = NaN
    if (this.#wtype === 'session') {
      const all: Group[] = []
      for (const list of this.#sessions.values()) all.push(...list)
      // Kept (already emitted) sessions go first: dropping them emits nothing.
      all.sort((a, b) => Number(b.emitted) - Number(a.emitted) || a.start - b.start || a.ord - b.ord)
      for (const g of all) {
        if (!over()) break
        const list = this.#sessions.get(g.key)!
        list.splice(list.indexOf(g), 1)
        if (list.length === 0) this.#sessions.delete(g.key)
        if (!g.emitted) pending.add(g)
        this.#keys--
        this.#bytes -= g.bytes
      }
      return
    }
    const windows = [...this.#windows.values()].sort((a, b) => Number(b.emitted) - Number(a.emitted) || a.start - b.start)
    for (const w of windows) {
      if (!over()) break
      for (const [key, g] of w.groups) {
        if (!over()) break
        w.groups.delete(key)
        ;(w.evicted ??= new Set()).add(key)
        if (!w.emitted) pending.add(g)
        this.#keys--
        this.#bytes -= g.bytes
      }
      if (w.groups.size === 0 && this.#windowed) {
        this.#windows.delete(w.start)
        if (w.end > this.#floor) this.#floor = w.end
        if (w.end > this.#closed) this.#closed = w.end
      }
    }
  }

  #pendingSet(): Set<Group> {
    return (this.#pending ??= new Set())
  }

  /** The queued rows, by window start then first appearance. */
  #drain(): Rec[] {
    const pending = this.#pending
    if (pending === undefined || pending.size === 0) return []
    this.#pending = undefined
    const groups = [...pending]
    groups.sort((a, b) => a.start - b.start || a.ord - b.ord)
    const rows = new Array<Rec>(groups.length)
    let isoStart = NaN
    let startText = ''
    let isoEnd = NaN
    let endText = ''
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!
      const row: Rec = {}
      if (this.#windowed) {
        if (g.start !== isoStart) startText = iso((isoStart = g.start))
        if (g.end !== isoEnd) endText = iso((isoEnd = g.end))
        row.window_start = startText
        row.window_end = endText
      }
      const fields = this.#groupFields
      if (fields.length === 1) row[fields[0]!] = g.kv
      else for (let j = 0; j < fields.length; j++) row[fields[j]!] = (g.kv as unknown[])[j]
      this.#values(g, row)
      rows[i] = row
    }
    return rows
  }

  #values(g: Group, row: Rec): void {
    const n = g.n
    const o = g.o
    for (let i = 0; i < this.#names.length; i++) {
      const a = this.#nslot[i]!
      const b = this.#oslot[i]!
      let v: unknown
      switch (this.#kind[i]) {
        case K_COUNT_ALL:
        case K_COUNT:
          v = n[a]
          break
        case K_SUM:
          v = n[a + 1]! > 0 ? compensatedSum(n, a, this.#cslot[i]!) : null
          break
        case K_AVG:
          v = n[a + 1]! > 0 ? compensatedSum(n, a, this.#cslot[i]!) / n[a + 1]! : null
          break
        case K_MIN:
        case K_MAX:
        case K_FIRST:
        case K_LAST:
          v = o[b] ?? null
          break
        case K_DISTINCT:
          v = (o[b] as Set<unknown> | undefined)?.size ?? 0
          break
        case K_APPROX:
          v = (o[b] as HyperLogLog | undefined)?.estimate() ?? 0
          break
        case K_PCT:
          v = (o[b] as TDigest | undefined)?.quantile(this.#param[i]!) ?? null
          break
        case K_COLLECT:
          v = ((o[b] as Collected | undefined)?.v ?? []).slice()
          break
      }
      row[this.#names[i]!] = v
    }
  }

  // ─── Rejections ─────────────────────────────────────────────────────────────────────────

  #badTime(v: unknown): void {
    const what = v === undefined ? 'is missing' : `is not a time: ${describe(v)}`
    this.#reject(this.#index, new RecordError('SLC_RECORD_TRANSFORM', `aggregate "${this.#id}": time_field "${this.#timeField}" ${what}`))
  }

  #lateReject(t: number, start: number, end: number): void {
    const window = start === start ? this.#windowText(start, end) : 'window'
    let why: string
    if (this.#flushed) why = 'it arrived after the end of input'
    else if (end <= this.#floor && !(end <= this.#wm)) why = 'that window was emitted early because the state bound was reached'
    else if (this.#lateUpdate) why = `that window was emitted and is older than late_retention (${this.#retention} ms)`
    else why = 'that window was already emitted'
    this.#reject(
      this.#index,
      new RecordError(
        'SLC_RECORD_TRANSFORM',
        `aggregate "${this.#id}": late record: event time ${isoOrText(t)} falls in ${window}, but ${why} ` +
          `(watermark ${isoOrText(this.#wm)}, allowed_lateness ${this.#lateness} ms)`,
      ),
    )
  }

  #windowText(start: number, end: number): string {
    return this.#windowed ? `window [${isoOrText(start)}, ${isoOrText(end)})` : 'the global window'
  }

  #limitReached(): void {
    const text =
      `aggregate "${this.#id}": state limit reached: ${this.#keys} (window, group) entries (max_keys ${this.#maxKeys}), ` +
      `about ${this.#bytes} bytes (max_state_bytes ${this.#maxBytes})`
    if (this.#onLimit === 'fail') throw new Error(`${text}; on_limit is "fail"`)
    this.#reject(this.#index, new RecordError('SLC_RECORD_TRANSFORM', `${text}; the record would start a new entry (on_limit: dead_letter)`))
  }

  // ─── Snapshots ──────────────────────────────────────────────────────────────────────────

  #snapGroup(g: Group): BaseSnap {
    const o = g.o
    const os: unknown[] = new Array(o.length).fill(null)
    for (let i = 0; i < this.#names.length; i++) {
      const b = this.#oslot[i]!
      if (b < 0 || o[b] === undefined) continue
      switch (this.#kind[i]) {
        case K_DISTINCT:
          os[b] = [...(o[b] as Set<unknown>)]
          break
        case K_APPROX:
          os[b] = (o[b] as HyperLogLog).toBase64()
          break
        case K_PCT:
          os[b] = (o[b] as TDigest).toJSON()
          break
        case K_COLLECT:
          os[b] = { v: (o[b] as Collected).v, s: (o[b] as Collected).s }
          break
        default:
          // min/max/first/last values; wrapped so that a null value stays distinct from "none".
          os[b] = [o[b]]
      }
    }
    return [g.kv, g.ord, g.n.slice(), os]
  }

  #restoreGroup(gs: GroupSnap, start: number, end: number): Group {
    const [kv, ord, n, os] = gs
    const key = this.#keyOfValues(kv)
    const g = this.#makeGroup(key, kv, start, end, ord)
    for (let i = 0; i < n.length; i++) g.n[i] = n[i]!
    let extra = 0
    for (let i = 0; i < this.#names.length; i++) {
      const b = this.#oslot[i]!
      if (b < 0 || os[b] === null || os[b] === undefined || g.o[b] !== undefined) continue
      const x = os[b]
      switch (this.#kind[i]) {
        case K_DISTINCT: {
          const set = new Set(x as unknown[])
          g.o[b] = set
          for (const v of set) extra += SET_ENTRY_BYTES + (typeof v === 'string' ? 2 * v.length : 0)
          break
        }
        case K_APPROX:
          g.o[b] = HyperLogLog.fromBase64(x as string)
          extra += HLL_BYTES
          break
        case K_PCT: {
          const d = TDigest.fromJSON(x as TDigestState)
          g.o[b] = d
          extra += DIGEST_POINT_BYTES * Math.min(d.count, DIGEST_MAX_POINTS)
          break
        }
        case K_COLLECT: {
          const c = x as Collected
          g.o[b] = { v: c.v.slice(), s: c.s.slice() }
          extra += collectedBytes(c)
          break
        }
        default:
          g.o[b] = (x as unknown[])[0]
      }
    }
    g.bytes += extra
    this.#keys++
    this.#bytes += g.bytes
    return g
  }
}

const EMPTY: unknown[] = []

/** n[sum] += x, the rounding error of the addition kept in n[comp] (Neumaier's variant of Kahan). */
function addCompensated(n: number[], sum: number, comp: number, x: number): void {
  const s = n[sum]!
  const t = s + x
  n[comp] += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s
  n[sum] = t
}

/** The compensated sum; an overflowed one stays ±Infinity (its compensation is NaN). */
function compensatedSum(n: number[], sum: number, comp: number): number {
  const s = n[sum]!
  return Number.isFinite(s) ? s + n[comp]! : s
}

/** One group-key part, type-tagged so that 1, "1", true, null and objects never collide. */
function encodePart(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return `\u0001s${JSON.stringify(v)}`
    case 'number':
      return `\u0001n${v}`
    case 'boolean':
      return v ? '\u0001t' : '\u0001f'
    case 'bigint':
      return `\u0001i${v}`
    case 'undefined':
      return '\u0001z'
    default:
      return v === null ? '\u0001z' : `\u0001j${JSON.stringify(v)}`
  }
}

/** Total order of min/max values: numbers before strings, each in natural order. */
function before(a: unknown, b: unknown): boolean {
  const ta = typeof a
  const tb = typeof b
  if (ta === tb) return (a as number) < (b as number)
  return ta === 'number'
}

function collectedBytes(c: Collected): number {
  let bytes = 0
  for (const v of c.v) bytes += LIST_ITEM_BYTES + (typeof v === 'string' ? 2 * v.length : 0)
  return bytes
}

function mergeCollected(a: Collected, b: Collected, limit: number): Collected {
  const v: unknown[] = []
  const s: number[] = []
  let i = 0
  let j = 0
  while (v.length < limit && (i < a.v.length || j < b.v.length)) {
    if (j >= b.v.length || (i < a.v.length && a.s[i]! < b.s[j]!)) {
      v.push(a.v[i])
      s.push(a.s[i++]!)
    } else {
      v.push(b.v[j])
      s.push(b.s[j++]!)
    }
  }
  return { v, s }
}

function isoOrText(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? iso(ms) : String(ms)
}

function describe(v: unknown): string {
  let text: string
  try {
    text = JSON.stringify(v) ?? String(v)
  } catch {
    text = String(v)
  }
  if (text.length > 60) text = `${text.slice(0, 57)}...`
  const kind = Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v === 'object' ? 'an object' : `a ${typeof v}`
  return `${text} (${kind})`
}
