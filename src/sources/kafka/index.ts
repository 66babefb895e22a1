// The `kafka` source declaration: options and docs; the behaviour is in source.ts.
import { avroOptionsSchema, checkSchemaBlocks, createValueDecoder, csvOptionsSchema, protobufOptionsSchema } from '../../codecs/index.js'
import { defineSource } from '../../component/define.js'
import { brokerList, byteSize, duration, z } from '../../component/options.js'
import { lazySource } from '../../component/lazy.js'

const options = z
  .strictObject({
    brokers: brokerList('Bootstrap brokers as `host:port`: a list, or one comma-separated string (handy with `${KAFKA_BROKERS}`); the client discovers the rest of the cluster from them.'),
    group: z.string().min(1).meta({ description: 'Consumer group id. Processes with the same group share the partitions of the topics; each partition is read by one member at a time.' }),
    topics: z.array(z.string().min(1)).min(1).optional().meta({ description: 'Topics to read. Exactly one of `topics` and `topic_pattern`.' }),
    topic_pattern: z
      .string()
      .min(1)
      .refine((p) => {
        try {
          new RegExp(p)
          return true
        } catch {
          return false
        }
      }, 'expected a valid regular expression')
      .optional()
      .meta({ description: 'A regular expression; every topic whose name it matches (internal `__` topics excluded) is read. Matched once, when the source starts.', examples: ['^orders-.*'] }),
    start_from: z
      .enum(['committed', 'earliest', 'latest'])
      .default('committed')
      .meta({
        description:
          '`committed`: resume where the group committed; a partition without a commit starts at its earliest offset. ' +
          '`earliest` / `latest`: when the process starts, the partitions it is assigned are read from their first / next new record, ' +
          'and the group\'s commits for them are overwritten (a replay); partitions taken over later in a rebalance resume from the group\'s commits.',
      }),
    stop_at_end: z
      .boolean()
      .default(false)
      .meta({
        description:
          'Stop the source (and, once nothing else runs, the pipeline) when every partition assigned to this process has been read up to the end offset ' +
          'it had when the source started; records produced later are left for the next run. For bounded runs: backfills, benchmarks, tests. ' +
          'Offsets are committed as at shutdown. A process assigned no partition keeps waiting for one.',
      }),
    format: z
      .enum(['json', 'csv', 'text', 'avro', 'protobuf'])
      .default('json')
      .meta({
        description:
          'How a message value becomes a record: `json` (one JSON object), `csv` (one CSV row named by `csv.columns`), `text` (`{ message: "<value as UTF-8>" }`), ' +
          '`avro` (one Avro record, schema in `avro.schema`) or `protobuf` (one message of type `protobuf.message` from `protobuf.schema`).',
      }),
    csv: csvOptionsSchema.optional().meta({ description: 'CSV dialect and the row\'s `columns` in order (format `csv` only; `header` is ignored).' }),
    avro: avroOptionsSchema.optional(),
    protobuf: protobufOptionsSchema.optional(),
    metadata_field: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Field that receives `{ topic, partition, offset, key, timestamp, headers }` of the message (key and header values as UTF-8 strings, timestamp as ISO-8601). Absent: records carry only the decoded value.', examples: ['_kafka'] }),
    max_record_bytes: byteSize('Largest message value accepted; a larger one is dead-lettered with its first 64 KiB and its offset is committed.', '1MiB'),
    batch_size: z.number().int().positive().default(2048).meta({ description: 'Most messages taken from the client at once; they are emitted as one batch per partition.' }),
    buffered_messages: z.number().int().positive().default(1024).meta({ description: 'Messages the client may hold decoded before the pipeline takes them. When downstream is slow the buffer fills and fetching stops (backpressure).' }),
    max_fetch_bytes: byteSize('Most bytes one fetch response may carry. With `buffered_messages` this bounds the memory of the source, whatever the lag of the topic.', '1MiB'),
    commit_interval: duration('How often the highest contiguous acknowledged offset of each partition is committed to the group (also on rebalance and at shutdown). Pipelines with stateful transforms commit at their checkpoint barriers instead.', '1s'),
    ack_timeout: duration('How long a revoked partition, or shutdown, waits for records in flight to be acknowledged before committing what was and releasing.', '10s'),
    session_timeout: duration('A member that sends no heartbeat for this long is removed from the group and its partitions move (what a crashed process costs).', '10s'),
    rebalance_timeout: duration('How long the coordinator waits for every member to rejoin during a rebalance.', '30s'),
    client_id: z.string().min(1).default('sluice').meta({ description: 'Client id reported to the brokers (logs, quotas).' }),
  })
  .superRefine((o, ctx) => {
    if ((o.topics === undefined) === (o.topic_pattern === undefined)) {
      ctx.addIssue({ code: 'custom', path: o.topics === undefined ? ['topics'] : ['topic_pattern'], message: 'set exactly one of `topics` and `topic_pattern`' })
    }
    if (o.format === 'csv' && (o.csv?.columns === undefined || Object.keys(o.csv.columns).length === 0)) {
      ctx.addIssue({ code: 'custom', path: o.csv === undefined ? ['csv'] : ['csv', 'columns'], message: '`format: csv` needs `csv.columns`, the names and types of the row\'s values in order' })
    }
    if (o.format !== 'csv' && o.csv !== undefined) ctx.addIssue({ code: 'custom', path: ['csv'], message: '`csv` settings apply only with `format: csv`' })
    checkSchemaBlocks(o, ctx)
  })

export type KafkaSourceOptions = z.output<typeof options>

export const kafka = defineSource({
  type: 'kafka',
  status: 'beta',
  summary: 'Read a consumer group\'s share of Kafka topics, committing offsets only once records are durable downstream.',
  description: [
    'Joins the consumer group `group` and reads the partitions the group assigns to this process; run N processes with the',
    'same group to share the partitions (see the Kafka deployment guide, `docs/guides/kafka.md`). Each partition is emitted',
    'in offset order, one batch per partition, so per-partition order holds through the pipeline.',
    '',
    'Offsets are committed to the group only up to the highest *contiguous* acknowledged record of each partition: every',
    'record below a committed offset is durable in every sink it reached or in the dead-letter output. Delivery is',
    'at-least-once: after a crash, or when a partition moves to another member, what was in flight is read again.',
    '',
    'Records that do not decode (invalid JSON, a CSV row that does not fit `csv.columns`, invalid UTF-8, an Avro or protobuf',
    'value that is truncated, does not match its schema or lacks the Confluent header, a value over `max_record_bytes`, a',
    'tombstone with no value) go to the dead-letter output with `topic`, `partition`, `offset` and the raw bytes; their',
    'offset is committed like any other and the partition goes on.',
    '',
    '**Avro and protobuf.** The schema comes from a file (`avro.schema`, `protobuf.schema`), read when the pipeline starts',
    '(`sluice validate` does not read it); a missing or invalid file, or an unknown `protobuf.message`, stops the pipeline at',
    'start with `SLC_CONFIG_INVALID` naming the option. There is no Schema Registry client: with `wire_format: confluent`',
    'the magic byte is checked and the schema id skipped, and every value is decoded with the configured schema. Decoded',
    'values are plain records: 64-bit integers are numbers when exactly representable, else decimal strings; bytes (and',
    'Avro `fixed`) are base64 strings; enums are their names; Avro logical types decode as their underlying type; protobuf',
    'fields absent from a message get their proto3 default (message fields: null).',
    '',
    'Dead letters and transform errors carry `origin: { source, topic, partition, offset }`. Stateful transforms see each',
    'topic partition as an input partition (`<topic>/<partition>`) for watermarks. With `metadata_field`, transforms can',
    'read the key, headers and timestamp of each message.',
  ].join('\n'),
  options,
  examples: [
    { title: 'JSON events, resuming from the group\'s commits', yaml: 'type: kafka\nbrokers: "${KAFKA_BROKERS:-127.0.0.1:9092}"\ngroup: orders-loader\ntopics: [orders]' },
    {
      title: 'Every topic matching a pattern, with message metadata',
      yaml: 'type: kafka\nbrokers: [kafka-1:9092, kafka-2:9092]\ngroup: audit\ntopic_pattern: "^audit-.*"\nformat: text\nmetadata_field: _kafka\nstart_from: earliest',
    },
    {
      title: 'Avro values written by a Confluent serializer, decoded with a local schema file',
      yaml: 'type: kafka\nbrokers: "${KAFKA_BROKERS:-127.0.0.1:9092}"\ngroup: orders-loader\ntopics: [orders-avro]\nformat: avro\navro:\n  schema: schemas/order.avsc\n  wire_format: confluent',
    },
    {
      title: 'Protobuf messages of one type',
      yaml: 'type: kafka\nbrokers: "${KAFKA_BROKERS:-127.0.0.1:9092}"\ngroup: clicks-loader\ntopics: [clicks]\nformat: protobuf\nprotobuf:\n  schema: schemas/clicks.proto\n  message: web.v1.Click',
    },
  ],
  build: (opts, ctx) => {
    // Avro and protobuf read their schema file here, so a bad one is a config error at build.
    const decode = createValueDecoder(opts.format, { component: ctx.id, baseDir: ctx.baseDir, csv: opts.csv, avro: opts.avro, protobuf: opts.protobuf })
    // The client library loads only when the source starts (see component/lazy.ts).
    return lazySource(async () => new (await import('./source.js')).KafkaSource(opts, ctx, decode))
  },
})
