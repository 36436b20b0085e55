#!/usr/bin/env bash
# Compiles the TypeScript (src/ and scripts/*.ts) to dist/ with tsc -p tsconfig.build.json; bin/tresor runs
# dist/src/cli/main.js. Then builds the web UI (ui/, Vite + Preact) into ui/dist, which the server serves at /ui/
# (skipped with a note when Vite is not installed; a server without it answers /ui/ with a 503 saying so). Type checking is `npm run typecheck`'s job: the build only emits (noCheck), so a type
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

# The UI is stale when ui/dist is missing or older than a file of ui/ (its sources, index.html, vite config).
ui_stale() {
  [ -d ui ] && { [ ! -f dist/.ui-built ] || [ ! -f ui/dist/index.html ] ||
    [ -n "$(find ui -path ui/dist -prune -o -type f -newer dist/.ui-built -print -quit)" ]; }
}

build_ui() {
  ui_stale || return 0
  vite=node_modules/vite/bin/vite.js
  if [ ! -f "$vite" ]; then
    echo "tresor: Vite is not installed, so the web UI (ui/) is not built; run ./scripts/install.sh" >&2
    return 0
  fi
  if ! $if_stale || [ -t 2 ]; then echo "==> vite build (ui/dist)" >&2; fi
  mkdir -p dist
  touch dist/.ui-built.next
  if ! out=$(node "$vite" build --config ui/vite.config.ts --logLevel warn 2>&1); then
    printf '%s\n' "$out" >&2
    echo "tresor: the UI build failed (vite build, ui/); ui/dist is not up to date" >&2
    exit 1
  fi
  mv dist/.ui-built.next dist/.ui-built
}

if $if_stale && ! stale && ! ui_stale; then exit 0; fi

tsc=node_modules/typescript/bin/tsc
if [ ! -f "$tsc" ]; then
  echo "tresor: dist/ is missing or older than src/, and TypeScript is not installed to build it: run ./scripts/install.sh (or npm ci && npm run build)" >&2
  exit 1
fi

mkdir -p dist
exec 9>dist/.build.lock
if command -v flock >/dev/null 2>&1; then flock 9; fi
# Someone else may have built while this one waited for the lock.
if $if_stale && ! stale && ! ui_stale; then exit 0; fi
if $if_stale && ! stale; then build_ui; exit 0; fi

if ! $if_stale || [ -t 2 ]; then echo "==> tsc -p tsconfig.build.json (dist/)" >&2; fi
touch dist/.built.next
if ! out=$(node "$tsc" -p tsconfig.build.json 2>&1); then
  printf '%s\n' "$out" >&2
  echo "tresor: the build failed (tsc -p tsconfig.build.json); dist/ is not up to date" >&2
  exit 1
fi
mv dist/.built.next dist/.built
build_ui
