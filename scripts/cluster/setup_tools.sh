# Sourced by scripts/cluster/start: the work directories, the stand-in `nextflow`, the recording
# scheduler stand-ins and cluster.env. Needs STATE, lib.sh and `record` (setup_slurm.sh).

FAKE_SCHEDULERS=(lsf pbs moab uge)
declare -A FAKE_TOOLS=([lsf]="bsub bjobs bkill" [pbs]="qsub qstat qdel qselect"
  [moab]="msub checkjob mjobctl" [uge]="qsub qstat qdel qacct")

make_work_dirs() {
  # Like a cluster's /scratch: everyone writes, nobody removes another's files.
  install -d -m 1777 "$STATE/scratch"
  chmod 1777 "$STATE/scratch"
  # A directory no test account can write in (for the "work directory not writable" checks).
  install -d -o root -g root -m 0755 "$STATE/readonly"
  record SCRATCH "$STATE/scratch"
  record READONLY_DIR "$STATE/readonly"
}

install_nextflow() {
  install -d -m 0755 "$STATE/bin"
  install -m 0755 "$CLUSTER_DIR/nextflow.py" "$STATE/bin/nextflow"
  # The accounts run it: make sure their python3 (not root's) can.
  (cd / && runuser -u srtest-alice -- "$STATE/bin/nextflow" run test/unreported) ||
    fail "the stand-in nextflow does not run as srtest-alice"
  record BIN_DIR "$STATE/bin"
}

install_fake_schedulers() {
  install -d -m 0755 "$STATE/lib/fakes"
  install -m 0755 "$CLUSTER_DIR"/fakes/*.py "$STATE/lib/fakes/"
  install -d -m 1777 "$STATE/records"
  chmod 1777 "$STATE/records"
  local scheduler tool upper
  for scheduler in "${FAKE_SCHEDULERS[@]}"; do
    install -d -m 0755 "$STATE/fake-$scheduler"
    install -d -m 1777 "$STATE/records/$scheduler-jobs"
    chmod 1777 "$STATE/records/$scheduler-jobs"
    (umask 0 && touch "$STATE/records/$scheduler.log")
    chmod 0666 "$STATE/records/$scheduler.log"
    for tool in ${FAKE_TOOLS[$scheduler]} fake-finish; do
      ln -sfn "$STATE/lib/fakes/fake.py" "$STATE/fake-$scheduler/$tool"
    done
    upper=${scheduler^^}
    record "FAKE_$upper" "$STATE/fake-$scheduler"
  done
  record RECORDS_DIR "$STATE/records"
}

write_cluster_env() {
  record STATE_DIR "$STATE"
  {
    echo "# The Strongroom test cluster (scripts/cluster/start); stop it with scripts/cluster/stop $STATE"
    printf '%s\n' "${CLUSTER_ENV[@]}"
  } >"$ENV_FILE.tmp"
  chmod 0644 "$ENV_FILE.tmp"
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}
