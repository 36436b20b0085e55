#!/usr/bin/env bash
# Quick start: installs what is needed, creates a SoftHSM2 token (once), and starts Tresor on the
# embedded file store with the pkcs11 seal. On the first run it initialises the server with one
# recovery key; from then on every start auto-unseals through the HSM.
# State lives in ./.tresor (override with TRESOR_HOME). Listens on 127.0.0.1:8200 (TRESOR_LISTEN).
# TRESOR_SKIP_INSTALL=1 skips ./scripts/install.sh when everything is installed already (the tests).
#
# It only ever talks to the server it started: when the address is taken it stops before writing
# anything, and it sends `operator init` only once its own server has bound the address (the
# server writes its pid file after binding). init.json is written only when init succeeded.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

fail() {
  echo "tresor quickstart: $*" >&2
  exit 1
}

if [ "${TRESOR_SKIP_INSTALL:-}" = 1 ]; then ./scripts/build.sh --if-stale; else ./scripts/install.sh; fi

home=${TRESOR_HOME:-$root/.tresor}
listen=${TRESOR_LISTEN:-127.0.0.1:8200}
host=${listen%:*} port=${listen##*:}
host=${host#[} host=${host%]}
case "$port" in '' | *[!0-9]*) fail "TRESOR_LISTEN must be HOST:PORT (got \"$listen\")" ;; esac

# A server of an earlier quick start still running on this state directory (on any address).
if [ -s "$home/tresor.pid" ]; then
  old=$(cat "$home/tresor.pid")
  if [ -r "/proc/$old/cmdline" ] && tr '\0' ' ' <"/proc/$old/cmdline" | grep -qF -- "-config=$home/server.hcl"; then
    fail "a Tresor server (pid $old) started by an earlier quick start is still running on $home; stop it first (kill $old)"
  fi
fi

# Bind the address for a moment to see that it is free: nothing is sent to whoever holds it.
if ! why=$(node -e '
  const srv = require("node:net").createServer();
  srv.once("error", (e) => { process.stdout.write(e.code === "EADDRINUSE" ? "in use" : e.message); process.exit(1); });
  srv.listen(Number(process.argv[2]), process.argv[1], () => srv.close());
' "$host" "$port"); then
  if [ "$why" = "in use" ]; then
    cat >&2 <<MSG
tresor quickstart: $listen is already in use by another process, and the quick start only talks to a
server it started itself; nothing was written. Stop that process, or choose another address and a state
directory of its own, e.g.:
  TRESOR_LISTEN=127.0.0.1:8210 TRESOR_HOME=$root/.tresor-8210 ./scripts/quickstart.sh
MSG
    exit 1
  fi
  fail "cannot listen on $listen: $why (set TRESOR_LISTEN=HOST:PORT)"
fi

mkdir -p "$home" && chmod 700 "$home"

if [ ! -f "$home/softhsm/softhsm2.conf" ]; then
  echo "==> creating SoftHSM2 token 'tresor' in $home/softhsm"
  (
    umask 077
    od -An -N12 -tx1 /dev/urandom | tr -d ' \n' >"$home/hsm-pin"
    so_pin=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    TRESOR_SOFTHSM_PIN=$(cat "$home/hsm-pin") TRESOR_SOFTHSM_SO_PIN=$so_pin \
      ./scripts/softhsm-token.sh "$home/softhsm" tresor >/dev/null
  )
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
pid_file = "$home/tresor.pid"
ui       = true
HCL

export SOFTHSM2_CONF="$home/softhsm/softhsm2.conf"
# The PIN comes from the environment so it never sits in the config file.
VAULT_HSM_PIN=$(cat "$home/hsm-pin")
export VAULT_HSM_PIN
export TRESOR_ADDR="http://$listen"

rm -f "$home/tresor.pid"
server=
stop_server() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# bin/tresor execs node, so $! is the server's own pid, the one it writes to its pid file.
./bin/tresor server -config="$home/server.hcl" &
server=$!

# Bound: our server wrote its pid file (after binding). Ready: it answers sys/init (0 initialised,
# 2 not; 1 is no answer yet). Either way it must stay alive: a seal that cannot open stops it.
for i in $(seq 1 600); do
  kill -0 "$server" 2>/dev/null || fail "the server stopped during start-up (its messages are above); init.json was not written"
  if [ "$(cat "$home/tresor.pid" 2>/dev/null)" = "$server" ]; then
    status=0
    ./bin/tresor operator init -status >/dev/null 2>&1 || status=$?
    [ "$status" -ne 1 ] && break
  fi
  [ "$i" -eq 600 ] && fail "the server did not answer on $TRESOR_ADDR within 60 s"
  sleep 0.1
done

if [ "$status" -eq 0 ]; then
  echo "==> already initialised; auto-unsealing through the HSM"
else
  if [ -s "$home/init.json" ]; then
    # Keys of an earlier initialisation whose data is gone: kept, never overwritten.
    aside="$home/init.json.$(date +%Y%m%d%H%M%S)"
    mv "$home/init.json" "$aside"
    echo "==> kept the earlier init.json as $aside"
  fi
  echo "==> initialising with 1 recovery key (saved to $home/init.json, mode 0600)"
  out="$home/init.json.new"
  rm -f "$out"
  if ! (umask 077 && ./bin/tresor operator init -recovery-shares=1 -recovery-threshold=1 -format=json >"$out") ||
    ! node -e 'const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")); if (!r.root_token || !r.recovery_keys_b64?.[0]) process.exit(1)' "$out" 2>/dev/null; then
    rm -f "$out"
    fail "operator init failed (see above); init.json was not written"
  fi
  mv "$out" "$home/init.json"
  echo "    Root token:   $(node -p 'require(process.argv[1]).root_token' "$home/init.json")"
  echo "    Recovery key: $(node -p 'require(process.argv[1]).recovery_keys_b64[0]' "$home/init.json")"
fi
echo "==> web UI: $TRESOR_ADDR/ui/ (sign in with the root token)"
echo "==> export TRESOR_ADDR=$TRESOR_ADDR; then try: ./bin/tresor status"
wait "$server"
