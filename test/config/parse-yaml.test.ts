// The launcher's parse of a config is the loader's: one parse per start, never a document the
// loader changed handed out again.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadConfigText } from '../../src/config/load.js'
import { parseConfigYaml, takeParsedYaml } from '../../src/config/parse-yaml.js'
import type { ConfigErrors } from '../../src/core/errors.js'
import { builtins as registry } from '../../src/component/builtins.js'

const text = `
data_dir: \${STATE:-state}
sources:
  in: { type: generator, count: 1, fields: { id: sequence } }
sinks:
  out: { type: stdout, inputs: [in] }
`

test('the loader takes the document the launcher parsed, once; later loads parse afresh', () => {
  const launcher = parseConfigYaml(text)
  assert.equal(parseConfigYaml(text), launcher, 'the launcher reads one parse however often it asks')
  assert.equal(takeParsedYaml(text).doc, launcher.doc, 'the loader takes it')
  const again = takeParsedYaml(text)
  assert.notEqual(again.doc, launcher.doc, 'taken documents are not handed out again')
  assert.notEqual(parseConfigYaml(`${text}\n`).doc, again.doc, 'another text is parsed')
})

test('a config loaded after the launcher parsed it: ${VAR} resolved per load, errors with their line', () => {
  parseConfigYaml(text)
  assert.equal(loadConfigText(text, { registry, env: { STATE: 'a' }, baseDir: '/tmp' }).dataDir, '/tmp/a')
  // The first load interpolated its document in place: the second must not see that one.
  assert.equal(loadConfigText(text, { registry, env: { STATE: 'b' }, baseDir: '/tmp' }).dataDir, '/tmp/b')
  const duplicate = 'sources:\n  a: { type: generator }\n  a: { type: generator }\n'
  parseConfigYaml(duplicate)
  // Positions come from the launcher's line counter, taken with its document.
  assert.throws(() => loadConfigText(duplicate, { registry, file: 'x.yaml' }), (e: ConfigErrors) => {
    assert.deepEqual(e.errors.map((x) => [x.code, x.location.file, x.location.line, x.location.column]), [['SLC_CONFIG_SYNTAX', 'x.yaml', 3, 3]])
    return true
  })
})
