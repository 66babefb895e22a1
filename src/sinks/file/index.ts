/** The `file` sink: JSON lines or CSV appended to a local file, optionally gzip-compressed and rotated by size. */
import { defineSink } from '../../component/define.js'
import { batchOptions, byteSize, path, retryOptions, z } from '../../component/options.js'
import { FileSink } from './sink.js'

const options = z
  .strictObject({
    path: path(
      'File to write; parent folders are created. With rotation the first file keeps this name and later ones are `<stem>.<n><ext>` ' +
        '(`events.jsonl.gz` → `events.1.jsonl.gz`, `events.2.jsonl.gz`, …).',
    ),
    format: z.enum(['jsonl', 'csv']).default('jsonl').meta({ description: 'Encoding: `jsonl` (one JSON object per line) or `csv`.' }),
    compression: z
      .enum(['none', 'gzip'])
      .optional()
      .meta({
        description:
          'Compression of the file; default `gzip` when `path` ends with `.gz`, else `none`. Gzip output is flushed at every write, so a file ' +
          'cut short by a crash still decodes up to its last acknowledged write (strict tools report the missing trailer as a truncation).',
      }),
    csv: z
      .strictObject({
        delimiter: z
          .string()
          .length(1)
          .refine((d) => d !== '"' && d !== '\r' && d !== '\n', 'the delimiter cannot be a quote, CR or LF')
          .default(',')
          .meta({ description: 'Field separator (one character other than `"`, CR and LF).' }),
        header: z.boolean().default(true).meta({ description: 'Write a header row at the top of each new file (not when appending to a non-empty one).' }),
        columns: z
          .array(z.string().min(1))
          .min(1)
          .optional()
          .meta({ description: 'Columns and their order; fields not listed are left out. Default: the fields of the first record written to the file.' }),
      })
      .prefault({})
      .meta({ description: 'CSV layout (used when `format: csv`).' }),
    rotate_max_bytes: byteSize(
      'Start a new file once the current one reaches this size on disk (compressed size with gzip). Rotation happens between writes, ' +
        'so a file can pass the limit by up to one batch. Default: never rotate.',
    ).optional(),
    append: z
      .boolean()
      .default(true)
      .meta({
        description:
          'Continue existing files (the last numbered one with rotation). When false the file is truncated at start, and with rotation the ' +
          'numbered files of an earlier run (`<stem>.1<ext>`, `<stem>.2<ext>`, … in sequence) are deleted.',
      }),
    fsync: z
      .boolean()
      .default(false)
      .meta({
        description:
          'fsync after every write, so an acknowledged batch survives power loss, not only a crash of the process (the default: data handed to the OS).',
      }),
    batch: batchOptions({ max_records: 2048, max_bytes: '1MiB', linger: '200ms' }),
    retry: retryOptions(),
  })
  .superRefine((o, ctx) => {
    if (o.rotate_max_bytes !== undefined && o.rotate_max_bytes <= 0) {
      ctx.addIssue({ code: 'custom', path: ['rotate_max_bytes'], message: 'rotate_max_bytes must be larger than 0' })
    }
  })

export type FileOptions = z.output<typeof options>

export const file = defineSink({
  type: 'file',
  status: 'beta',
  summary: 'Write records to a local file as JSON lines or CSV, optionally gzip-compressed and rotated by size.',
  description:
    'Each batch is encoded, compressed and written with one write call; the write is acknowledged once the OS has the bytes (and the disk, with ' +
    '`fsync`). A full disk or an I/O error is retried; a path that cannot be written (permission, a directory) stops the sink. A write that ' +
    'failed midway is finished, not repeated, when the batch is retried, so a retry never duplicates or corrupts lines. After a crash, a gzip ' +
    'file without its trailer is not appended to: writing continues in the next numbered file.',
  options,
  examples: [
    { title: 'JSON lines, compressed, one file per 100 MiB', yaml: 'type: file\ninputs: [clean]\npath: out/events.jsonl.gz\nrotate_max_bytes: 100MiB\n' },
    { title: 'Semicolon-separated CSV with chosen columns', yaml: "type: file\ninputs: [report]\npath: out/report.csv\nformat: csv\nappend: false\ncsv: { delimiter: ';', columns: [country, revenue] }\n" },
  ],
  build: (opts, ctx) => new FileSink(opts, ctx),
  acceptsJsonLines: (opts) => opts.format === 'jsonl',
})
