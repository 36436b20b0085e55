#!/usr/bin/env bash
# Installs what Tresor needs on Debian: SoftHSM2 and OpenSC (for the HSM seal and its tests), OpenSSL (TLS tests),
# python3-hvac (Vault-client compatibility tests), etcd-server (HA tests), chromium (UI tests), then the npm dependencies (pkcs11js and better-sqlite3 compile
# with node-gyp), compiles the TypeScript to dist/ (scripts/build.sh), which bin/tresor runs, and builds the web UI into ui/dist.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

need_apt=()
[ -e /usr/lib/softhsm/libsofthsm2.so ] || need_apt+=(softhsm2)
command -v pkcs11-tool >/dev/null 2>&1 || need_apt+=(opensc)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)   # TLS tests make a self-signed certificate
# node-gyp builds pkcs11js and better-sqlite3 from source.
command -v make >/dev/null 2>&1 || need_apt+=(make)
command -v g++ >/dev/null 2>&1 || need_apt+=(g++)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
# HA tests start a real etcd; UI tests drive Debian's chromium (no browser download).
command -v etcd >/dev/null 2>&1 || need_apt+=(etcd-server)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# The hvac compatibility tests run Debian's hvac with the system Python (not a pyenv/venv one first on PATH).
/usr/bin/python3 -c 'import hvac' >/dev/null 2>&1 || need_apt+=(python3-hvac)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
      echo "tresor install: the Debian packages ${need_apt[*]} are missing and this is not root." >&2
      echo "Run as root, or: sudo apt-get install -y ${need_apt[*]}" >&2
      exit 1
    fi
  else SUDO=; fi
  echo "==> apt-get install ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
  echo "tresor install: Node.js 20 or newer is required (found $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

# Reinstall only when the lock file changed since the last install.
stamp=node_modules/.tresor-install-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "==> npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

# Compile src/ to dist/ once; later runs rebuild only when a source is newer than the last build.
./scripts/build.sh --if-stale
