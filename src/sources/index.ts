// Every built-in source declaration.
import { file } from './file/index.js'
import { generator } from './generator/index.js'
import { kafka } from './kafka/index.js'
import { stdin } from './stdin/index.js'

export const sources = [file, generator, kafka, stdin]
export { file, generator, kafka, stdin }
