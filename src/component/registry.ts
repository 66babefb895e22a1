// The registry of component declarations: a plain value (no import side effects), so a test can
// build an isolated one and `builtins.ts` lists every built-in in one greppable place.
import type { AnyDeclaration, ComponentKind, SinkDeclaration, SourceDeclaration, TransformDeclaration } from './define.js'

type DeclarationOf<K extends ComponentKind> = K extends 'source'
  ? SourceDeclaration
  : K extends 'transform'
    ? TransformDeclaration
    : SinkDeclaration

export class Registry {
  private readonly byKind = new Map<ComponentKind, Map<string, AnyDeclaration>>([
    ['source', new Map()],
    ['transform', new Map()],
    ['sink', new Map()],
  ])

  constructor(declarations: readonly AnyDeclaration[] = []) {
    for (const d of declarations) this.add(d)
  }

  add(decl: AnyDeclaration): this {
    const kind = this.byKind.get(decl.kind)!
    if (kind.has(decl.type)) throw new Error(`duplicate ${decl.kind} type "${decl.type}"`)
    kind.set(decl.type, decl)
    return this
  }

  /** A copy with more declarations (user plugins). */
  with(...declarations: AnyDeclaration[]): Registry {
    return new Registry([...this.all(), ...declarations])
  }

  get<K extends ComponentKind>(kind: K, type: string): DeclarationOf<K> | undefined {
    return this.byKind.get(kind)!.get(type) as DeclarationOf<K> | undefined
  }

  types(kind: ComponentKind): string[] {
    return [...this.byKind.get(kind)!.keys()].sort()
  }

  all(kind?: ComponentKind): AnyDeclaration[] {
    const kinds: ComponentKind[] = kind ? [kind] : ['source', 'transform', 'sink']
    return kinds.flatMap((k) => [...this.byKind.get(k)!.values()].sort((a, b) => a.type.localeCompare(b.type)))
  }
}
