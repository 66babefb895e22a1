// Main-thread side of portable steps (core/threads/portable.ts): which components of a pipeline
// a source may run in its worker threads.
import type { TransformDeclaration } from '../../component/define.js'
import { filter } from '../../transforms/filter.js'
import { map } from '../../transforms/map.js'
import type { Graph } from '../topology/graph.js'
import { PORTABLE_STEPS } from './portable.js'

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
