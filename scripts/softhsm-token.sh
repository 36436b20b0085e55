#!/usr/bin/env bash
# Creates a private SoftHSM2 token for tests and the quick start.
# Usage: scripts/softhsm-token.sh DIR LABEL PIN SOPIN
# Prints the path of the SoftHSM2 config to export as SOFTHSM2_CONF.
set -euo pipefail

if [ "$#" -ne 4 ]; then
  echo "usage: $0 DIR LABEL PIN SOPIN" >&2
  exit 2
fi

dir=$1 label=$2 pin=$3 so_pin=$4
mkdir -p "$dir/tokens"
dir=$(cd "$dir" && pwd)
conf="$dir/softhsm2.conf"

cat >"$conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF

# softhsm2-util echoes the slot it reassigned the token to; keep stdout for the path only.
SOFTHSM2_CONF="$conf" softhsm2-util --init-token --free --label "$label" \
  --pin "$pin" --so-pin "$so_pin" >/dev/null

echo "$conf"
