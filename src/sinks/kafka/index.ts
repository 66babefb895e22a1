/** The `kafka` sink: records produced to Apache Kafka topics (idempotent producer, acks=all). */
import { defineSink } from '../../component/define.js'
import { batchOptions, brokerList, byteSize, duration, retryOptions, z } from '../../component/options.js'
import { compileTemplate } from '../../component/template.js'
import { lazySink } from '../../component/lazy.js'

/** A valid Kafka topic name. */
export const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/

const template = (description: string, example: string) =>
  z
    .string()
    .min(1)
    .superRefine((text, ctx) => {
      try {
        compileTemplate(text)
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: `invalid template: ${(e as Error).message}` })
      }
    })
    .meta({ description, examples: [example], format: 'field-template' })

const options = z
  .strictObject({
    brokers: brokerList('Bootstrap brokers as `host:port`: a list, or one comma-separated string (handy with `${KAFKA_BROKERS}`).'),
    topic: template(
      'Topic to write to: a fixed name, or a template reading record fields (`events-{country}`; `{a.b}` for a nested field, `{{`/`}}` for braces). ' +
        'The sink never creates topics: a fixed topic that does not exist stops the sink at start; records whose templated topic does not exist, ' +
        'or whose topic field is missing, go to the dead-letter output.',
      'events-{country}',
    ),
    key: template(
      'Message key, a template over record fields (`{user_id}`, `{country}:{user_id}`). Records with the same key go to the same partition ' +
        '(with `partitioner: murmur2`). A record missing a key field goes to the dead-letter output. Absent: messages have no key.',
      '{user_id}',
    ).optional(),
    partitioner: z
      .enum(['murmur2', 'round_robin', 'field'])
      .optional()
      .meta({
        description:
          '`murmur2`: partition from the hash of the key, the same as the Java client\'s default partitioner (a Java producer and this sink put a key ' +
          'in the same partition). `round_robin`: records spread evenly over the partitions. `field`: the partition number is read from ' +
          '`partition_field`. Default: `murmur2` when `key` is set, else `round_robin`.',
      }),
    partition_field: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'With `partitioner: field`: the record field holding the partition number (an integer from 0 to partitions − 1; other values go to the dead-letter output).' }),
    format: z
      .enum(['json', 'raw'])
      .default('json')
      .meta({
        description:
          'Encoding of the message value. `json`: the record (or `value_field`) as JSON text. `raw`: the bytes of `value_field` as they are (a string is ' +
          'written as UTF-8, a Buffer unchanged; other values go to the dead-letter output).',
      }),
    value_field: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Write only this field of the record as the value (required with `format: raw`). Absent: the whole record.' }),
    headers: z
      .record(z.string().min(1), template('Header value template.', '{source}'))
      .optional()
      .meta({ description: 'Message headers: header name → template over record fields (`{ origin: "{source}", kind: "order" }`). A missing field leaves that header out.' }),
    compression: z
      .enum(['none', 'gzip', 'snappy', 'lz4', 'zstd'])
      .default('none')
      .meta({
        description:
          'Compression of record batches: `none`, `gzip`, `snappy` or `lz4`. `zstd` is refused: the Kafka client compresses zstd with `node:zlib`, ' +
          'which has no zstd before Node 22.',
      }),
    max_request_bytes: byteSize(
      'Most bytes (keys, values, headers and ~24 bytes of framing per record, before compression) in one produce request; a larger write is sent ' +
        'as several requests in order. Keep it at or below the topic\'s `max.message.bytes` (1 MB by default on brokers).',
      '1MB',
    ),
    request_timeout: duration('How long the broker may take to acknowledge a produce request (acks=all) before the attempt counts as failed and is retried.', '30s'),
    client_id: z.string().min(1).optional().meta({ description: 'Client id shown in broker logs and quotas. Default: `sluice-<component name>`.' }),
    batch: batchOptions({ max_records: 10_000, max_bytes: '4MiB', linger: '50ms' }),
    retry: retryOptions(),
  })
  .superRefine((o, ctx) => {
    if (o.compression === 'zstd') {
      ctx.addIssue({
        code: 'custom',
        path: ['compression'],
        message: 'zstd is not supported by the Kafka client on Node 20 (node:zlib has no zstd before Node 22); use gzip, snappy or lz4',
      })
    }
    if (o.partitioner === 'field' && o.partition_field === undefined) {
      ctx.addIssue({ code: 'custom', path: ['partition_field'], message: 'partitioner: field needs partition_field (the record field holding the partition number)' })
    }
    if (o.partition_field !== undefined && o.partitioner !== 'field') {
      ctx.addIssue({ code: 'custom', path: ['partition_field'], message: 'partition_field is only read with partitioner: field' })
    }
    if (o.partitioner === 'murmur2' && o.key === undefined) {
      ctx.addIssue({ code: 'custom', path: ['partitioner'], message: 'partitioner: murmur2 hashes the key: set key, or use round_robin' })
    }
    if (o.format === 'raw' && o.value_field === undefined) {
      ctx.addIssue({ code: 'custom', path: ['value_field'], message: 'format: raw needs value_field (the field whose bytes are the value)' })
    }
    const fixed = compileTemplateOrUndefined(o.topic)?.constant
    if (fixed !== undefined && !TOPIC_NAME.test(fixed)) {
      ctx.addIssue({ code: 'custom', path: ['topic'], message: 'a topic name has 1 to 249 characters among letters, digits, ".", "_" and "-"' })
    }
  })

function compileTemplateOrUndefined(text: string) {
  try {
    return compileTemplate(text)
  } catch {
    return undefined
  }
}

export type KafkaSinkOptions = z.output<typeof options>

export const kafka = defineSink({
  type: 'kafka',
  status: 'beta',
  summary: 'Produce records to Apache Kafka topics with an idempotent producer (acks=all), batching and compression.',
  description:
    'A write is acknowledged (and the source may commit) only once the brokers acknowledged every record with `acks=all`. The producer is ' +
    'idempotent: when a write is retried after a timeout or a broker restart, records the broker already stored are not stored twice. ' +
    'Duplicates remain possible only when retries are exhausted or the pipeline restarts and its source replays (at-least-once).\n\n' +
    'While brokers are unreachable, writes are retried with backoff (`retry`) and the sink stops pulling records, so the pipeline slows down ' +
    'instead of buffering: memory stays bounded by `batch`. Network errors, timeouts, leader elections and `NOT_ENOUGH_REPLICAS` are retried ' +
    '(each attempt includes 2 quick retries inside the client, 1 s apart); once `retry.max_attempts` is spent the records are dead-lettered, ' +
    'so raise it to ride out longer outages. ' +
    'A record the broker refuses (`MESSAGE_TOO_LARGE`, `INVALID_RECORD`) goes to the dead-letter output with the broker\'s reason while the ' +
    'rest of its batch is written; authorization failures and invalid topics dead-letter the records of that topic.\n\n' +
    'At start the sink checks that the brokers answer and that a fixed `topic` exists; either failure stops the pipeline with a clear message. ' +
    'Records are sent in order per partition; a write larger than `max_request_bytes` becomes several requests sent one after the other.\n\n' +
    'Compression `zstd` is not available on Node 20 (the client needs Node 22\'s zlib).',
  options,
  examples: [
    {
      title: 'JSON events keyed by user, compressed with lz4',
      yaml: 'type: kafka\ninputs: [clean]\nbrokers: ["${KAFKA_BROKERS:-127.0.0.1:9092}"]\ntopic: events\nkey: "{user_id}"\ncompression: lz4\n',
    },
    {
      title: 'One topic per country, with a header',
      yaml: 'type: kafka\ninputs: [orders]\nbrokers: kafka-1:9092,kafka-2:9092\ntopic: "orders-{country}"\nheaders: { origin: sluice }\nbatch: { linger: 10ms }\n',
    },
  ],
  // The client library loads only when the sink opens (see component/lazy.ts).
  build: (opts, ctx) => lazySink(async () => new (await import('./sink.js')).KafkaSink(opts, ctx)),
})
