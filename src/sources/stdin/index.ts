// The `stdin` source: records from standard input, decoded like the file source.
import { csvOptionsSchema } from '../../codecs/index.js'
import { createDecoder } from '../../codecs/index.js'
import { WorkBuffer, emitDecoded, newDecodeOutput, pushDownFilter, resetDecodeOutput } from '../../component/byte-source.js'
import { defineSource, type Source } from '../../component/define.js'
import { byteSize, z } from '../../component/options.js'

/** Bytes of an incomplete record kept in its dead letter. */
const MAX_RAW = 64 * 1024

const options = z.strictObject({
  format: z.enum(['csv', 'jsonl', 'lines']).default('lines').meta({ description: '`csv`, `jsonl` or `lines` (each line becomes `{ message }`).' }),
  csv: csvOptionsSchema.optional().meta({ description: 'CSV dialect and column types (format `csv` only).' }),
  max_record_bytes: byteSize('Largest record accepted; a longer one is dead-lettered and skipped.', '1MiB'),
  batch_size: z.number().int().positive().default(2048).meta({ description: 'Most records per batch handed downstream.' }),
})

export const stdin = defineSource({
  type: 'stdin',
  status: 'beta',
  summary: 'Read records from standard input until it closes.',
  description: 'Nothing is checkpointed: standard input cannot be rewound. Backpressure pauses reading, so a producer piping into Sluice is slowed, never buffered without bound. Dead letters name the origin `stdin` with the line number.',
  options,
  examples: [{ title: 'JSON lines piped in', yaml: 'type: stdin\nformat: jsonl' }],
  build: (o): Source => ({
    async run(ctx) {
      const decoder = createDecoder(o.format, { csv: o.csv, maxRecordBytes: o.max_record_bytes, fields: ctx.fields }, { offset: 0, line: 1 })
      pushDownFilter(ctx, decoder)
      const work = new WorkBuffer(256 * 1024, o.max_record_bytes)
      const out = newDecodeOutput()
      const input = process.stdin
      const onAbort = () => input.destroy()
      ctx.signal.addEventListener('abort', onAbort, { once: true })
      try {
        for await (const chunk of input as AsyncIterable<Buffer>) {
          work.push(chunk, decoder, out)
          ctx.progress({ bytesRead: chunk.length })
          await emitDecoded(ctx, out, decoder.position(), { batchSize: o.batch_size, file: 'stdin', bytes: chunk.length, prefiltered: decoder.takePrefiltered?.() })
          resetDecodeOutput(out)
        }
      } catch (e) {
        if (!ctx.signal.aborted) throw e
      } finally {
        ctx.signal.removeEventListener('abort', onAbort)
      }
      work.freeRegion()
      if (ctx.signal.aborted) {
        // Stopped mid-stream: an incomplete last record is not a record (a cut `2,50` is not
        // `2,5`). It cannot be read again from a pipe, so it goes to the dead-letter output.
        if (work.pending > 0) {
          const p = ctx.deadLetter([{ code: 'SLC_SOURCE_TRUNCATED', message: 'stdin: shutdown before this record was complete', file: 'stdin', line: decoder.position().line, raw: Buffer.from(work.buf.subarray(0, Math.min(work.pending, MAX_RAW))), rawTruncated: work.pending > MAX_RAW }])
          if (p) await p
        }
        return
      }
      work.commit(0, true, decoder, out)
      await emitDecoded(ctx, out, decoder.position(), { batchSize: o.batch_size, file: 'stdin', bytes: 0, prefiltered: decoder.takePrefiltered?.() })
    },
  }),
})
