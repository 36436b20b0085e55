#!/usr/bin/env bash
# Runs `npm audit` on the production and dev dependencies. Fails on a high or
# critical advisory; when the registry does not answer audit requests (some
# mirrors refuse the bulk endpoint), says so and passes, since nothing was learnt.
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(timeout 120 npm audit --json --audit-level=high 2>/dev/null)
rc=$?
if node -e '
  const r = JSON.parse(require("fs").readFileSync(0, "utf8") || "{}");
  if (r.metadata && r.metadata.vulnerabilities) process.exit(0);
  process.exit(3);
' <<<"$out"; then
  node -e '
    const v = JSON.parse(require("fs").readFileSync(0, "utf8")).metadata.vulnerabilities;
    console.log(`npm audit: ${v.critical} critical, ${v.high} high, ${v.moderate} moderate, ${v.low} low`);
  ' <<<"$out"
  if [ $rc -ne 0 ]; then
    echo "npm audit: high or critical advisories found; run 'npm audit' for details" >&2
    exit 1
  fi
  exit 0
fi
echo "npm audit: the registry did not answer the audit request (rc=$rc); no advisories checked"
exit 0
