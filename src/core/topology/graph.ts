// The component graph of a pipeline: resolves `inputs` (including `router.output` references),
// and rejects unknown inputs, cycles and components nothing reads from, with config positions.
import type { ComponentConfig, PipelineConfig } from '../../config/types.js'
import { suggest } from '../../component/suggest.js'
import { ConfigError, ConfigErrors } from '../errors.js'

/** An edge: records leave `from` (through output `output` for routers) and enter `to`. */
export interface Edge {
  from: string
  /** Index into the router's outputs, or -1 for a plain component. */
  output: number
  to: string
}

export interface GraphNode {
  config: ComponentConfig
  /** Router output names (routers only). */
  outputs?: readonly string[]
  /** Edges leaving this node, grouped by output index (index 0 for non-routers). */
  consumers: Edge[][]
  inputs: Edge[]
}

export interface Graph {
  nodes: Map<string, GraphNode>
  /** Components in an order where every component comes after all of its inputs. */
  order: string[]
  /** Sinks that some component names as `dead_letter`. */
  deadLetterTargets: Set<string>
}

export function buildGraph(config: PipelineConfig): Graph {
  const errors: ConfigError[] = []
  const nodes = new Map<string, GraphNode>()
  for (const c of config.components) {
    const outputs = c.kind === 'transform' && 'outputs' in c.decl && c.decl.outputs ? c.decl.outputs(c.options as never) : undefined
    nodes.set(c.id, { config: c, outputs, consumers: outputs ? outputs.map(() => []) : [[]], inputs: [] })
  }

  const names = [...nodes.keys()]
  // Components some misspelt input probably meant: not also reported as "not read by anything".
  const probablyMeant = new Set<string>()
  for (const node of nodes.values()) {
    const c = node.config
    const listed = new Set<string>()
    c.inputs.forEach((ref, i) => {
      const where = { ...config.locate([...c.path, 'inputs', i]), component: c.id, path: `inputs[${i}]` }
      // Listing an input twice would deliver every record twice.
      if (listed.has(ref)) {
        errors.push(new ConfigError('SLC_CONFIG_TOPOLOGY', `${c.kind} "${c.id}" lists input "${ref}" twice`, { ...where, found: ref, expected: 'each input once' }))
        return
      }
      listed.add(ref)
      const dot = ref.indexOf('.')
      const name = dot < 0 ? ref : ref.slice(0, dot)
      const outputName = dot < 0 ? undefined : ref.slice(dot + 1)
      const from = nodes.get(name)
      if (!from) {
        const hint = suggest(name, names.filter((n) => n !== c.id))
        if (hint) probablyMeant.add(hint)
        errors.push(
          new ConfigError('SLC_CONFIG_TOPOLOGY', `${c.kind} "${c.id}" reads from "${ref}", which is not a component`, {
            ...where, expected: 'the name of a source or transform', found: ref, suggestion: hint,
          }),
        )
        return
      }
      if (from.config.kind === 'sink') {
        errors.push(new ConfigError('SLC_CONFIG_TOPOLOGY', `${c.kind} "${c.id}" reads from sink "${name}"; sinks have no output`, { ...where, found: ref }))
        return
      }
      let output = -1
      if (from.outputs) {
        if (outputName === undefined) {
          errors.push(
            new ConfigError('SLC_CONFIG_TOPOLOGY', `"${name}" is a router: read one of its outputs as "${name}.<output>"`, {
              ...where, expected: from.outputs.map((o) => `${name}.${o}`).join(', '), found: ref,
            }),
          )
          return
        }
        output = from.outputs.indexOf(outputName)
        if (output < 0) {
          errors.push(
            new ConfigError('SLC_CONFIG_TOPOLOGY', `"${name}" has no output "${outputName}"`, {
              ...where, expected: from.outputs.map((o) => `${name}.${o}`).join(', '), found: ref,
              suggestion: suggest(outputName, from.outputs)?.replace(/^/, `${name}.`),
            }),
          )
          return
        }
      } else if (outputName !== undefined) {
        errors.push(new ConfigError('SLC_CONFIG_TOPOLOGY', `"${name}" has no named outputs; read it as "${name}"`, { ...where, found: ref, suggestion: name }))
        return
      }
      const edge: Edge = { from: name, output, to: c.id }
      from.consumers[Math.max(output, 0)]!.push(edge)
      node.inputs.push(edge)
    })
  }

  const deadLetterTargets = new Set<string>()
  for (const c of config.components) if (c.deadLetter) deadLetterTargets.add(c.deadLetter)
  if (config.deadLetter) deadLetterTargets.add(config.deadLetter)

  for (const node of nodes.values()) {
    const c = node.config
    const read = node.consumers.some((edges) => edges.length > 0)
    if (c.kind !== 'sink' && !read && !probablyMeant.has(c.id)) {
      errors.push(
        new ConfigError('SLC_CONFIG_TOPOLOGY', `${c.kind} "${c.id}" is not read by any transform or sink`, {
          ...config.locate(c.path), component: c.id,
          expected: `"${c.id}" listed in the \`inputs\` of a transform or sink`,
        }),
      )
    }
    if (c.kind === 'sink' && c.inputs.length === 0 && !deadLetterTargets.has(c.id)) {
      errors.push(
        new ConfigError('SLC_CONFIG_TOPOLOGY', `sink "${c.id}" has no inputs and is not used as a dead_letter output`, {
          ...config.locate(c.path), component: c.id, expected: 'an `inputs` list',
        }),
      )
    }
    if (c.kind === 'sink' && deadLetterTargets.has(c.id) && c.deadLetter && deadLetterTargets.has(c.deadLetter)) {
      errors.push(
        new ConfigError('SLC_CONFIG_TOPOLOGY', `dead-letter sink "${c.id}" sends its own dead letters to another dead-letter sink "${c.deadLetter}"`, {
          ...config.locate([...c.path, 'dead_letter']), component: c.id, path: 'dead_letter',
          expected: 'no dead_letter on a dead-letter sink (its failures go to the default dead-letter file)',
        }),
      )
    }
  }

  const order = topologicalOrder(nodes, config, errors)
  if (errors.length > 0) throw new ConfigErrors(errors)
  return { nodes, order, deadLetterTargets }
}

/** Kahn's algorithm; the components left over that sit on a cycle are reported in one error. */
function topologicalOrder(nodes: Map<string, GraphNode>, config: PipelineConfig, errors: ConfigError[]): string[] {
  const remaining = new Map<string, number>()
  for (const [id, n] of nodes) remaining.set(id, n.inputs.length)
  const ready = [...remaining].filter(([, d]) => d === 0).map(([id]) => id)
  const order: string[] = []
  while (ready.length > 0) {
    const id = ready.pop()!
    order.push(id)
    for (const edges of nodes.get(id)!.consumers) {
      for (const e of edges) {
        const d = remaining.get(e.to)! - 1
        remaining.set(e.to, d)
        if (d === 0) ready.push(e.to)
      }
    }
  }
  if (order.length < nodes.size) {
    // Left over are the cycles plus everything downstream of them: peel off, repeatedly, the
    // left-over nodes none of whose consumers is left over, so only cycle members are named.
    const left = new Set([...remaining].filter(([, d]) => d > 0).map(([id]) => id))
    for (let changed = true; changed; ) {
      changed = false
      for (const id of left) {
        if (!nodes.get(id)!.consumers.some((edges) => edges.some((e) => left.has(e.to)))) {
          left.delete(id)
          changed = true
        }
      }
    }
    const cyclic = [...left]
    const first = nodes.get(cyclic[0]!)!.config
    // Point at the `inputs` entry that closes the cycle.
    const at = first.inputs.findIndex((ref) => left.has(ref.split('.')[0]!))
    errors.push(
      new ConfigError('SLC_CONFIG_TOPOLOGY', `the components ${cyclic.map((c) => `"${c}"`).join(', ')} form a cycle`, {
        ...config.locate([...first.path, 'inputs', ...(at >= 0 ? [at] : [])]), component: first.id, path: at >= 0 ? `inputs[${at}]` : 'inputs',
        expected: 'a graph without cycles (records flow from sources to sinks)',
      }),
    )
  }
  return order
}
