// Type tests of the TypeScript builder (src/index.ts): record types flow from sources through
// transforms to sinks. Compiled by `tsc -p tsconfig.json --noEmit` (part of `npm test`), never run:
// a wrong inference is a compile error here, and each `@ts-expect-error` pins a mistake the
// compiler must catch (an unused one is itself an error).
import { pipeline, type PipelineBuilder, type SourceRecord, type TransformRecord } from '../../src/index.js'

// ─── Helpers ──────────────────────────────────────────────────────────────────────────────

/** Exact type equality (distinguishes `any`, optional and readonly members). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
type Expect<T extends true> = T

/** The record type of stream `N` of a builder. */
type StreamOf<B, N extends string> = B extends PipelineBuilder<infer S> ? (N extends keyof S ? S[N] : never) : never
/** Names of the streams a builder has so far. */
type StreamNames<B> = B extends PipelineBuilder<infer S> ? keyof S : never

/** Pins the type of a value inside a callback: `expectType<number>()(record.amount)`. */
function expectType<T>() {
  return <U extends T>(v: U & ([T] extends [U] ? unknown : never)) => v
}

// ─── Sources ──────────────────────────────────────────────────────────────────────────────

const orders = pipeline().source('orders', {
  type: 'file',
  path: 'data/orders.csv',
  format: 'csv',
  csv: { columns: { order_id: 'int', ts: 'timestamp', country: 'string', status: 'string', amount: 'float', paid: 'bool' } },
})
type Order = { order_id: number; ts: string; country: string; status: string; amount: number; paid: boolean }
type _csv = Expect<Equal<StreamOf<typeof orders, 'orders'>, Order>>

// The type can be derived from a config object alone, too.
type _csvDirect = Expect<Equal<SourceRecord<{ type: 'file'; path: 'x'; format: 'csv'; csv: { columns: { n: 'int'; f: 'float'; s: 'string' } } }>, { n: number; f: number; s: string }>>
// CSV without declared columns: nothing is known about the fields.
type _csvUntyped = Expect<Equal<SourceRecord<{ type: 'file'; path: 'x'; format: 'csv' }>, Record<string, unknown>>>
type _jsonl = Expect<Equal<SourceRecord<{ type: 'file'; path: 'x'; format: 'jsonl' }>, Record<string, unknown>>>
type _lines = Expect<Equal<SourceRecord<{ type: 'file'; path: 'x'; format: 'lines' }>, { message: string }>>
// stdin reads lines by default.
type _stdin = Expect<Equal<SourceRecord<{ type: 'stdin' }>, { message: string }>>
type _stdinCsv = Expect<Equal<SourceRecord<{ type: 'stdin'; format: 'csv'; csv: { columns: { a: 'bool' } } }>, { a: boolean }>>

// The generator's default shape is the events shape of its `fields` default.
const gen = pipeline().source('events', { type: 'generator', count: 10 })
type GenDefault = { id: number; ts: string; user_id: number; country: string; event: string; amount: number }
type _genDefault = Expect<Equal<StreamOf<typeof gen, 'events'>, GenDefault>>

const genFields = pipeline().source('g', {
  type: 'generator',
  fields: {
    seq: 'sequence',
    at: 'timestamp',
    uid: 'uuid',
    n: { kind: 'int', min: 1, max: 9 },
    x: { kind: 'float' },
    name: { kind: 'string', length: 4 },
    color: { kind: 'choice', values: ['red', 'green'] },
    weight: { kind: 'choice', values: [1, 2, 3] },
    tag: { kind: 'constant', value: 'fixed' },
    nothing: { kind: 'constant', value: null },
  },
})
type _genFields = Expect<
  Equal<
    StreamOf<typeof genFields, 'g'>,
    { seq: number; at: string; uid: string; n: number; x: number; name: string; color: 'red' | 'green'; weight: 1 | 2 | 3; tag: 'fixed'; nothing: null }
  >
>
// `format: json` wraps each generated record as JSON text.
const genJson = pipeline().source('g', { type: 'generator', format: 'json', fields: { a: 'sequence' } })
type _genJson = Expect<Equal<StreamOf<typeof genJson, 'g'>, { message: string }>>

// ─── filter, map, parse ───────────────────────────────────────────────────────────────────

const filtered = orders.transform('paid', { type: 'filter', inputs: ['orders'], condition: 'status == "paid"' })
type _filter = Expect<Equal<StreamOf<typeof filtered, 'paid'>, Order>>

// map runs its steps in order: set → rename → cast → remove → keep.
const mapped = filtered
  .transform('removed', { type: 'map', inputs: ['paid'], remove: ['status', 'paid'] })
  .transform('renamed', { type: 'map', inputs: ['paid'], rename: { amount: 'total', ts: 'at' } })
  .transform('set', { type: 'map', inputs: ['paid'], set: { cents: 'int(amount * 100.0)', amount: 'amount * 2.0' } })
  .transform('cast', { type: 'map', inputs: ['paid'], cast: { order_id: 'string', amount: 'int', status: 'bool', country: 'json' } })
  .transform('kept', { type: 'map', inputs: ['paid'], keep: ['order_id', 'amount'] })
  .transform('all', {
    type: 'map',
    inputs: ['paid'],
    set: { cents: 'int(amount * 100.0)' },
    rename: { cents: 'amount_cents', ts: 'at' },
    cast: { amount_cents: 'int', at: 'timestamp' },
    remove: ['status'],
    keep: ['order_id', 'at', 'amount_cents', 'missing'],
  })
type _mapRemove = Expect<Equal<StreamOf<typeof mapped, 'removed'>, { order_id: number; ts: string; country: string; amount: number }>>
type _mapRename = Expect<Equal<StreamOf<typeof mapped, 'renamed'>, { order_id: number; country: string; status: string; paid: boolean; total: number; at: string }>>
// `set` values are CEL expressions: their type is not known statically, existing fields included.
type _mapSet = Expect<Equal<StreamOf<typeof mapped, 'set'>, { order_id: number; ts: string; country: string; status: string; paid: boolean; cents: unknown; amount: unknown }>>
// `cast` replaces the field's type (`json` parses into an unknown value).
type _mapCast = Expect<Equal<StreamOf<typeof mapped, 'cast'>, { ts: string; paid: boolean; order_id: string; amount: number; status: boolean; country: unknown }>>
type _mapKeep = Expect<Equal<StreamOf<typeof mapped, 'kept'>, { order_id: number; amount: number }>>
type _mapAll = Expect<Equal<StreamOf<typeof mapped, 'all'>, { order_id: number; at: string; amount_cents: number }>>

// Removing a field set in the same map removes it (remove runs after set).
type _mapSetRemove = Expect<Equal<TransformRecord<{ a: number }, { type: 'map'; set: { b: 'a + 1' }; remove: readonly ['b'] }>, { a: number }>>
// Renaming onto an existing field replaces it.
type _mapRenameOver = Expect<Equal<TransformRecord<{ a: number; b: string }, { type: 'map'; rename: { a: 'b' } }>, { b: number }>>

const parsed = pipeline()
  .source('raw', { type: 'file', path: 'events.jsonl', format: 'lines' })
  .transform('merged', { type: 'parse', inputs: ['raw'], format: 'json' })
  .transform('nested', { type: 'parse', inputs: ['raw'], format: 'json', target: 'body' })
// Merged: the parsed fields are unknown; `message` is removed by default.
type _parseMerged = Expect<Equal<StreamOf<typeof parsed, 'merged'>, Record<string, unknown>>>
type _parseTarget = Expect<Equal<StreamOf<typeof parsed, 'nested'>, { message: string; body: Record<string, unknown> }>>

// ─── function ─────────────────────────────────────────────────────────────────────────────

const fns = filtered
  .transform('enriched', {
    type: 'function',
    inputs: ['paid'],
    fn: (o) => {
      expectType<Order>()(o)
      return { id: o.order_id, cents: Math.round(o.amount * 100), country: o.country }
    },
  })
  .transform('split', {
    type: 'function',
    inputs: ['enriched'],
    // An array emits several records: the stream type is the element type.
    fn: (r) => [
      { id: r.id, half: r.cents / 2 },
      { id: r.id, half: r.cents - r.cents / 2 },
    ],
  })
  .transform('looked_up', {
    type: 'function',
    inputs: ['enriched'],
    // A promise is awaited: the stream type is what it resolves to; null drops the record.
    fn: async (r) => (r.cents > 0 ? { id: r.id, name: `customer ${r.id}` } : null),
  })
  .transform('maybe', {
    type: 'function',
    inputs: ['enriched'],
    fn: (r) => (r.country === 'DE' ? { ...r, vat: 0.19 } : undefined),
  })
  .transform('batched', {
    type: 'function',
    inputs: ['enriched'],
    mode: 'batch',
    fn: async (records) => {
      expectType<{ id: number; cents: number; country: string }[]>()(records)
      return records.map((r) => ({ country: r.country }))
    },
  })
type _fnRecord = Expect<Equal<StreamOf<typeof fns, 'enriched'>, { id: number; cents: number; country: string }>>
type _fnArray = Expect<Equal<StreamOf<typeof fns, 'split'>, { id: number; half: number }>>
type _fnPromiseNull = Expect<Equal<StreamOf<typeof fns, 'looked_up'>, { id: number; name: string }>>
type _fnUndefined = Expect<Equal<StreamOf<typeof fns, 'maybe'>, { vat: number; id: number; cents: number; country: string }>>
type _fnBatch = Expect<Equal<StreamOf<typeof fns, 'batched'>, { country: string }>>

// A function that returns only null drops everything: the stream carries no records.
const dropper = gen.transform('none', { type: 'function', inputs: ['events'], fn: () => null })
type _fnNull = Expect<Equal<StreamOf<typeof dropper, 'none'>, never>>

// A function can follow a map; the map's output type is what it receives.
gen
  .transform('m', { type: 'map', inputs: ['events'], remove: ['ts'], cast: { user_id: 'string' } })
  .transform('f', {
    type: 'function',
    inputs: ['m'],
    fn: (r) => {
      expectType<{ id: number; user_id: string; country: string; event: string; amount: number }>()(r)
      return r
    },
  })

// ─── Fan-in and routes ────────────────────────────────────────────────────────────────────

const fanIn = orders
  .source('events', { type: 'generator', count: 5 })
  .transform('both', { type: 'filter', inputs: ['orders', 'events'], condition: 'true' })
  .transform('each', {
    type: 'function',
    inputs: ['orders', 'events'],
    fn: (r) => {
      expectType<Order | GenDefault>()(r)
      // Only fields common to both are readable without narrowing.
      const country: string = r.country
      return 'order_id' in r ? { kind: 'order' as const, country } : { kind: 'event' as const, country }
    },
  })
type _fanIn = Expect<Equal<StreamOf<typeof fanIn, 'both'>, Order | GenDefault>>
type _fanInFn = Expect<Equal<StreamOf<typeof fanIn, 'each'>, { kind: 'order'; country: string } | { kind: 'event'; country: string }>>

const routed = orders.transform('by_size', { type: 'route', inputs: ['orders'], routes: { big: 'amount >= 250', small: 'amount < 10' } })
type _routeNames = Expect<Equal<Extract<StreamNames<typeof routed>, `by_size${string}`>, 'by_size.big' | 'by_size.small' | 'by_size._unmatched'>>
type _routeBig = Expect<Equal<StreamOf<typeof routed, 'by_size.big'>, Order>>
type _routeRest = Expect<Equal<StreamOf<typeof routed, 'by_size._unmatched'>, Order>>
routed
  .transform('big_rows', {
    type: 'function',
    inputs: ['by_size.big', 'by_size._unmatched'],
    fn: (o) => {
      expectType<Order>()(o)
      return { id: o.order_id }
    },
  })
  .sink('db', { type: 'sqlite', inputs: ['big_rows', 'by_size.small'], path: 'out/x.db', table: 'big' })

// ─── Mistakes the compiler catches ────────────────────────────────────────────────────────

orders.transform('t1', {
  type: 'filter',
  // @ts-expect-error: no stream named `order` (a typo of `orders`)
  inputs: ['order'],
  condition: 'true',
})

orders.transform('t2', {
  type: 'function',
  // @ts-expect-error: no stream named `nope`
  inputs: ['nope'],
  fn: (r) => r,
})

orders.sink('out', {
  type: 'stdout',
  // @ts-expect-error: a sink's inputs must be earlier streams too
  inputs: ['paid'],
})

// A stream defined later is not an input yet: order matters, as in a data flow.
pipeline()
  .source('a', { type: 'generator' })
  // @ts-expect-error: `b` is not defined before this sink
  .sink('s', { type: 'stdout', inputs: ['b'] })

orders.transform('t3', {
  type: 'function',
  inputs: ['orders'],
  fn: (o) => ({
    // @ts-expect-error: orders have no `customer` field
    who: o.customer,
  }),
})

fns.transform('t4', {
  type: 'function',
  inputs: ['enriched'],
  // @ts-expect-error: `amount` was not carried over into `enriched`
  fn: (r) => r.amount,
})

routed.transform('t5', {
  type: 'filter',
  // @ts-expect-error: a router is read through one of its outputs (`by_size.big`), not by its name
  inputs: ['by_size'],
  condition: 'true',
})

routed.transform('t6', {
  type: 'filter',
  // @ts-expect-error: `by_size` has no route `huge`
  inputs: ['by_size.huge'],
  condition: 'true',
})

// Keep the type aliases "used" for noUnusedLocals-style linters.
export type Pinned = [
  _csv, _csvDirect, _csvUntyped, _jsonl, _lines, _stdin, _stdinCsv, _genDefault, _genFields, _genJson,
  _filter, _mapRemove, _mapRename, _mapSet, _mapCast, _mapKeep, _mapAll, _mapSetRemove, _mapRenameOver,
  _parseMerged, _parseTarget, _fnRecord, _fnArray, _fnPromiseNull, _fnUndefined, _fnBatch, _fnNull,
  _fanIn, _fanInFn, _routeNames, _routeBig, _routeRest,
]

// ─── Stateful transforms ──────────────────────────────────────────────────────────────────

const windowed = orders
  .transform('per_minute', {
    type: 'aggregate',
    inputs: ['orders'],
    group_by: ['country'],
    window: { type: 'tumbling', size: '1m' },
    time_field: 'ts',
    aggregations: { n: 'count()', revenue: 'sum(amount)', biggest: 'max(amount)', ids: 'collect(order_id, 10)' },
  })
  .transform('totals', { type: 'aggregate', inputs: ['orders'], window: { type: 'global' }, aggregations: { n: 'count()' } })
  .transform('unique', { type: 'dedupe', inputs: ['orders'], key: ['order_id'] })
type _aggregate = Expect<
  Equal<StreamOf<typeof windowed, 'per_minute'>, { window_start: string; window_end: string; country: string; n: number; revenue: number | null; biggest: number | null; ids: number[] }>
>
type _global = Expect<Equal<StreamOf<typeof windowed, 'totals'>, { n: number }>>
type _dedupe = Expect<Equal<StreamOf<typeof windowed, 'unique'>, Order>>
