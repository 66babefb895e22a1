// A small, isolated registry of fake components for the config-layer tests: the shapes of real
// options (paths, enums, durations, batch/retry blocks, lists, maps, unions) without any I/O.
import { defineSink, defineSource, defineTransform } from '../../src/component/define.js'
import { batchOptions, duration, expression, path, retryOptions, z } from '../../src/component/options.js'
import { Registry } from '../../src/component/registry.js'

const noSource = () => ({ run: async () => {} })
const noSink = () => ({ write: () => {}, close: () => {} })

export const fileSource = defineSource({
  type: 'file',
  status: 'beta',
  summary: 'Read records from files.',
  description: 'Reads every file matching `path`, in order.',
  options: z.strictObject({
    path: path('Files to read; globs allowed.'),
    format: z.enum(['json', 'csv', 'lines']).default('json').meta({ description: 'How records are framed.' }),
    follow: z.boolean().default(false).meta({ description: 'Keep reading as files grow.' }),
    poll_interval: duration('How often to look for new data when following.', '1s'),
  }),
  examples: [{ title: 'CSV files', yaml: 'type: file\npath: data/*.csv\nformat: csv\n' }],
  build: noSource,
})

export const generatorSource = defineSource({
  type: 'generator',
  status: 'stable',
  summary: 'Synthetic records.',
  options: z.strictObject({
    count: z.number().int().positive().optional().meta({ description: 'Records to produce; unbounded when absent.' }),
    port: z.number().int().optional().meta({ description: 'A number, for interpolation tests.' }),
    enabled: z.boolean().optional().meta({ description: 'A boolean, for interpolation tests.' }),
    label: z.string().optional().meta({ description: 'A string, for interpolation tests.' }),
  }),
  build: noSource,
})

export const filterTransform = defineTransform({
  type: 'filter',
  status: 'stable',
  summary: 'Keep records matching a condition.',
  options: z.strictObject({ condition: expression('Records for which this is true are kept.') }),
  build: () => ({ kind: 'record', process: (r) => r }),
})

export const routeTransform = defineTransform({
  type: 'route',
  status: 'beta',
  summary: 'Send records to named outputs.',
  options: z.strictObject({
    routes: z.record(z.string(), expression('Condition of one output.')).meta({ description: 'Output name to condition.' }),
    window: z
      .discriminatedUnion('type', [
        z.strictObject({ type: z.literal('tumbling'), size: duration('Window length.') }),
        z.strictObject({ type: z.literal('hopping'), size: duration('Window length.'), hop: duration('Step between windows.') }),
      ])
      .optional()
      .meta({ description: 'A union of objects, for the docs walker.' }),
    fields: z
      .array(z.strictObject({ name: z.string().meta({ description: 'Field name.' }), cast: z.enum(['int', 'float']).optional() }))
      .optional()
      .meta({ description: 'A list of objects, for the docs walker.' }),
  }),
  outputs: (o) => Object.keys(o.routes),
  build: () => ({ kind: 'router', outputs: [], route: () => {} }),
})

export const postgresSink = defineSink({
  type: 'postgres',
  status: 'beta',
  summary: 'Write record batches to a PostgreSQL table.',
  options: z.strictObject({
    url: z.string().meta({ description: 'Connection URL.' }),
    table: z.string().meta({ description: 'Target table.' }),
    batch: batchOptions({ max_records: 5000, max_bytes: '4MiB', linger: '200ms' }),
    retry: retryOptions(),
    upsert_key: z.array(z.string()).min(1).optional().meta({ description: 'Columns forming the conflict key.' }),
  }),
  build: noSink,
})

export const stdoutSink = defineSink({
  type: 'stdout',
  status: 'stable',
  summary: 'Print records as JSON lines.',
  options: z.strictObject({ pretty: z.boolean().default(false).meta({ description: 'Indent the JSON.' }) }),
  build: noSink,
})

export const fileSink = defineSink({
  type: 'file',
  status: 'beta',
  summary: 'Append records to a file.',
  options: z.strictObject({ path: path('File to append to.') }),
  build: noSink,
})

export function testRegistry(): Registry {
  return new Registry([fileSource, generatorSource, filterTransform, routeTransform, postgresSink, stdoutSink, fileSink])
}
