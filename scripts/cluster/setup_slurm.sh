# Sourced by scripts/cluster/start: munged, then slurmctld and slurmd with a generated slurm.conf.
# Needs STATE and the helpers of lib.sh; records its facts with `record KEY VALUE`.

# What start writes to cluster.env at the end; values must not hold spaces (the file is sourced).
declare -a CLUSTER_ENV=()
record() {
  case "$2" in *[[:space:]]*) fail "internal: $1 has a space in its value" ;; esac
  CLUSTER_ENV+=("$1=$2")
}

NODE=$(hostname -s)

munge_works() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
  install -d -o munge -g munge -m 0700 /etc/munge /var/log/munge /var/lib/munge
  install -d -o munge -g munge -m 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    if [ -x /usr/sbin/mungekey ]; then
      /usr/sbin/mungekey --create --keyfile=/etc/munge/munge.key
    else
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  if munge_works; then
    # One munged serves the machine (its socket is /run/munge); someone else's is left alone.
    say "a munged that this start did not launch is already answering; using it"
    record MUNGED_PID none
    return 0
  fi
  rm -f /run/munge/munged.pid
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 1 50); do
    munge_works && break
    sleep 0.1
  done
  munge_works || { tail -n 20 /var/log/munge/munged.log >&2; fail "munged did not start (log above)"; }
  cp /run/munge/munged.pid "$STATE/pids/munged"
  record MUNGED_PID "$(read_pid "$STATE/pids/munged")"
}

write_slurm_conf() {
  local ctld_port="$1" slurmd_port="$2" dir="$STATE/slurm"
  cat <<EOF
$SLURM_CONF_MARK $STATE
# A one-node test cluster on loopback (scripts/cluster/start). Jobs run as the submitting account;
# no cgroups (linuxproc tracking, no task plugin), so it runs in a container too.
ClusterName=strongroom-test
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
MailProg=/bin/true
# Ended jobs stay visible to scontrol show job for 15 minutes.
MinJobAge=900
ReturnToService=2
# Quick: a job starts as soon as it is submitted, a cancelled one is killed after 2 s.
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_interval=1,sched_min_interval=0
KillWait=2
InactiveLimit=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
# sacct --completion reads this file: who ran which job, without slurmdbd.
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.log
AccountingStorageType=accounting_storage/none
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
# Many test head jobs share the two CPUs (OverSubscribe), so parallel tests do not queue.
PartitionName=main Nodes=$NODE Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:32
PartitionName=head Nodes=$NODE Default=NO MaxTime=INFINITE State=UP OverSubscribe=FORCE:32
EOF
}

# Puts our slurm.conf at /etc/slurm/slurm.conf, keeping a file that is not a test cluster's.
install_system_slurm_conf() {
  local owner
  owner=$(slurm_conf_owner)
  if [ -n "$owner" ] && [ "$owner" != "$STATE" ]; then
    if pid_alive "$(read_pid "$owner/pids/slurmctld")"; then
      fail "another test cluster is running at $owner (it owns $SYSTEM_SLURM_CONF); use it \
(STRONGROOM_TEST_CLUSTER=$owner/cluster.env) or stop it first: scripts/cluster/stop $owner"
    fi
    # A crashed cluster's file: take over its backup of the original, if it kept one.
    if [ -f "$owner/etc-slurm.conf.orig" ] && [ ! -f "$STATE/etc-slurm.conf.orig" ]; then
      cp -p "$owner/etc-slurm.conf.orig" "$STATE/etc-slurm.conf.orig"
    fi
  elif [ -z "$owner" ] && [ -f "$SYSTEM_SLURM_CONF" ] && [ ! -f "$STATE/etc-slurm.conf.orig" ]; then
    cp -p "$SYSTEM_SLURM_CONF" "$STATE/etc-slurm.conf.orig"
  fi
  install -d -m 0755 /etc/slurm
  install -m 0644 "$STATE/slurm/slurm.conf" "$SYSTEM_SLURM_CONF"
}

slurm_logs() {
  local log
  for log in slurmctld slurmd; do
    echo "--- last lines of $STATE/slurm/$log.log" >&2
    tail -n 15 "$STATE/slurm/$log.log" >&2 2>/dev/null || true
  done
}

node_state() { sinfo -h -n "$NODE" -o %T 2>/dev/null | head -n1; }

start_slurm() {
  local ctld_port slurmd_port
  ctld_port=$(free_port)
  slurmd_port=$(free_port)
  while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port=$(free_port); done
  install -d -m 0755 "$STATE/slurm"
  install -d -m 0700 "$STATE/slurm/state" "$STATE/slurm/spool"
  write_slurm_conf "$ctld_port" "$slurmd_port" >"$STATE/slurm/slurm.conf"
  install_system_slurm_conf
  export SLURM_CONF="$SYSTEM_SLURM_CONF"

  /usr/sbin/slurmctld -f "$SLURM_CONF"
  wait_for "slurmctld to answer" 30 scontrol_up
  cp "$STATE/slurm/slurmctld.pid" "$STATE/pids/slurmctld"
  /usr/sbin/slurmd -f "$SLURM_CONF" -N "$NODE"
  wait_for "node $NODE to be idle" 30 node_idle
  cp "$STATE/slurm/slurmd.pid" "$STATE/pids/slurmd"

  record SLURM_CONF "$SYSTEM_SLURM_CONF"
  record SLURM_STATE_CONF "$STATE/slurm/slurm.conf"
  record SLURMCTLD_PORT "$ctld_port"
  record SLURMCTLD_PID "$(read_pid "$STATE/pids/slurmctld")"
  record SLURMD_PID "$(read_pid "$STATE/pids/slurmd")"
  record NODE_NAME "$NODE"
  record PARTITION main
  record HEAD_PARTITION head
  submit_sacct_probe
}

scontrol_up() { scontrol ping 2>/dev/null | grep -q 'is UP'; }
node_idle() { [ "$(node_state)" = idle ]; }

# wait_for WHAT SECONDS COMMAND...: polls every 0.2 s; on time-out shows the logs and fails.
wait_for() {
  local what="$1" seconds="$2"
  shift 2
  local tries=$((seconds * 5))
  for _ in $(seq 1 "$tries"); do
    "$@" && return 0
    sleep 0.2
  done
  slurm_logs
  fail "timed out after ${seconds}s waiting for $what (node state: $(node_state || true); logs above)"
}

# Does `sacct --completion` name the user of an ended job? (No slurmdbd here: plain sacct cannot.)
# A job submitted as root now, and looked at after the other phases, so the wait overlaps them.
submit_sacct_probe() {
  SACCT_PROBE_JOB=$(cd /tmp && sbatch --parsable -o /dev/null -J sacct-probe --wrap true 2>/dev/null) || true
}

record_sacct() {
  local user=""
  if [ -n "${SACCT_PROBE_JOB:-}" ]; then
    for _ in $(seq 1 50); do
      # It prints "root(0)".
      user=$(sacct --completion -n -X -j "$SACCT_PROBE_JOB" -o user%32 2>/dev/null |
        tr -d ' ' | sed 's/(.*//')
      [ -n "$user" ] && break
      sleep 0.2
    done
  fi
  if [ "$user" = root ]; then record SACCT 1; else record SACCT 0; fi
}

cluster_is_up() {
  (
    # shellcheck disable=SC1090
    source "$ENV_FILE"
    for daemon in sshd slurmd slurmctld; do pid_alive "$(read_pid "$STATE/pids/$daemon")" || exit 1; done
    munge_works && [ "$(slurm_conf_owner)" = "$STATE" ] &&
      case "$(node_state)" in idle | mixed | allocated) true ;; *) false ;; esac
  )
}
