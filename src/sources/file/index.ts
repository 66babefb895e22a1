// The `file` source declaration: options and docs; the behaviour is in source.ts.
import { csvOptionsSchema } from '../../codecs/index.js'
import { defineSource } from '../../component/define.js'
import { byteSize, duration, path, z } from '../../component/options.js'
import { FileSource } from './source.js'

const options = z.strictObject({
  path: path('A file path or a glob (`data/orders-*.csv.gz`). Relative paths resolve against the config file\'s folder. Files of a glob are read one after another in name order.'),
  format: z.enum(['csv', 'jsonl', 'lines']).meta({ description: '`csv` (RFC 4180, see `csv`), `jsonl` (one JSON object per line) or `lines` (each line becomes `{ message }`).' }),
  csv: csvOptionsSchema.optional().meta({ description: 'CSV dialect and column types (format `csv` only).' }),
  compression: z.enum(['auto', 'none', 'gzip']).default('auto').meta({ description: '`auto` decompresses files ending in `.gz` with gzip.' }),
  follow: z.boolean().default(false).meta({ description: 'Keep running at the end of the files: read what is appended and pick up new files matching the glob (tail -F). Without it the source ends when every file is read.' }),
  poll_interval: duration('How often follow mode checks for growth and new files.', '250ms'),
  read_buffer: byteSize('Bytes read per system call; one buffer of this size is reused for the whole run (with worker threads, four per thread, each a chunk handed to a worker: at most 256KiB when its records come back, unless the file is gzip and there is no `memory_limit`).', '1MiB'),
  max_record_bytes: byteSize('Largest record accepted; a longer one is dead-lettered (its first 64 KiB kept) and skipped without being held in memory.', '1MiB'),
  threads: z
    .union([z.literal('auto'), z.number().int().min(1).max(64)])
    .default('auto')
    .meta({
      description:
        'Threads that decode a file and run the `filter`/`map` steps right after the source: `auto` uses every core for files of 32 MiB or more, and goes back to the main thread when, over the first 8 chunks, more than 40% of the records would cross back from the workers as objects (that costs about what decoding them does); `1` reads on the main thread. ' +
        'When those steps (or the source itself) feed one `aggregate` with a `global` window, no `time_field` and only count, sum, avg, min, max and approx_count_distinct, the workers also pre-aggregate each chunk and send its groups instead of its records. ' +
        'Records, dead letters, aggregate rows and checkpoints are the same as with one thread, in the same order. A gzip file is decompressed on the main thread and decoded by the workers (`auto`: 32 MiB of compressed file); `follow` mode is read on the main thread.',
    }),
  batch_size: z.number().int().positive().default(2048).meta({ description: 'Most records per batch handed downstream.' }),
})

export type FileSourceOptions = z.output<typeof options>

export const file = defineSource({
  type: 'file',
  status: 'beta',
  summary: 'Read CSV, JSON lines or plain lines from files (glob, gzip, tail), resuming from checkpoints.',
  description: [
    'Reads files in large chunks into one reused buffer, so memory does not depend on file size.',
    'The byte offset just past the last acknowledged record of each file is checkpointed in `data_dir`;',
    'a restart, even after `kill -9`, resumes there, and a file already read to the end is skipped',
    '(run with `sluice run --reset` to read everything again). A file replaced by another (new inode) or',
    'truncated is read from the start.',
    '',
    'Records that do not decode (malformed CSV rows, invalid JSON, invalid UTF-8, records over',
    '`max_record_bytes`) go to the dead-letter output with `file`, `line` and the raw bytes; the rest of',
    'the file goes on. A truncated gzip keeps every record before the damage and dead-letters the fact.',
  ].join('\n'),
  options,
  examples: [
    { title: 'CSV with declared column types', yaml: 'type: file\npath: data/orders-*.csv.gz\nformat: csv\ncsv:\n  columns: { order_id: int, amount: float, ts: timestamp }' },
    { title: 'Tail JSON-lines logs', yaml: 'type: file\npath: /var/log/app/*.jsonl\nformat: jsonl\nfollow: true' },
  ],
  build: (opts, ctx) => new FileSource(opts, ctx),
})
