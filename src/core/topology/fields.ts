// Projection pushdown: which top-level fields anything downstream of a source reads, so the
// source's decoder can leave the other fields undecoded (bytes stay bytes). Computed once per
// run from the transforms' `fields()` (component/define.ts, FieldUse).
import type { Transform } from '../../component/define.js'
import type { Graph } from './graph.js'

/**
 * The fields read downstream of `sourceId`, or undefined when some consumer may read any field:
 * a sink, or a transform that does not declare `fields()` (a user function, enrich, dedupe).
 * Walks through transforms that pass their input records on (filter, route, map without keep)
 * and stops at those that emit records of their own (aggregate, map with keep).
 */
export function fieldsReadFrom(graph: Graph, built: ReadonlyMap<string, Transform>, sourceId: string): string[] | undefined {
  const reads = new Set<string>()
  const visited = new Set<string>()
  const walk = (id: string): boolean => {
    for (const edges of graph.nodes.get(id)!.consumers) {
      for (const e of edges) {
        if (graph.nodes.get(e.to)!.config.kind !== 'transform') return false
        const use = built.get(e.to)?.fields?.()
        if (use === undefined) return false
        for (const f of use.reads) reads.add(f)
        if (use.passes && !visited.has(e.to)) {
          visited.add(e.to)
          if (!walk(e.to)) return false
        }
      }
    }
    return true
  }
  return walk(sourceId) ? [...reads] : undefined
}
