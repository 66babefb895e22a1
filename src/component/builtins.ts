// Every built-in component, listed explicitly (no registration by import side effects).
import { sinks } from '../sinks/index.js'
import { sources } from '../sources/index.js'
import { transforms } from '../transforms/index.js'
import { Registry } from './registry.js'

export const builtins = new Registry([...sources, ...transforms, ...sinks])
