// `${VAR}`, `${VAR:-default}` and `$$` in one string. Free of the config schemas, so the CLI
// launcher reads `memory_limit` as the loader would without loading the engine (cli/launch.ts).

export type Env = Record<string, string | undefined>

const REFERENCE_RE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g
export const WHOLE_REFERENCE_RE = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/

/**
 * Substitutes references in one string. `${VAR:-default}` uses the default when VAR is unset or
 * empty (as in POSIX shells); `${VAR}` with VAR unset is reported in `missing` and left as written.
 */
export function interpolateString(text: string, env: Env): { value: string; missing: string[] } {
  const missing: string[] = []
  const value = text.replace(REFERENCE_RE, (whole, name: string | undefined, fallback: string | undefined) => {
    if (name === undefined) return '$'
    const v = env[name]
    if (fallback !== undefined) return v === undefined || v === '' ? fallback : v
    if (v === undefined) {
      missing.push(name)
      return whole
    }
    return v
  })
  return { value, missing }
}
