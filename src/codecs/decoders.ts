// The record decoders of byte-reading sources, by format. Kept apart from codecs/index.ts (option
// schemas, Avro, protobuf) so a chunk worker thread loads only what decoding needs.
import { ConfigError } from '../core/errors.js'
import { CsvDecoder, type CsvOptions } from './formats/csv.js'
import { JsonlDecoder } from './formats/jsonl.js'
import { LinesDecoder } from './formats/lines.js'
import { DEFAULT_MAX_RAW_BYTES } from './framing/newline.js'
import type { DecoderPosition, RecordDecoder } from './types.js'

export type DecoderFormat = 'csv' | 'jsonl' | 'lines'

export interface DecoderOptions {
  /** CSV dialect and column types (format `csv` only). */
  csv?: CsvOptions
  /** Longest record in bytes (terminator excluded); longer ones are dead-lettered. */
  maxRecordBytes: number
  /** Cap on the raw bytes copied into one dead letter (default 64 KiB). */
  maxRawBytes?: number
  /**
   * Only these top-level fields need to be in the records (SourceContext.fields); undefined:
   * all. Records decode the same and fail the same either way; unneeded fields are left out.
   */
  fields?: readonly string[]
}

/**
 * A decoder for `format`, starting at `position` (default: offset 0, line 1, no state) so a source
 * can resume mid-stream from a checkpoint. Throws ConfigError for an invalid CSV dialect.
 */
export function createDecoder(format: DecoderFormat, options: DecoderOptions, position?: DecoderPosition): RecordDecoder {
  const framing = { maxRecordBytes: options.maxRecordBytes, maxRawBytes: options.maxRawBytes ?? DEFAULT_MAX_RAW_BYTES }
  switch (format) {
    case 'csv':
      return new CsvDecoder({ ...options.csv, ...framing, fields: options.fields }, position)
    case 'jsonl':
      return new JsonlDecoder(framing, position, options.fields)
    case 'lines':
      return new LinesDecoder(framing, position)
    default:
      throw new ConfigError('SLC_CONFIG_INVALID', `unknown record format "${String(format)}"`)
  }
}

