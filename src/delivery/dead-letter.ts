// The dead-letter envelope: what a record that could not be processed or delivered becomes.
// One shape for every component, so `sluice dlq` tooling (a later issue) reads one format.
import { isUtf8 } from 'node:buffer'
import type { Origin, Rec } from '../core/batch.js'
import type { ErrorCode } from '../core/errors.js'

export interface DeadLetter extends Rec {
  /** When it was dead-lettered (ISO-8601). */
  ts: string
  /** The component that gave up on the record. */
  component: string
  code: ErrorCode
  message: string
  origin: Origin
  /** The original bytes: UTF-8 text, or base64 when `raw_encoding` says so. */
  raw?: string
  raw_encoding?: 'utf8' | 'base64'
  raw_truncated?: boolean
  /** The record as it was when it failed (after earlier transforms). */
  record?: Rec
}

export function deadLetter(
  component: string,
  code: ErrorCode,
  message: string,
  origin: Origin,
  extra: { raw?: Buffer | string; rawTruncated?: boolean; record?: Rec } = {},
): DeadLetter {
  const d: DeadLetter = { ts: new Date().toISOString(), component, code, message, origin }
  if (extra.raw !== undefined) {
    if (typeof extra.raw === 'string') {
      d.raw = extra.raw
      d.raw_encoding = 'utf8'
    } else if (isUtf8(extra.raw)) {
      d.raw = extra.raw.toString('utf8')
      d.raw_encoding = 'utf8'
    } else {
      d.raw = extra.raw.toString('base64')
      d.raw_encoding = 'base64'
    }
    if (extra.rawTruncated) d.raw_truncated = true
  }
  if (extra.record !== undefined) d.record = extra.record
  return d
}
