/** The `function` transform: runs a user's own JavaScript or TypeScript function on each record or on whole batches. */
import { stat } from 'node:fs/promises'
import { extname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { defineTransform, type BatchTransform } from '../component/define.js'
import { path, z } from '../component/options.js'
import type { Rec } from '../core/batch.js'
import { RecordError, SluiceError, isRecordError } from '../core/errors.js'
import { dynamicImport } from '../core/dynamic-import.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a user's function has any signature
type UserFunction = (...args: any[]) => unknown

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx'])

const options = z
  .strictObject({
    module: path(
      'JavaScript or TypeScript module exporting the function (`.js`, `.mjs`, `.cjs`, `.ts`, `.mts`); relative paths resolve against the ' +
        'config file\'s folder. TypeScript is compiled on load, without type checking.',
    ).optional(),
    export: z.string().min(1).default('default').meta({ description: 'Name of the module\'s export holding the function; `default` for `export default`.' }),
    mode: z
      .enum(['record', 'batch'])
      .default('record')
      .meta({
        description:
          '`record`: called once per record as `fn(record)`; it returns the record (changed or new), `null`/`undefined` to drop it, or ' +
          'an array of records to emit several; it may be async. `batch`: called once per batch as `fn(records)`; it returns the ' +
          'output records (or a promise of them), for work that is cheaper in bulk (one lookup for many records).',
      }),
    fn: z
      .custom<UserFunction>((v) => typeof v === 'function', 'expected a function')
      .optional()
      .meta({ description: 'The function itself, instead of `module` (TypeScript API only; not available in YAML).' }),
  })
  .superRefine((o, ctx) => {
    if ((o.module === undefined) === (o.fn === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: o.module === undefined ? ['module'] : ['fn'],
        message: o.module === undefined ? 'function needs `module`, the file exporting the function' : 'give either `module` or `fn`, not both',
      })
    }
  })

export type FunctionOptions = z.output<typeof options>

/**
 * Record mode. A BatchTransform, not a RecordTransform, because a call may emit several records
 * or return a promise. The loop stays synchronous until the first promise: then the rest of the
 * batch is awaited one record at a time, so records keep their order and a user function is
 * never running twice at once.
 */
class RecordFunction implements BatchTransform {
  readonly kind = 'batch'
  readonly #id: string
  readonly #fn: UserFunction

  constructor(id: string, fn: UserFunction) {
    this.#id = id
    this.#fn = fn
  }

  process(records: Rec[], reject: (index: number, error: unknown) => void): Rec[] | Promise<Rec[]> {
    const out: Rec[] = []
    for (let i = 0; i < records.length; i++) {
      let result: unknown
      try {
        result = this.#fn(records[i])
        if (isPromise(result)) return this.#continueAsync(records, i, result, out, reject)
        collect(this.#id, result, out)
      } catch (e) {
        // One failing record is dead-lettered on its own; the rest of the batch goes on.
        reject(i, userError(this.#id, e))
      }
    }
    return out
  }

  async #continueAsync(records: Rec[], from: number, pending: Promise<unknown>, out: Rec[], reject: (index: number, error: unknown) => void): Promise<Rec[]> {
    for (let i = from; i < records.length; i++) {
      try {
        collect(this.#id, await (i === from ? pending : this.#fn(records[i])), out)
      } catch (e) {
        reject(i, userError(this.#id, e))
      }
    }
    return out
  }
}

/** Batch mode: one call per batch; a throw or a rejected promise fails the whole batch. */
class BatchFunction implements BatchTransform {
  readonly kind = 'batch'
  readonly #id: string
  readonly #fn: UserFunction

  constructor(id: string, fn: UserFunction) {
    this.#id = id
    this.#fn = fn
  }

  process(records: Rec[]): Rec[] | Promise<Rec[]> {
    let result: unknown
    try {
      result = this.#fn(records)
    } catch (e) {
      throw userError(this.#id, e)
    }
    // Promise.resolve: the runtime tests `instanceof Promise`, and a user may return any thenable.
    if (isPromise(result)) {
      return Promise.resolve(result).then(
        (r) => checkBatch(this.#id, r),
        (e: unknown) => Promise.reject(userError(this.#id, e)),
      )
    }
    return checkBatch(this.#id, result)
  }
}

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function'
}

/** Append what one record-mode call returned: a record, an array of records, or nothing. */
function collect(id: string, result: unknown, out: Rec[]): void {
  if (result === undefined || result === null) return
  if (Array.isArray(result)) {
    for (let j = 0; j < result.length; j++) out.push(checkRecord(id, result[j], 'an element of the returned array'))
    return
  }
  out.push(checkRecord(id, result, 'the return value'))
}

function checkRecord(id: string, v: unknown, what: string): Rec {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Rec
  throw new RecordError('SLC_RECORD_TRANSFORM', `function "${id}": ${what} is ${kindOf(v)}; expected a record object (or null/undefined to drop it)`)
}

function checkBatch(id: string, result: unknown): Rec[] {
  if (!Array.isArray(result)) {
    throw new RecordError('SLC_RECORD_TRANSFORM', `function "${id}": batch mode must return an array of records, got ${kindOf(result)}`)
  }
  for (let i = 0; i < result.length; i++) checkRecord(id, result[i], `element ${i} of the returned array`)
  return result as Rec[]
}

function userError(id: string, e: unknown): RecordError {
  // A brand check, not instanceof: the user's module imports RecordError from `sluice`
  // (dist/index.js), another copy of the class than the CLI bundle's.
  if (isRecordError(e)) return e
  const message = e instanceof Error ? e.message : String(e)
  return new RecordError('SLC_RECORD_TRANSFORM', `function "${id}" threw: ${message}`, { cause: e })
}

function kindOf(v: unknown): string {
  if (v === null) return 'null'
  if (v === undefined) return 'undefined'
  if (Array.isArray(v)) return 'an array'
  return `${typeof v === 'object' ? 'an' : 'a'} ${typeof v}`
}

/** Import the module and pick the export; every failure is SLC_FUNCTION_LOAD with the reason. */
async function loadFunction(id: string, baseDir: string, module: string, exportName: string): Promise<UserFunction> {
  const file = resolve(baseDir, module)
  const fail = (reason: string, cause?: unknown): SluiceError =>
    new SluiceError('SLC_FUNCTION_LOAD', `function "${id}": ${reason}`, cause === undefined ? undefined : { cause })
  try {
    const s = await stat(file)
    if (!s.isFile()) throw fail(`module ${file} is not a file`)
  } catch (e) {
    if (e instanceof SluiceError) throw e
    throw fail(`module not found: ${file}`, e)
  }
  let mod: Record<string, unknown>
  try {
    const url = pathToFileURL(file).href
    if (TS_EXTENSIONS.has(extname(file))) {
      // tsx compiles TypeScript on the fly, scoped to this import (no global loader hook). It is
      // imported lazily: pipelines without a TypeScript function never pay for loading it.
      const { tsImport } = (await dynamicImport('tsx/esm/api')) as typeof import('tsx/esm/api')
      mod = (await tsImport(url, import.meta.url)) as Record<string, unknown>
    } else {
      mod = await dynamicImport(url)
    }
  } catch (e) {
    throw fail(`cannot load module ${file}: ${e instanceof Error ? e.message : String(e)}`, e)
  }
  let value = mod[exportName]
  // A CommonJS module's `module.exports = fn` arrives as `default`; `exports.name = fn` may sit
  // under `default` too, depending on how Node detected the names. A TypeScript module outside
  // an ES-module package is compiled to CommonJS: its `export default` is then `default.default`.
  const commonJs = typeof mod.default === 'object' && mod.default !== null ? (mod.default as Record<string, unknown>) : undefined
  if (commonJs && (value === undefined || (exportName === 'default' && commonJs.__esModule === true))) value = commonJs[exportName]
  if (value === undefined) {
    const names = Object.keys(mod).filter((k) => k !== '__esModule')
    throw fail(`module ${file} has no export "${exportName}" (it exports: ${names.length ? names.join(', ') : 'nothing'})`)
  }
  if (typeof value !== 'function') throw fail(`export "${exportName}" of ${file} is ${kindOf(value)}, not a function`)
  return value as UserFunction
}

export const functionTransform = defineTransform({
  type: 'function',
  status: 'beta',
  summary: 'Run your own JavaScript or TypeScript function on each record or batch.',
  description:
    'Loads `module` (TypeScript too: it is compiled when the pipeline starts) and calls its export on the records.\n\n' +
    '**Record mode** (default): `fn(record)` is called for each record, in order. Return the record (mutating it is fine ' +
    'and cheapest), a new object, `null` or `undefined` to drop it, or an array to emit several records. An async ' +
    'function is awaited one record at a time, keeping the order; for concurrent I/O use batch mode.\n\n' +
    '```ts\n// enrich.ts\nexport default function (order: { amount: number; currency: string }) {\n' +
    '  return { ...order, amount_eur: order.amount * RATES[order.currency] }\n}\n```\n\n' +
    '**Batch mode**: `fn(records)` is called once per batch and returns the output records, or a promise of them: do one ' +
    'lookup for many records, or run requests concurrently.\n\n' +
    '**Errors.** A throw (or a rejected promise) becomes code `SLC_RECORD_TRANSFORM` with the thrown message. In batch ' +
    'mode it fails the whole batch, so every record of that batch goes to the dead-letter output: validate per record ' +
    'inside the function when that matters. In record mode only the record that threw is dead-lettered; the rest of the batch goes on. Returning something that is not a record (a number, a string) is an error as well.\n\n' +
    'A missing module, a missing export or an export that is not a function stops the pipeline at start with ' +
    '`SLC_FUNCTION_LOAD`. The function runs on the main thread: keep per-record work synchronous and short.',
  options,
  examples: [
    { title: 'A TypeScript function per record', yaml: 'type: function\ninputs: [orders]\nmodule: ./functions/enrich.ts' },
    {
      title: 'A named export called once per batch',
      yaml: 'type: function\ninputs: [orders]\nmodule: ./functions/lookup.mjs\nexport: lookupCustomers\nmode: batch',
    },
  ],
  async build(opts, ctx) {
    const fn = opts.fn ?? (await loadFunction(ctx.id, ctx.baseDir, opts.module!, opts.export))
    return opts.mode === 'batch' ? new BatchFunction(ctx.id, fn) : new RecordFunction(ctx.id, fn)
  },
})
