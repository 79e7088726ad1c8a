# Shared by scripts/run and scripts/test: installs what is missing (and only that), and sets up
# the environment. Safe to source again and again.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/strongroom-target}"
export PATH="$HOME/.cargo/bin:$PATH"

CARGO_LEPTOS_VERSION=0.3.10
# Must equal the wasm-bindgen crate pinned in Cargo.toml, or the site build fails.
WASM_BINDGEN_VERSION=0.2.130

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

ensure_rust_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 6 minutes, once)"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
  fi
  if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 13 minutes, once)"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --debug --force
  fi
}

ensure_browser() {
  if [ ! -x /usr/bin/chromium ]; then
    log "installing Debian's chromium"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  if [ ! -d "$ROOT/end2end/node_modules/@playwright/test" ] || [ ! -d "$ROOT/end2end/node_modules/@axe-core/playwright" ]; then
    log "installing the end-to-end test packages"
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund)
  fi
}

ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return 0; fi
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && return 0
    sleep 1
  done
  echo "PostgreSQL is not reachable at 127.0.0.1:5432 and could not be started." >&2
  exit 1
}

# Builds the server and the browser bundle (debug unless STRONGROOM_RELEASE=1).
build_site() {
  ensure_rust_tools
  cd "$ROOT"
  if [ "${STRONGROOM_RELEASE:-0}" = 1 ]; then
    ensure_wasm_opt
    cargo leptos build --release
  else
    cargo leptos build
  fi
}

server_binary() {
  if [ "${STRONGROOM_RELEASE:-0}" = 1 ]; then echo "$CARGO_TARGET_DIR/release/strongroom"; else echo "$CARGO_TARGET_DIR/debug/strongroom"; fi
}

# Release builds run wasm-opt; Debian's binaryen is too old (it breaks hydration), npm's is not.
ensure_wasm_opt() {
  local dir="$HOME/.cache/strongroom-binaryen"
  if [ ! -x "$dir/node_modules/.bin/wasm-opt" ]; then
    log "installing binaryen 132 (wasm-opt) from npm"
    mkdir -p "$dir" && (cd "$dir" && npm install --no-audit --no-fund --no-save binaryen@132.0.0 >/dev/null)
  fi
  export PATH="$dir/node_modules/.bin:$PATH"
}

# moto, the AWS emulator the AWS provider's integration tests run against (moto_server).
ensure_moto() {
  if command -v moto_server >/dev/null 2>&1 && python3 -c 'import moto, flask' 2>/dev/null; then return 0; fi
  log "installing moto[server] (the AWS emulator) from PyPI"
  python3 -m pip install --quiet 'moto[server]'
  hash -r
  if command -v pyenv >/dev/null 2>&1; then pyenv rehash || true; fi
}

# The AWS command line, for scripts/bench-provision's comparison.
ensure_awscli() {
  if command -v aws >/dev/null 2>&1; then return 0; fi
  log "installing awscli from PyPI"
  python3 -m pip install --quiet awscli
  hash -r
  if command -v pyenv >/dev/null 2>&1; then pyenv rehash || true; fi
}
