// Every built-in source declaration.
import { file } from './file/index.js'
import { generator } from './generator/index.js'
import { stdin } from './stdin/index.js'

export const sources = [file, generator, stdin]
export { file, generator, stdin }
