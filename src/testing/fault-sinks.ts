// Sinks for tests: `collect` keeps what it was given (per pipeline run, by name), `faulty` is slow,
// flaky or rejecting on command. Both declare `batch` and `retry` like every real sink.
import { defineSink } from '../component/define.js'
import { batchOptions, duration, retryOptions, z } from '../component/options.js'
import type { Rec } from '../core/batch.js'
import { PartialBatchError, PermanentError, RetryableError } from '../core/errors.js'
import { sleep } from '../delivery/backoff.js'

/** Records written by `collect` sinks, by the sink's `name` option. */
export type CollectedRecords = Map<string, Rec[]>

/** A `collect` sink type bound to one map, so parallel tests never share state. */
export function collectSink(into: CollectedRecords = new Map()) {
  return defineSink({
    type: 'collect',
    status: 'alpha',
    summary: 'Keep written records in memory (tests).',
    options: z.strictObject({
      name: z.string().meta({ description: 'Key under which records are collected.' }),
      batch: batchOptions({ max_records: 1000, max_bytes: '1MiB', linger: '5ms' }),
      retry: retryOptions(),
    }),
    build: (o) => ({
      write(records) {
        const list = into.get(o.name) ?? []
        for (const r of records) list.push(structuredClone(r))
        into.set(o.name, list)
      },
      close() {},
    }),
  })
}

/** A sink that waits, fails transiently, or rejects records, to prove delivery guarantees. */
export function faultySink(into: CollectedRecords = new Map()) {
  return defineSink({
    type: 'faulty',
    status: 'alpha',
    summary: 'A sink that is slow, flaky or rejecting on purpose (tests).',
    options: z.strictObject({
      name: z.string().meta({ description: 'Key under which written records are collected.' }),
      delay: duration('Time every write takes.', '0ms'),
      fail_first: z.number().int().min(0).default(0).meta({ description: 'The first N writes throw a retryable error.' }),
      permanent: z.boolean().default(false).meta({ description: 'Every write fails permanently.' }),
      reject_field: z.string().optional().meta({ description: 'Records whose field of this name is truthy are rejected (partial batch).' }),
      keep: z.boolean().default(true).meta({ description: 'Keep written records (turn off for memory tests).' }),
      batch: batchOptions({ max_records: 1000, max_bytes: '1MiB', linger: '5ms' }),
      retry: retryOptions(),
    }),
    build: (o) => {
      let writes = 0
      return {
        async write(records, signal) {
          writes++
          if (o.delay > 0) await sleep(o.delay, signal)
          if (writes <= o.fail_first) throw new RetryableError(`injected failure ${writes}/${o.fail_first}`)
          if (o.permanent) throw new PermanentError('injected permanent failure')
          const failed = new Map<number, Error>()
          const list = into.get(o.name) ?? []
          records.forEach((r, i) => {
            if (o.reject_field && r[o.reject_field]) failed.set(i, new Error(`rejected: ${o.reject_field} is set`))
            else if (o.keep) list.push(structuredClone(r))
          })
          into.set(o.name, list)
          if (failed.size > 0) throw new PartialBatchError(failed)
        },
        close() {},
      }
    },
  })
}
