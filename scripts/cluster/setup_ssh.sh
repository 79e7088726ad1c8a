# Sourced by scripts/cluster/start: the two test accounts with their SSH keys, and an sshd on a
# free loopback port with its own host key. Needs STATE, lib.sh and `record` (setup_slurm.sh).

TEST_ACCOUNTS=(srtest-alice srtest-bob)
KEYS="$STATE/keys"
SSHD_DIR="$STATE/sshd"

new_key() {
  local file="$1" comment="$2" passphrase="${3:-}"
  [ -f "$file" ] || ssh-keygen -q -t ed25519 -N "$passphrase" -C "$comment" -f "$file"
  chmod 0600 "$file"
  chmod 0644 "$file.pub"
}

make_account() {
  local name="$1" home group
  id -u "$name" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$name"
  # Without PAM, sshd refuses a locked account ("!" as password) even for keys; "*" is only
  # "no password", so keys work and passwords never do.
  usermod --password '*' --shell /bin/bash "$name"
  home=$(getent passwd "$name" | cut -d: -f6)
  group=$(id -gn "$name")
  [ -d "$home" ] || install -d -o "$name" -g "$group" -m 0755 "$home"
  chmod go-w "$home" # StrictModes refuses keys under a home others can write
  install -d -o "$name" -g "$group" -m 0700 "$home/.ssh"
  new_key "$KEYS/$name" "$name@strongroom-test"
  local keys=("$KEYS/$name.pub")
  if [ "$name" = srtest-alice ]; then
    keys+=("$KEYS/alice-pass.pub")
  fi
  cat "${keys[@]}" >"$home/.ssh/authorized_keys.new"
  chown "$name:$group" "$home/.ssh/authorized_keys.new"
  chmod 0600 "$home/.ssh/authorized_keys.new"
  mv "$home/.ssh/authorized_keys.new" "$home/.ssh/authorized_keys"
}

make_accounts() {
  install -d -m 0700 "$KEYS"
  # Test data, not a secret: the passphrase of alice's second key, kept for a restart.
  [ -s "$KEYS/alice-pass.passphrase" ] ||
    (umask 077 && od -An -N12 -tx1 /dev/urandom | tr -d ' \n' >"$KEYS/alice-pass.passphrase")
  local passphrase
  passphrase=$(cat "$KEYS/alice-pass.passphrase")
  new_key "$KEYS/alice-pass" "srtest-alice-passphrase@strongroom-test" "$passphrase"
  new_key "$KEYS/stranger" "stranger@strongroom-test" # in nobody's authorized_keys
  local name
  for name in "${TEST_ACCOUNTS[@]}"; do make_account "$name"; done

  record ACCOUNTS "$(
    IFS=,
    echo "${TEST_ACCOUNTS[*]}"
  )"
  record ALICE_USER srtest-alice
  record ALICE_UID "$(id -u srtest-alice)"
  record ALICE_KEY "$KEYS/srtest-alice"
  record ALICE_PASS_KEY "$KEYS/alice-pass"
  record ALICE_PASSPHRASE "$passphrase"
  record BOB_USER srtest-bob
  record BOB_UID "$(id -u srtest-bob)"
  record BOB_KEY "$KEYS/srtest-bob"
  record STRANGER_KEY "$KEYS/stranger"
}

fingerprint() { ssh-keygen -lf "$1" | awk '{print $2}'; }

# A login port per scheduler stand-in (LSF, PBS, Moab, Grid Engine): the same sshd and accounts,
# with that stand-in's directory first on PATH (PBS and Grid Engine both have a qsub).
declare -A FAKE_PORTS=()

write_sshd_config() {
  local scheduler
  cat <<EOF
# The test cluster's login node (scripts/cluster/start): loopback only, keys only.
ListenAddress 127.0.0.1
Port $1
$(for scheduler in "${!FAKE_PORTS[@]}"; do echo "Port ${FAKE_PORTS[$scheduler]}"; done)
HostKey $SSHD_DIR/ssh_host_ed25519_key
PidFile $STATE/sshd.pid
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
PermitRootLogin no
AllowUsers ${TEST_ACCOUNTS[*]}
AuthorizedKeysFile .ssh/authorized_keys
StrictModes yes
MaxStartups 100
MaxSessions 50
Subsystem sftp internal-sftp
LogLevel VERBOSE
EOF
  for scheduler in "${!FAKE_PORTS[@]}"; do
    printf 'Match LocalPort %s\n    SetEnv PATH=%s:/usr/local/bin:/usr/bin:/bin\n' \
      "${FAKE_PORTS[$scheduler]}" "$STATE/fake-$scheduler"
  done
}

ssh_login_works() {
  ssh -q -i "$KEYS/srtest-alice" -p "$1" -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=5 \
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$STATE/known_hosts" \
    srtest-alice@127.0.0.1 true </dev/null
}

start_sshd() {
  local port host_key="$SSHD_DIR/ssh_host_ed25519_key"
  install -d -m 0755 "$SSHD_DIR"
  install -d -m 0755 /run/sshd # privilege separation directory
  new_key "$host_key" "strongroom-test-host"
  # A throwaway key: its fingerprint is a valid one that is not this host's.
  new_key "$SSHD_DIR/other_host_key" "not-this-host"
  port=$(free_port)
  local scheduler taken="$port"
  for scheduler in lsf pbs moab uge; do
    FAKE_PORTS[$scheduler]=$(free_port)
    while [[ " $taken " == *" ${FAKE_PORTS[$scheduler]} "* ]]; do FAKE_PORTS[$scheduler]=$(free_port); done
    taken="$taken ${FAKE_PORTS[$scheduler]}"
  done
  write_sshd_config "$port" >"$SSHD_DIR/sshd_config"
  /usr/sbin/sshd -t -f "$SSHD_DIR/sshd_config" || fail "sshd refused its generated configuration (above)"
  rm -f "$STATE/sshd.pid"
  /usr/sbin/sshd -f "$SSHD_DIR/sshd_config" -E "$SSHD_DIR/sshd.log"
  local hosts="[127.0.0.1]:$port"
  for scheduler in "${!FAKE_PORTS[@]}"; do hosts="$hosts,[127.0.0.1]:${FAKE_PORTS[$scheduler]}"; done
  echo "$hosts $(cut -d' ' -f1,2 "$host_key.pub")" >"$STATE/known_hosts"
  chmod 0644 "$STATE/known_hosts"
  local ok=0
  for _ in $(seq 1 50); do
    if [ -s "$STATE/sshd.pid" ] && ssh_login_works "$port"; then
      ok=1
      break
    fi
    sleep 0.1
  done
  if [ $ok = 0 ]; then
    tail -n 20 "$SSHD_DIR/sshd.log" >&2 || true
    fail "sshd on 127.0.0.1:$port does not let srtest-alice in with her key (sshd log above)"
  fi
  cp "$STATE/sshd.pid" "$STATE/pids/sshd"

  record HOST 127.0.0.1
  record PORT "$port"
  record SSHD_PID "$(read_pid "$STATE/pids/sshd")"
  record HOST_KEY_FINGERPRINT "$(fingerprint "$host_key.pub")"
  record HOST_KEY_PUB_FILE "$host_key.pub"
  record OTHER_HOST_KEY_FINGERPRINT "$(fingerprint "$SSHD_DIR/other_host_key.pub")"
  record KNOWN_HOSTS "$STATE/known_hosts"
  for scheduler in "${!FAKE_PORTS[@]}"; do record "${scheduler^^}_PORT" "${FAKE_PORTS[$scheduler]}"; done
}
