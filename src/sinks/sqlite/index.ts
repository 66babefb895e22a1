/** The `sqlite` sink: the embedded default; one transaction per batch into a local SQLite file, optional upsert. */
import { defineSink } from '../../component/define.js'
import { batchOptions, duration, path, retryOptions, z } from '../../component/options.js'
import { COLUMN_TYPES } from './columns.js'
import { SqliteSink } from './sink.js'

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/

const options = z
  .strictObject({
    path: path('Database file. Created with its parent folders when missing; relative paths resolve against the config file\'s folder.'),
    table: z
      .string()
      .regex(IDENTIFIER, 'expected a table name of letters, digits and underscores, not starting with a digit')
      .meta({ description: 'Target table (letters, digits and `_`).' }),
    columns: z
      .record(z.string().min(1), z.enum(COLUMN_TYPES))
      .optional()
      .meta({
        description:
          'Declared columns and their types (`text`, `integer`, `real`, `blob`, `json`, `boolean`). Without it the table is created from the ' +
          'first batch: integers → INTEGER, other numbers → REAL, booleans → INTEGER 0/1, strings → TEXT, objects and arrays → TEXT holding JSON. ' +
          'A `json` column always stores the JSON text of the value (a string becomes a JSON string literal).',
      }),
    upsert_key: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .meta({
        description:
          'Columns identifying a row. A unique index on them is created when none exists, and a record whose key exists updates that row ' +
          '(the columns present in its batch) instead of adding one, so replays are idempotent. Records with a missing key are rejected.',
      }),
    create_table: z.boolean().default(true).meta({ description: 'Create the table (and declared columns) when missing. When false, a missing table stops the sink at start.' }),
    new_columns: z
      .enum(['add', 'ignore', 'reject'])
      .default('add')
      .meta({ description: 'A record field that is not yet a column: `add` the column (ALTER TABLE), `ignore` the field, or `reject` the record to the dead-letter output.' }),
    journal_mode: z
      .enum(['wal', 'delete'])
      .default('wal')
      .meta({ description: 'SQLite journal mode. `wal` lets readers query the file while the pipeline writes and makes commits cheaper.' }),
    synchronous: z
      .enum(['normal', 'full'])
      .default('normal')
      .meta({
        description:
          'When a write counts as durable. With `wal` and `normal` a committed batch survives a crash of the process; `full` fsyncs every commit ' +
          'so it also survives power loss, at a cost in throughput. (With `delete` journaling, `normal` may lose the last commits on power loss.)',
      }),
    busy_timeout: duration('How long a write waits for a lock held by another connection before the batch is retried.', '5s'),
    batch: batchOptions({ max_records: 10_000, max_bytes: '8MiB', linger: '200ms' }),
    retry: retryOptions(),
  })
  .superRefine((o, ctx) => {
    if (o.upsert_key && o.columns) {
      for (const k of o.upsert_key) {
        if (!(k in o.columns)) ctx.addIssue({ code: 'custom', path: ['upsert_key'], message: `upsert_key column "${k}" is not among the declared columns` })
      }
    }
    if (o.upsert_key && new Set(o.upsert_key).size !== o.upsert_key.length) {
      ctx.addIssue({ code: 'custom', path: ['upsert_key'], message: 'upsert_key lists a column twice' })
    }
  })

export type SqliteOptions = z.output<typeof options>

export const sqlite = defineSink({
  type: 'sqlite',
  status: 'beta',
  summary: 'Write record batches to a table of a local SQLite database file.',
  description:
    'Each batch is written in one transaction with a cached prepared statement; the write is acknowledged once the transaction commits. ' +
    'Without `columns`, the table is created from the first batch and new fields become new columns (see `new_columns`). ' +
    'A batch that violates a constraint is written again row by row: good rows are kept and only the failing ones go to the dead-letter output ' +
    '(code `SLC_RECORD_REJECTED`, with the SQLite message). Lock contention (`SQLITE_BUSY`) and I/O errors are retried.',
  options,
  examples: [
    {
      title: 'Append events to a table created from the data',
      yaml: 'type: sqlite\ninputs: [events]\npath: data/events.db\ntable: events\n',
    },
    {
      title: 'Upsert per-country revenue with declared columns',
      yaml:
        'type: sqlite\ninputs: [per_country]\npath: out/revenue.db\ntable: revenue\n' +
        'columns: { country: text, window_start: text, revenue: real, orders: integer }\n' +
        'upsert_key: [country, window_start]\nnew_columns: reject\n',
    },
  ],
  build: (opts, ctx) => new SqliteSink(opts, ctx),
})
