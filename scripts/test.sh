#!/usr/bin/env bash
# Installs what is needed, type-checks, and runs the whole test suite with node's test runner.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
./scripts/install.sh
echo "==> typecheck"
npx tsc --noEmit -p .
./scripts/audit.sh
echo "==> tests"
npm test
