// The `generator` source declaration: synthetic records for tests, demos and benchmarks.
import { defineSource } from '../../component/define.js'
import { z } from '../../component/options.js'
import { GeneratorSource } from './source.js'

const field = z.union([
  z.enum(['sequence', 'timestamp', 'uuid']).meta({ description: '`sequence` (0, 1, 2 …), `timestamp` (event time, ISO-8601) or `uuid`.' }),
  z.strictObject({ kind: z.literal('int'), min: z.number().int().default(0), max: z.number().int().default(1_000_000) }),
  z.strictObject({ kind: z.literal('float'), min: z.number().default(0), max: z.number().default(1000), decimals: z.number().int().min(0).max(10).default(2) }),
  z.strictObject({ kind: z.literal('choice'), values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1) }),
  z.strictObject({ kind: z.literal('string'), length: z.number().int().positive().default(16) }),
  z.strictObject({ kind: z.literal('constant'), value: z.union([z.string(), z.number(), z.boolean(), z.null()]) }),
])

export type GeneratorField = z.output<typeof field>

const DEFAULT_FIELDS: Record<string, GeneratorField> = {
  id: 'sequence',
  ts: 'timestamp',
  user_id: { kind: 'int', min: 1, max: 100_000 },
  country: { kind: 'choice', values: ['US', 'DE', 'FR', 'GB', 'JP', 'BR', 'IN', 'CA'] },
  event: { kind: 'choice', values: ['view', 'click', 'cart', 'purchase'] },
  amount: { kind: 'float', min: 0, max: 500, decimals: 2 },
}

const options = z.strictObject({
  count: z.number().int().nonnegative().optional().meta({ description: 'Records to produce before the source ends. Absent: run until stopped.' }),
  rate: z.number().positive().optional().meta({ description: 'Records per second. Absent: as fast as downstream accepts.' }),
  batch_size: z.number().int().positive().default(1000).meta({ description: 'Most records per batch (at a fixed rate, batches are smaller so records leave on time).' }),
  format: z.enum(['object', 'json']).default('object').meta({ description: '`object` emits records; `json` emits `{ message: "<json text>" }` for pipelines that start by parsing.' }),
  seed: z.number().int().default(1).meta({ description: 'Seed of the pseudo-random generator: the same seed gives the same records (except `timestamp` and `uuid`).' }),
  fields: z.record(z.string(), field).default(DEFAULT_FIELDS).meta({ description: 'Field name → generator. Default: an events shape (id, ts, user_id, country, event, amount).' }),
})

export type GeneratorOptions = z.output<typeof options>

export const generator = defineSource({
  type: 'generator',
  status: 'beta',
  summary: 'Produce synthetic records of a configurable shape, at a fixed rate or as fast as possible.',
  description: 'Used by tests and benchmarks. Each record carries an event timestamp (`timestamp` fields hold the time it was scheduled, so end-to-end latency can be measured at a sink). Nothing is checkpointed: a restart starts over.',
  options,
  examples: [
    { title: '10k events per second, forever', yaml: 'type: generator\nrate: 10000' },
    { title: 'A fixed shape, a million records, JSON text', yaml: 'type: generator\ncount: 1000000\nformat: json\nfields:\n  id: sequence\n  ts: timestamp\n  score: { kind: float, min: 0, max: 1 }' },
  ],
  build: (opts) => new GeneratorSource(opts),
})
