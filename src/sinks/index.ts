// The built-in sinks, listed explicitly for the registry (src/component/builtins.ts).
import { file } from './file/index.js'
import { kafka } from './kafka/index.js'
import { sqlite } from './sqlite/index.js'
import { stdout } from './stdout/index.js'

export { file, kafka, sqlite, stdout }
export const sinks = [sqlite, file, stdout, kafka]
