# Shared by scripts/run and scripts/test: installs what is missing (and only that), and sets up
# the environment. Safe to source again and again.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/strongroom-target}"
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# The browser side is built by `cargo xtask site` (xtask/), with wasm-bindgen as a library: no
# cargo-leptos or wasm-bindgen-cli to install, only the wasm32 target.
ensure_rust_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
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

# What `scripts/run` serves: the optimised pair (release server, release site) unless
# STRONGROOM_DEBUG=1 asks for the quick-to-build debug pair.
profile() {
  if [ "${STRONGROOM_DEBUG:-0}" = 1 ]; then echo debug; else echo release; fi
}

# Builds the browser side into "$CARGO_TARGET_DIR/site/<debug|release>" (`cargo xtask site`:
# the app's WASM, its JS glue, wasm-opt in release, hashed names, brotli and gzip copies).
build_site() {
  local profile="$1"
  ensure_rust_tools
  cd "$ROOT"
  if [ "$profile" = release ]; then
    ensure_wasm_opt
    cargo xtask site --release
  else
    cargo xtask site
  fi
}

site_root() { echo "$CARGO_TARGET_DIR/site/$1"; }

# The server: `cargo build` with the features `cargo test` uses, so after the tests nothing is
# compiled again (server/Cargo.toml, reqwest).
build_server() {
  cd "$ROOT"
  if [ "$1" = release ]; then
    cargo build --release -p server --bin strongroom
  else
    cargo build -p server --bin strongroom
  fi
}

server_binary() { echo "$CARGO_TARGET_DIR/$1/strongroom"; }

# Release sites run wasm-opt; Debian's binaryen is too old (it breaks hydration), npm's is not.
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

# PyJWT with its RSA support: the OIDC tests' independent verifier of the issuer's tokens
# (server/tests/api/oidc/verify.py).
ensure_pyjwt() {
  if python3 -c 'import jwt, cryptography; jwt.PyJWKClient' 2>/dev/null; then return 0; fi
  log "installing PyJWT[crypto] (the OIDC tests' token verifier) from PyPI"
  python3 -m pip install --quiet 'pyjwt[crypto]'
}

# The AWS command line, for scripts/bench-provision's comparison.
ensure_awscli() {
  if command -v aws >/dev/null 2>&1; then return 0; fi
  log "installing awscli from PyPI"
  python3 -m pip install --quiet awscli
  hash -r
  if command -v pyenv >/dev/null 2>&1; then pyenv rehash || true; fi
}

# Whether the process with id $1 runs. A zombie (exited, not reaped yet: this machine's init
# reaps slowly) does not.
pid_alive() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null &&
    [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]
}

# Stops a process by its id: SIGTERM, then SIGKILL if it still runs after SECONDS (default 20),
# so a process that hangs on its way out cannot hang the script too. NAME (default "process")
# is for the message. Reaps it when it is this shell's child.
#   stop_pid PID [SECONDS] [NAME]
stop_pid() {
  local pid="$1" seconds="${2:-20}" name="${3:-process}"
  [ -n "$pid" ] || return 0
  # Already gone: still reaped below when it is a child left as a zombie.
  if ! pid_alive "$pid"; then
    wait "$pid" 2>/dev/null || true
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local waited=0
  while pid_alive "$pid" && [ "$waited" -lt $((seconds * 10)) ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  if pid_alive "$pid"; then
    echo "$name ($pid) did not stop within $seconds s of SIGTERM: killed" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
