// Brand checks of the error classes: they hold for errors from another loaded copy of Sluice (the
// CLI runs its bundle, dist/bundle/, while a user's module imports `sluice`, dist/index.js).
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { pathToFileURL } from 'node:url'
import * as errors from '../../src/core/errors.js'
import { isConfigError, isPartialBatchError, isRecordError, isRetryableError, isSluiceError } from '../../src/core/errors.js'

/** The compiled library (`npm test` builds it first): another copy of every class. */
const other = (await import(pathToFileURL(join(import.meta.dirname, '../../dist/index.js')).href)) as typeof errors

describe('error brand checks', () => {
  for (const [name, lib] of [['this copy', errors], ['another copy', other]] as const) {
    it(`recognise each class of ${name}, and its subclasses`, () => {
      class NotFound extends lib.RecordError {}
      const made = {
        config: new lib.ConfigError('SLC_CONFIG_INVALID', 'bad option'),
        retryable: new lib.RetryableError('try again', { retryAfterMs: 50 }),
        partial: new lib.PartialBatchError(new Map([[0, new Error('no')]])),
        record: new lib.RecordError('SLC_RECORD_PARSE', 'bad JSON'),
        subclass: new NotFound('SLC_RECORD_TRANSFORM', 'no such key'),
        permanent: new lib.PermanentError('never'),
      }
      const checks = { config: isConfigError, retryable: isRetryableError, partial: isPartialBatchError, record: isRecordError }
      const holds = (e: unknown) => Object.entries(checks).filter(([, is]) => is(e)).map(([k]) => k)
      assert.deepEqual(holds(made.config), ['config'])
      assert.deepEqual(holds(made.retryable), ['retryable'])
      assert.deepEqual(holds(made.partial), ['partial'])
      assert.deepEqual(holds(made.record), ['record'])
      assert.deepEqual(holds(made.subclass), ['record'])
      assert.deepEqual(holds(made.permanent), [])
      for (const e of Object.values(made)) assert.ok(isSluiceError(e), e.name)
      assert.equal(made.retryable instanceof errors.RetryableError, lib === errors)
    })
  }

  it('hold for nothing else', () => {
    for (const v of [undefined, null, 'SLC_RECORD_PARSE', new Error('x'), new errors.SluiceError('SLC_RECORD_PARSE', 'x'), { code: 'SLC_DELIVERY_RETRYABLE' }]) {
      assert.ok(!isRecordError(v) && !isRetryableError(v) && !isPartialBatchError(v) && !isConfigError(v), String(v))
    }
  })
})
