#!/usr/bin/env bash
# Creates a private SoftHSM2 token for tests and the quick start.
# Usage: TRESOR_SOFTHSM_PIN=... TRESOR_SOFTHSM_SO_PIN=... scripts/softhsm-token.sh DIR LABEL
#        scripts/softhsm-token.sh DIR LABEL PIN SOPIN   (older form: the PINs show in the process list)
# Prints the path of the SoftHSM2 config to export as SOFTHSM2_CONF.
#
# The PINs never reach a command line here: softhsm2-util accepts them only as
# arguments (--pin/--so-pin; without them it insists on a terminal prompt), so
# the token is initialised through the PKCS#11 API by softhsm-init-token.ts,
# which reads both PINs from its stdin. SOFTHSM2_LIB overrides the library path.
set -euo pipefail

if [ "$#" -ne 2 ] && [ "$#" -ne 4 ]; then
  echo "usage: TRESOR_SOFTHSM_PIN=PIN TRESOR_SOFTHSM_SO_PIN=SOPIN $0 DIR LABEL" >&2
  exit 2
fi

dir=$1 label=$2
if [ "$#" -eq 4 ]; then
  echo "softhsm-token.sh: PINs given as arguments are visible in the process list; prefer TRESOR_SOFTHSM_PIN and TRESOR_SOFTHSM_SO_PIN" >&2
  pin=$3 so_pin=$4
else
  pin=${TRESOR_SOFTHSM_PIN:-} so_pin=${TRESOR_SOFTHSM_SO_PIN:-}
  if [ -z "$pin" ] || [ -z "$so_pin" ]; then
    echo "softhsm-token.sh: set TRESOR_SOFTHSM_PIN and TRESOR_SOFTHSM_SO_PIN" >&2
    exit 2
  fi
fi
# Children need neither variable: the PINs go to the initialiser on stdin only.
unset TRESOR_SOFTHSM_PIN TRESOR_SOFTHSM_SO_PIN

root=$(cd "$(dirname "$0")/.." && pwd)
lib=${SOFTHSM2_LIB:-/usr/lib/softhsm/libsofthsm2.so}
mkdir -p "$dir/tokens"
dir=$(cd "$dir" && pwd)
conf="$dir/softhsm2.conf"

cat >"$conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF

# The initialiser runs compiled (dist/scripts/softhsm-init-token.js), like bin/tresor.
"$root/scripts/build.sh" --if-stale
# printf is a shell builtin: no process is started with the PINs as arguments.
printf '%s\n%s\n' "$so_pin" "$pin" | SOFTHSM2_CONF="$conf" node "$root/dist/scripts/softhsm-init-token.js" "$lib" "$label" >&2

echo "$conf"
