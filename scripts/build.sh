#!/usr/bin/env bash
# Compiles the TypeScript (src/ and scripts/*.ts) to dist/ with tsc -p tsconfig.build.json; bin/tresor runs
# dist/src/cli/main.js. Type checking is `npm run typecheck`'s job: the build only emits (noCheck), so a type
# error never stops the server from being run, just as with tsx, but a syntax error fails the build.
#
# Usage: scripts/build.sh               build now (what `npm run build` runs)
#        scripts/build.sh --if-stale    build only when dist/ is missing or older than a source file
#                                       (scripts/install.sh, bin/tresor, the test helpers, `npm test`)
# Progress goes to stderr, and only to a terminal with --if-stale, so a CLI command's output stays its own.
#
# Callers run at the same time (parallel test files that each start bin/tresor): the build holds a lock on
# dist/.build.lock, and whoever waited for it checks again before building. dist/.built is touched when a
# build starts and moved into place when it succeeds, so a source saved during a build makes the next
# check stale. bin/tresor repeats the staleness test inline (keep the two in step).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if_stale=false
case "${1:-}" in
  --if-stale) if_stale=true ;;
  '') ;;
  *) echo "usage: $0 [--if-stale]" >&2; exit 2 ;;
esac

stale() {
  [ ! -f dist/.built ] ||
    [ -n "$(find src scripts tsconfig.json tsconfig.build.json -newer dist/.built \( -name '*.ts' ! -name '*.test.ts' -o -name 'tsconfig*.json' \) -print -quit)" ]
}

if $if_stale && ! stale; then exit 0; fi

tsc=node_modules/typescript/bin/tsc
if [ ! -f "$tsc" ]; then
  echo "tresor: dist/ is missing or older than src/, and TypeScript is not installed to build it: run ./scripts/install.sh (or npm ci && npm run build)" >&2
  exit 1
fi

mkdir -p dist
exec 9>dist/.build.lock
if command -v flock >/dev/null 2>&1; then flock 9; fi
# Someone else may have built while this one waited for the lock.
if $if_stale && ! stale; then exit 0; fi

if ! $if_stale || [ -t 2 ]; then echo "==> tsc -p tsconfig.build.json (dist/)" >&2; fi
touch dist/.built.next
if ! out=$(node "$tsc" -p tsconfig.build.json 2>&1); then
  printf '%s\n' "$out" >&2
  echo "tresor: the build failed (tsc -p tsconfig.build.json); dist/ is not up to date" >&2
  exit 1
fi
mv dist/.built.next dist/.built
