// The kafka sink's failure classification, fed errors shaped exactly as @platformatic/kafka 1.35
// builds them (the classes come through the adapter). The real-broker cases (MESSAGE_TOO_LARGE,
// a broker down) are in kafka.test.ts; these cover answers a single test broker cannot give.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MultipleErrors, NetworkError, ResponseError, UserError } from '../../src/clients/kafka.js'
import { PermanentError, RetryableError } from '../../src/core/errors.js'
import { classifyProduceFailure } from '../../src/sinks/kafka/classify-error.js'

const PRODUCE_API = 0

/** A produce answer for topic `t`, partitions 0..n-1 with these error codes (0 = written). */
function produceAnswer(codes: number[]): Error {
  const response = {
    responses: [{ name: 't', partitionResponses: codes.map((errorCode, index) => ({ index, errorCode, baseOffset: 0n, errorMessage: null, recordErrors: [] })) }],
    throttleTimeMs: 0,
  }
  const errors: Record<string, [number, null]> = {}
  codes.forEach((c, j) => {
    if (c !== 0) errors[`/responses/0/partition_responses/${j}`] = [c, null]
  })
  // The producer wraps each destination's failure in "Producing messages failed.".
  return new MultipleErrors('Producing messages failed.', [new ResponseError(PRODUCE_API, 11, errors, response)])
}

describe('kafka sink: classifyProduceFailure', () => {
  it('sorts a per-partition answer: written, record-level, permanent, retryable', () => {
    // 0 written, 10 MESSAGE_TOO_LARGE, 29 TOPIC_AUTHORIZATION_FAILED, 19 NOT_ENOUGH_REPLICAS, 6 NOT_LEADER_OR_FOLLOWER
    const v = classifyProduceFailure(produceAnswer([0, 10, 29, 19, 6]))
    assert.equal(v.scope, 'partitions')
    if (v.scope !== 'partitions') return
    assert.deepEqual([...v.partitions].map(([k, p]) => [k, p.action]), [
      ['t:0', 'written'],
      ['t:1', 'isolate'],
      ['t:2', 'reject'],
      ['t:3', 'retry'],
      ['t:4', 'retry'],
    ])
    const tooLarge = v.partitions.get('t:1')!
    assert.ok('reason' in tooLarge && /MESSAGE_TOO_LARGE/.test(tooLarge.reason))
  })

  it('network failures are retryable and keep the producer (a resend is deduplicated by the broker)', () => {
    const err = new MultipleErrors('Producing messages failed.', [
      new MultipleErrors('produce failed 3 times.', [new NetworkError('Connection to 127.0.0.1:9 failed.', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) })]),
    ])
    const v = classifyProduceFailure(err)
    assert.equal(v.scope, 'request')
    if (v.scope !== 'request') return
    assert.ok(v.error instanceof RetryableError)
    assert.equal(v.resetProducer, false)
    assert.match(v.error.message, /ECONNREFUSED|Connection to/)
  })

  it('a client refusal (unknown topic found while sending) is permanent', () => {
    const v = classifyProduceFailure(new UserError('Unknown topic gone.'))
    assert.equal(v.scope, 'request')
    if (v.scope === 'request') assert.ok(v.error instanceof PermanentError)
  })

  it('an error it does not know is retried (retries are bounded, so this never loses data)', () => {
    const v = classifyProduceFailure(new Error('something new'))
    assert.equal(v.scope, 'request')
    if (v.scope === 'request') assert.ok(v.error instanceof RetryableError)
  })
})
