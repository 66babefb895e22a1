// Which transforms may run inside a source's worker threads. A worker cannot receive functions,
// only options; so a step qualifies when it is a built-in record transform whose behaviour is
// a pure function of its validated options (no I/O, no state across records, no user code).
import type { TransformDeclaration } from '../../component/define.js'
import type { Graph } from '../topology/graph.js'
import { filter } from '../../transforms/filter.js'
import { map } from '../../transforms/map.js'

export const PORTABLE_TRANSFORMS: ReadonlyMap<string, TransformDeclaration> = new Map<string, TransformDeclaration>([
  [filter.type, filter as TransformDeclaration],
  [map.type, map as TransformDeclaration],
])

/** Whether `decl` (from the pipeline's registry) is one of the built-ins above, not a look-alike. */
export function isPortable(decl: TransformDeclaration | undefined): boolean {
  return decl !== undefined && PORTABLE_TRANSFORMS.get(decl.type) === decl
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
