#!/usr/bin/env bash
# `npm test`: build (the CLI tests run the compiled `sluice`), type-check everything including the
# type tests of the TypeScript API, check generated docs are fresh, then run every test file.
# node:test on Node 20 does not find .ts files by itself, so the files are listed explicitly.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== build"
npm run --silent build
echo "== type-check (src, tests, test/types/*.tst.ts, examples)"
npx tsc -p tsconfig.json --noEmit
echo "== generated docs and WebAssembly modules are up to date"
npx tsx scripts/gen-docs.ts --check
npx tsx scripts/build-wasm.ts --check
echo "== tests"
mapfile -t files < <(find test -name '*.test.ts' -not -path '*/fixtures/*' | sort)
node --import tsx --test --test-concurrency=2 "${files[@]}"
