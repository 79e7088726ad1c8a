# Shared by scripts/cluster/start and stop: logging, phase timing, free ports and stopping a
# process by its recorded id (never by name: other clusters or helpers may run the same daemons).
set -euo pipefail

CLUSTER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# pid_alive and stop_pid.
source "$CLUSTER_DIR/../lib.sh"
# Written at the top of /etc/slurm/slurm.conf so stop (and a second start) know whose it is.
SLURM_CONF_MARK="# written by strongroom scripts/cluster/start for"
SYSTEM_SLURM_CONF=/etc/slurm/slurm.conf

say() { printf '\033[1mcluster: %s\033[0m\n' "$*" >&2; }
fail() {
  printf 'cluster: %s\n' "$*" >&2
  exit 1
}

need_root() {
  [ "$(id -u)" = 0 ] || fail "run this as root: it installs packages, creates accounts and starts daemons"
}

# Runs one start phase and prints how long it took.
PHASE_TIMES=""
phase() {
  local name="$1" started ended
  shift
  started=$(date +%s.%N)
  say "$name"
  "$@"
  ended=$(date +%s.%N)
  local took
  took=$(awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.1f", b - a }')
  say "$name: ${took}s"
  PHASE_TIMES="$PHASE_TIMES $name=${took}s"
}

# A TCP port nobody listens on at this moment, on loopback.
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Reads a process id file; prints nothing when it is missing or empty.
read_pid() { [ -s "$1" ] && tr -dc '0-9' <"$1" || true; }

# TERM, wait up to 10 s, then KILL the process whose id is in the file $2 (named $1 in messages).
stop_recorded() {
  stop_pid "$(read_pid "$2")" 10 "$1"
  rm -f "$2"
}

# The slurm.conf our daemons and every login shell read; only touched when it is ours.
slurm_conf_owner() {
  [ -f "$SYSTEM_SLURM_CONF" ] || return 0
  sed -n "1s|^$SLURM_CONF_MARK ||p" "$SYSTEM_SLURM_CONF"
}
