// `import()` for code that may run inside the CLI bundle. The bundle is compiled by `vm.Script`
// with a V8 code cache (cli/code-cache.ts), and on Node 20 a function compiled from a code cache
// loses the script's dynamic-import callback ("A dynamic import callback was not specified"). The
// loader, a real ES module, lends its own `import()` through globalThis; elsewhere (the library
// API, tests) this is a plain `import()`.

/** Where cli/code-cache.ts puts its `import()`. */
export const LENT_IMPORT = Symbol.for('sluice.import')

type Import = (specifier: string) => Promise<Record<string, unknown>>

export function dynamicImport(specifier: string): Promise<Record<string, unknown>> {
  const lent = (globalThis as { [LENT_IMPORT]?: Import })[LENT_IMPORT]
  return lent ? lent(specifier) : (import(specifier) as Promise<Record<string, unknown>>)
}
