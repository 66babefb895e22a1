// Connectors whose client library is heavy load it only when a pipeline actually uses them:
// `@platformatic/kafka` alone adds ~46 MiB of RSS to a process that merely imports it, which
// every file → SQLite pipeline, `sluice validate` and `sluice components` would otherwise pay.
// The declaration (options, docs) stays light and is imported eagerly by the registry; `build`
// returns one of these, and the implementation module is imported when the source starts or
// the sink opens. Anything that must fail at build (a config error) is done in `build` itself.
import type { Sink, Source } from './define.js'

/** A source whose implementation is created (and its module imported) when it starts running. */
export function lazySource<R>(load: () => Promise<Source<R>>): Source<R> {
  return {
    async run(ctx) {
      const source = await load()
      return source.run(ctx)
    },
  }
}

/** A sink whose implementation is created (and its module imported) when it opens. */
export function lazySink(load: () => Promise<Sink>): Sink {
  let sink: Sink | undefined
  let loading: Promise<Sink> | undefined
  const ready = (): Promise<Sink> => (loading ??= load().then((s) => (sink = s)))
  return {
    async open() {
      const s = await ready()
      await s.open?.()
    },
    async write(records, signal) {
      const s = sink ?? (await ready())
      await s.write(records, signal)
    },
    async close() {
      // Never opened: nothing was created, so nothing needs closing (and nothing is imported).
      if (loading) await (await loading).close()
    },
  }
}
