// The one place where the kafka sink decides what a failed produce means: retry the request,
// isolate records the broker refused, reject a whole partition's records, or give up.
import { produceFailureDetails } from '../../clients/kafka.js'
import { PermanentError, RetryableError } from '../../core/errors.js'

/**
 * Broker errors about the records themselves: the batch of that partition is split until the
 * offending record is alone, and that record is dead-lettered with the broker's reason.
 * (CORRUPT_MESSAGE also covers "null key on a compacted topic".)
 */
const RECORD_ERRORS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE', 'INVALID_TIMESTAMP'])

/** Errors no retry fixes, for every record sent to that topic or partition (or in the request). */
const PERMANENT_ERRORS = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED',
  'ILLEGAL_SASL_STATE',
  'UNSUPPORTED_SASL_MECHANISM',
  'INVALID_TOPIC_EXCEPTION',
  'POLICY_VIOLATION',
  'UNSUPPORTED_COMPRESSION_TYPE',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
  'UNSUPPORTED_VERSION',
  'INVALID_REQUIRED_ACKS',
  // Client-side: authentication failed, or the client refused the send before any request
  // (bad input; an unknown topic found while the request was being built).
  'PLT_KFK_AUTHENTICATION',
  'PLT_KFK_USER',
  'PLT_KFK_UNSUPPORTED_COMPRESSION',
  'PLT_KFK_UNSUPPORTED_API',
  'PLT_KFK_UNSUPPORTED',
])

/**
 * The broker no longer knows this producer's id or sequence: continue only with a new producer id.
 * Retrying is safe (what the broker refused was not written).
 */
const PRODUCER_STATE_ERRORS = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'INVALID_PRODUCER_ID_MAPPING'])

/** What to do with the records of one topic-partition of a failed send. */
export type PartitionVerdict =
  | { action: 'written' }
  | { action: 'retry'; reason: string }
  /** Split and send again; a record alone is rejected with `reason`. */
  | { action: 'isolate'; reason: string }
  | { action: 'reject'; reason: string }

export type ProduceVerdict =
  /** No per-partition answer (network, timeout, client refusal): the whole request failed. */
  | { scope: 'request'; error: RetryableError | PermanentError; resetProducer: boolean }
  /** The broker answered per partition, keyed `topic:partition`; a partition missing here had no answer. */
  | { scope: 'partitions'; partitions: Map<string, PartitionVerdict>; message: string }

/**
 * Classify a failed `KafkaProducer.send`. Retryable: network errors, timeouts, leader elections
 * (LEADER_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER), NOT_ENOUGH_REPLICAS, throttling, and any error
 * not known to be permanent (retries are bounded by `retry.max_attempts`, then the records are
 * dead-lettered, so guessing "transient" never loses data). Permanent: authorization, invalid
 * topic, policy violations, unsupported features. Per record: too large, invalid record.
 */
export function classifyProduceFailure(err: unknown): ProduceVerdict {
  const details = produceFailureDetails(err)
  if (details.partitions) {
    const partitions = new Map<string, PartitionVerdict>()
    for (const p of details.partitions) {
      const key = `${p.topic}:${p.partition}`
      if (p.error === undefined) {
        partitions.set(key, { action: 'written' })
        continue
      }
      const reason = `Kafka refused the write to ${p.topic}/${p.partition}: ${p.error}${p.detail ? ` (${p.detail})` : ''}`
      if (RECORD_ERRORS.has(p.error)) partitions.set(key, { action: 'isolate', reason })
      else if (PERMANENT_ERRORS.has(p.error)) partitions.set(key, { action: 'reject', reason })
      else partitions.set(key, { action: 'retry', reason })
    }
    return { scope: 'partitions', partitions, message: details.message }
  }
  const names = [...details.names]
  const message = `Kafka produce failed: ${details.message}`
  if (names.some((n) => PERMANENT_ERRORS.has(n)) && !names.some((n) => n === 'PLT_KFK_NETWORK' || n === 'PLT_KFK_TIMEOUT')) {
    return { scope: 'request', error: new PermanentError(message, { cause: err }), resetProducer: true }
  }
  return { scope: 'request', error: new RetryableError(message, { cause: err }), resetProducer: names.some((n) => PRODUCER_STATE_ERRORS.has(n)) }
}
