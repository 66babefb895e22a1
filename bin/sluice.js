#!/usr/bin/env node
// The `sluice` command: runs the compiled CLI (built by `npm install` through the `prepare` script).
import { main } from '../dist/cli/main.js'
main(process.argv).then((code) => { process.exitCode = code })
