// Shared by the parse transform's tests.
import assert from 'node:assert/strict'
import type { RecordTransform } from '../../src/component/define.js'
import { RecordError } from '../../src/core/errors.js'

/** The message of the SLC_RECORD_PARSE error `t` throws for `record` (fails the test if none). */
export function parseError(t: RecordTransform, record: Record<string, unknown>): string {
  try {
    t.process(record)
  } catch (e) {
    assert.ok(e instanceof RecordError, String(e))
    assert.equal(e.code, 'SLC_RECORD_PARSE')
    return e.message
  }
  assert.fail('expected a parse error')
}
