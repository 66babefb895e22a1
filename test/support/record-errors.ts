// Assertions on record-level errors, shared by the codec and parse tests.
import assert from 'node:assert/strict'
import { RecordError } from '../../src/core/errors.js'

/** The message of the SLC_RECORD_PARSE RecordError `fn` throws (fails the test otherwise). */
export function recordParseError(fn: () => unknown): string {
  try {
    fn()
  } catch (e) {
    assert.ok(e instanceof RecordError, `expected a RecordError, got ${String(e)}`)
    assert.equal(e.code, 'SLC_RECORD_PARSE')
    return e.message
  }
  assert.fail('expected a parse error')
}
