/** The `aggregate` transform: group records by keys and compute aggregates over event-time windows. */
import { defineTransform } from '../../component/define.js'
import { Aggregate } from './aggregate.js'
import { AGG_FUNCTIONS } from './functions.js'
import { aggregateOptions, type AggregateOptions } from './options.js'

export { Aggregate } from './aggregate.js'
export { AGG_FUNCTIONS, parseAggregation, type AggCall, type AggFn } from './functions.js'
export { HyperLogLog } from './hll.js'
export { TDigest } from './tdigest.js'
export { aggregateOptions, type AggregateOptions, type WindowOptions } from './options.js'

const functionTable = Object.values(AGG_FUNCTIONS)
  .map((f) => `| \`${f.signature}\` | ${f.description} |`)
  .join('\n')

const description = `Groups records by \`group_by\` and computes \`aggregations\` over windows of event time. It keeps state
across batches: rows are emitted when the watermark says a window is complete, not when a batch arrives.

**Windows.** \`tumbling\` windows of \`size\` (aligned to the Unix epoch in UTC, \`[start, start + size)\`); \`hopping\` windows
of \`size\` starting every \`slide\` (a record counts in each window that contains it); \`session\` windows per group, which end
after \`gap\` without a record of that group (a record that bridges two sessions merges them); \`global\`: the whole (bounded)
input, emitted once at the end, with no window fields.

**Event time and watermarks.** \`time_field\` gives each record its time (ISO-8601 or epoch numbers, see \`time_format\`);
without it, the arrival time is used. For every *partition* (input file, else source) the transform tracks the newest event
time seen. The watermark is the oldest of those among active partitions, minus \`allowed_lateness\`; a window is emitted once
the watermark reaches its end (a session: its last record + \`gap\`). A partition is inactive once it ended (a file was read to
the end) or when it sent nothing for \`idle_timeout\`, so a quiet input does not hold every window open. When every partition is
inactive the newest time of all counts. At the end of input, everything still open is emitted; a later run over more input goes
on from there (windows emitted at the end count as emitted, a \`global\` window keeps counting and emits totals over all the input
read so far). Records out of order by less than \`allowed_lateness\` are counted normally.

**Late records.** A record whose window was already emitted is *late*. With \`late: dead_letter\` (the default) it goes to the
dead-letter output, with its time, window and the watermark in the message. With \`late: update\` emitted windows are kept for
\`late_retention\` more event time; a late record is added and the window's corrected row is emitted again with the same
\`window_start\` and group values, so a sink with an \`upsert_key\` of \`[window_start, <group_by…>]\` ends with the exact
result. A record older than that goes to the dead-letter output. A hopping record that is late for some of its windows only is
counted in the others.

**Bounds.** The state holds at most \`max_keys\` (window, group) entries and about \`max_state_bytes\` (estimated). At the bound,
\`on_limit: emit_early\` emits the oldest windows' rows early (a record for them later is late), \`dead_letter\` dead-letters
records that would start a new entry, and \`fail\` stops the pipeline. The current size is in the end-of-run summary.

**Output.** One row per window and group: \`window_start\` and \`window_end\` (ISO-8601 UTC strings, millisecond precision;
absent for \`global\`), then the \`group_by\` fields (null when missing), then the aggregations in the order written. Rows emitted
together are ordered by \`window_start\`, then by first appearance of the group.

**Aggregations.** Each output field is a call over a field name or a [CEL expression](../../guides/expressions.md)
(\`sum(price * quantity)\`). Null and missing values are skipped by every function but \`count()\`. \`sum\`, \`avg\` and the
percentiles need numbers, \`min\`/\`max\` numbers or strings: another value sends the record to the dead-letter output. With no
values, \`sum\`, \`avg\`, \`min\`, \`max\`, \`first\`, \`last\` and percentiles are null, distinct counts 0 and \`collect\` \`[]\`.

| Function | Result |
|---|---|
${functionTable}

**Threads.** When a file source with worker threads (\`threads\`) feeds this transform, directly or through \`filter\`/\`map\`
steps, and the window is \`global\` with no \`time_field\` and only \`count\`, \`sum\`, \`avg\`, \`min\`, \`max\` and
\`approx_count_distinct\`, the workers pre-aggregate: each folds its chunk into groups and sends those instead of the records,
and this transform merges them in file order. Rows, their order, dead letters and counts are the same as on one thread. A chunk
with more than 4,096 groups goes as records, and so does every chunk once the state could reach \`max_keys\` or
\`max_state_bytes\` (\`on_limit\` then applies record by record, as on one thread).

The state is saved with the source positions at each checkpoint, so after a crash the final aggregates equal those of an
uninterrupted run; rows emitted after the last checkpoint are emitted again, which an upsert sink absorbs. See the
[windows guide](../../guides/windows.md).`

export const aggregate = defineTransform({
  type: 'aggregate',
  status: 'beta',
  summary: 'Group records and compute counts, sums, percentiles and more over tumbling, hopping, session or global windows.',
  description,
  options: aggregateOptions,
  examples: [
    {
      title: 'Revenue per country per minute',
      yaml:
        'type: aggregate\ninputs: [orders]\ngroup_by: [country]\nwindow: { type: tumbling, size: 1m }\ntime_field: ts\nallowed_lateness: 10s\n' +
        'aggregations:\n  orders: count()\n  revenue: sum(amount)\n  avg_basket: avg(amount)',
    },
    {
      title: 'Latency percentiles over a sliding window, corrected by late records',
      yaml:
        'type: aggregate\ninputs: [requests]\ngroup_by: [service]\nwindow: { type: hopping, size: 5m, slide: 1m }\ntime_field: ts\nlate: update\n' +
        'aggregations:\n  p50: p50(latency_ms)\n  p99: percentile(latency_ms, 0.99)\n  users: approx_count_distinct(user_id)',
    },
    {
      title: 'User sessions',
      yaml:
        'type: aggregate\ninputs: [clicks]\ngroup_by: [user_id]\nwindow: { type: session, gap: 30m }\ntime_field: ts\n' +
        'aggregations:\n  clicks: count()\n  pages: collect(page, 20)\n  entry: first(page)\n  exit: last(page)',
    },
    {
      title: 'Totals over a whole file',
      yaml: 'type: aggregate\ninputs: [orders]\ngroup_by: [country, status]\nwindow: { type: global }\naggregations:\n  orders: count()\n  revenue: sum(price * quantity)',
    },
  ],
  build(opts: AggregateOptions, ctx) {
    return new Aggregate(opts, ctx.id)
  },
})
