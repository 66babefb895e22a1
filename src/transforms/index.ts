// The built-in transforms of the first release, listed once (no import side effects).
import type { TransformDeclaration } from '../component/define.js'
import { aggregate } from './aggregate/index.js'
import { dedupe } from './dedupe.js'
import { enrich } from './enrich/index.js'
import { filter } from './filter.js'
import { functionTransform } from './function.js'
import { map } from './map.js'
import { parse } from './parse.js'
import { route } from './route.js'

export { aggregate, dedupe, enrich, filter, functionTransform, map, parse, route }

export const transforms: readonly TransformDeclaration[] = [filter, map, route, parse, functionTransform, enrich, dedupe, aggregate]
