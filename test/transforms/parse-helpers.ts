// Shared by the parse transform's tests.
import type { RecordTransform } from '../../src/component/define.js'
import { recordParseError } from '../support/record-errors.js'

/** The message of the SLC_RECORD_PARSE error `t` throws for `record` (fails the test if none). */
export function parseError(t: RecordTransform, record: Record<string, unknown>): string {
  return recordParseError(() => t.process(record))
}
