/** The `stdout` sink: records printed to standard output as JSON lines or as an aligned table per batch. */
import { defineSink } from '../../component/define.js'
import { batchOptions, retryOptions, z } from '../../component/options.js'
import { StdoutSink } from './sink.js'

const options = z.strictObject({
  format: z
    .enum(['jsonl', 'table'])
    .default('jsonl')
    .meta({
      description:
        '`jsonl`: one JSON object per line, for piping into other tools. `table`: an aligned table per batch for people (columns sized per batch, values cut at 40 characters).',
    }),
  batch: batchOptions({ max_records: 1000, max_bytes: '1MiB', linger: '100ms' }),
  retry: retryOptions(),
})

export type StdoutOptions = z.output<typeof options>

export const stdout = defineSink({
  type: 'stdout',
  status: 'beta',
  summary: 'Print records to standard output as JSON lines or a human-readable table.',
  description:
    'A write completes once the output stream has taken the batch; when the reader is slower (a pipe into `less`), the sink waits for the ' +
    'stream to drain, which slows the pipeline instead of buffering. A closed pipe (`EPIPE`, e.g. `| head`) stops the sink.',
  options,
  examples: [
    { title: 'Print every record as JSON lines', yaml: 'type: stdout\ninputs: [clean]\n' },
    { title: 'Watch aggregates as a table', yaml: 'type: stdout\ninputs: [per_country]\nformat: table\n' },
  ],
  build: (opts, ctx) => new StdoutSink(opts, ctx),
})
