// The JSON Schema (draft 2020-12) of a whole config file, for `sluice schema` and editor
// autocompletion; built from the same zod schemas the loader validates with.
import type { AnyDeclaration } from '../component/define.js'
import { z } from '../component/options.js'
import type { Registry } from '../component/registry.js'
import { commonKeysSchema, COMPONENT_NAME_RE, SECTIONS, settingsSchema } from './types.js'

type JsonSchema = Record<string, unknown>

/** Input side (what a user writes); anything JSON Schema cannot express is left open. */
const toJson = (schema: z.ZodType): JsonSchema => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema
  return rest
}

/**
 * The config file schema. Each section maps component names to a `oneOf` over the registered
 * types of its kind; every branch pins `type` with `const`, so editors pick the branch from it
 * and then offer that type's options and the common keys, with their descriptions.
 */
export function configJsonSchema(registry: Registry): object {
  const settings = toJson(settingsSchema)
  const defs: JsonSchema = {}
  const properties: JsonSchema = { ...(settings.properties as JsonSchema) }
  for (const section of SECTIONS) {
    const branches = registry.all(section.kind).map((decl) => componentSchema(decl, defs))
    // Only `transforms` may be empty (or written as a bare `transforms:`).
    const optional = section.kind === 'transform'
    properties[section.key] = {
      type: optional ? ['object', 'null'] : 'object',
      ...(optional ? {} : { minProperties: 1 }),
      description: section.description,
      propertyNames: { pattern: COMPONENT_NAME_RE.source },
      additionalProperties: branches.length ? { oneOf: branches } : false,
    }
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Sluice pipeline config',
    type: 'object',
    properties,
    required: ['sources', 'sinks'],
    additionalProperties: false,
    ...(Object.keys(defs).length ? { $defs: defs } : {}),
  }
}

function componentSchema(decl: AnyDeclaration, defs: JsonSchema): JsonSchema {
  const options = hoistDefs(toJson(decl.options), `${decl.kind}.${decl.type}.`, defs)
  if (options.type !== 'object') throw new Error(`options of ${decl.kind} "${decl.type}" must be an object schema`)
  const common = toJson(commonKeysSchema(decl.kind))
  const commonProps = common.properties as JsonSchema
  return {
    title: `${decl.type} ${decl.kind}`,
    description: decl.summary,
    type: 'object',
    properties: {
      ...commonProps,
      type: { ...(commonProps.type as JsonSchema), const: decl.type },
      ...(options.properties as JsonSchema | undefined),
    },
    required: [...new Set([...(common.required as string[]), ...((options.required as string[] | undefined) ?? [])])],
    additionalProperties: false,
  }
}

/**
 * Moves a component schema's `$defs` (from recursive or id-registered zod schemas) to the root
 * under a per-component prefix, rewriting its `$ref`s, so two components' definitions never clash.
 */
function hoistDefs(schema: JsonSchema, prefix: string, defs: JsonSchema): JsonSchema {
  const { $defs, ...rest } = schema
  if (!$defs) return rest
  const rewrite = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(rewrite)
    if (typeof v !== 'object' || v === null) return v
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) =>
        k === '$ref' && typeof x === 'string' && x.startsWith('#/$defs/') ? [k, `#/$defs/${prefix}${x.slice(8)}`] : [k, rewrite(x)],
      ),
    )
  }
  for (const [name, def] of Object.entries($defs as JsonSchema)) defs[prefix + name] = rewrite(def)
  return rewrite(rest) as JsonSchema
}
