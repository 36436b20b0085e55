#!/usr/bin/env bash
# Quick start: installs what is needed, creates a SoftHSM2 token (once), and starts Tresor on the
# embedded file store with the pkcs11 seal. On the first run it initialises the server with one
# recovery key; from then on every start auto-unseals through the HSM.
# State lives in ./.tresor (override with TRESOR_HOME). Listens on 127.0.0.1:8200 (TRESOR_LISTEN).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
./scripts/install.sh

home=${TRESOR_HOME:-$root/.tresor}
listen=${TRESOR_LISTEN:-127.0.0.1:8200}
mkdir -p "$home" && chmod 700 "$home"

if [ ! -f "$home/softhsm/softhsm2.conf" ]; then
  echo "==> creating SoftHSM2 token 'tresor' in $home/softhsm"
  umask 077
  od -An -N12 -tx1 /dev/urandom | tr -d ' \n' >"$home/hsm-pin"
  so_pin=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
  TRESOR_SOFTHSM_PIN=$(cat "$home/hsm-pin") TRESOR_SOFTHSM_SO_PIN=$so_pin \
    ./scripts/softhsm-token.sh "$home/softhsm" tresor >/dev/null
fi

cat >"$home/server.hcl" <<HCL
storage "file" {
  path = "$home/data"
}
listener "tcp" {
  address     = "$listen"
  tls_disable = true
}
seal "pkcs11" {
  lib            = "/usr/lib/softhsm/libsofthsm2.so"
  token_label    = "tresor"
  key_label      = "tresor-root"
  hmac_key_label = "tresor-hmac"
  generate_key   = "true"
}
api_addr = "http://$listen"
ui       = true
HCL

export SOFTHSM2_CONF="$home/softhsm/softhsm2.conf"
# The PIN comes from the environment so it never sits in the config file.
VAULT_HSM_PIN=$(cat "$home/hsm-pin")
export VAULT_HSM_PIN
export TRESOR_ADDR="http://$listen"

./bin/tresor server -config="$home/server.hcl" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' INT TERM

for _ in $(seq 1 100); do
  node -e "fetch(process.argv[1]).then(()=>process.exit(0),()=>process.exit(1))" "$TRESOR_ADDR/v1/sys/health" && break
  sleep 0.2
done
if ./bin/tresor operator init -status >/dev/null 2>&1; then
  echo "==> already initialised; auto-unsealing through the HSM"
else
  echo "==> initialising with 1 recovery key (saved to $home/init.json, mode 0600)"
  (umask 077; ./bin/tresor operator init -recovery-shares=1 -recovery-threshold=1 -format=json >"$home/init.json")
  echo "    Root token:   $(node -p "require('$home/init.json').root_token")"
  echo "    Recovery key: $(node -p "require('$home/init.json').recovery_keys_base64[0]")"
fi
echo "==> export TRESOR_ADDR=$TRESOR_ADDR; then try: ./bin/tresor status"
wait $server
