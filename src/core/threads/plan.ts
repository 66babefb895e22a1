// Main-thread side of portable steps (core/threads/portable.ts): which components of a pipeline
// a source may run in its worker threads.
import type { Transform, TransformDeclaration } from '../../component/define.js'
import { aggregate } from '../../transforms/aggregate/index.js'
import { Aggregate, preaggregable } from '../../transforms/aggregate/aggregate.js'
import type { AggregateOptions } from '../../transforms/aggregate/options.js'
import { filter } from '../../transforms/filter.js'
import { map } from '../../transforms/map.js'
import type { Graph } from '../topology/graph.js'
import { PORTABLE_STEPS } from './portable.js'
import type { PortableStep } from './protocol.js'

const DECLARATIONS: ReadonlySet<TransformDeclaration> = new Set<TransformDeclaration>([filter as TransformDeclaration, map as TransformDeclaration])

/** Whether `decl` (from the pipeline's registry) is a built-in portable step, not a look-alike. */
export function isPortable(decl: TransformDeclaration | undefined): boolean {
  return decl !== undefined && DECLARATIONS.has(decl) && PORTABLE_STEPS.has(decl.type)
}

/**
 * The ids of the record transforms that follow `sourceId` one after another and can all run in
 * a worker: each is the only consumer of the one before, has no other input, and is portable.
 */
export function portableChain(graph: Graph, isPortableNode: (id: string) => boolean, sourceId: string): string[] {
  const ids: string[] = []
  let node = graph.nodes.get(sourceId)!
  for (;;) {
    if (node.consumers.length !== 1 || node.consumers[0]!.length !== 1) return ids
    const next = graph.nodes.get(node.consumers[0]![0]!.to)!
    if (next.config.kind !== 'transform' || next.inputs.length !== 1 || !isPortableNode(next.config.id)) return ids
    ids.push(next.config.id)
    node = next
  }
}

/**
 * The aggregate that alone consumes `id` (a source or the last step of its portable chain), when
 * the source's workers may pre-aggregate for it: the built-in aggregate (not a look-alike), with
 * options `preaggregable` accepts. Its step for the workers, and the running instance that admits
 * partials.
 */
export function preaggregationTarget(
  graph: Graph,
  declarationOf: (id: string) => TransformDeclaration | undefined,
  built: ReadonlyMap<string, Transform>,
  id: string,
): { step: PortableStep; target: Aggregate } | undefined {
  const consumers = graph.nodes.get(id)!.consumers
  if (consumers.length !== 1 || consumers[0]!.length !== 1) return undefined
  const next = graph.nodes.get(consumers[0]![0]!.to)!
  const target = built.get(next.config.id)
  if (next.config.kind !== 'transform' || next.inputs.length !== 1 || declarationOf(next.config.id) !== (aggregate as TransformDeclaration)) return undefined
  if (!(target instanceof Aggregate) || !preaggregable(next.config.options as AggregateOptions)) return undefined
  return { step: { id: next.config.id, type: next.config.type, options: next.config.options }, target }
}
