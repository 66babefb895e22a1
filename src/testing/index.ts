// The test kit that ships with Sluice: sinks that collect, slow down or fail on purpose, and a
// helper that runs a YAML pipeline in-process. Used by Sluice's own tests; users prove their
// pipelines with it too.
export { collectSink, faultySink, type CollectedRecords } from './fault-sinks.js'
export { runYaml, type RunYamlOptions } from './from-yaml.js'
export { conformanceRecords, sinkConformance, type SinkConformanceOptions } from './conformance.js'
