# A one-node Slurm cluster on this host for tests/backends/slurm (real sbatch/squeue/scancel).
# Everything lives under $MLPROJ_SLURM_DIR and its own slurm.conf (exported as SLURM_CONF), so
# a system Slurm, if any, is never touched. Accounting is off (no slurmdbd): `sacct` has no
# data, so mlproj learns a job's end from the node-side step, squeue and `scontrol show job`
# (kept MinJobAge seconds after the end). Exports SLURM_CONF and MLPROJ_TEST_SLURM=1.
apt_install slurm-wlm munge

MLPROJ_SLURM_DIR=/var/lib/mlproj-ci-slurm
MLPROJ_SLURM_CONF="$MLPROJ_SLURM_DIR/slurm.conf"
mkdir -p "$MLPROJ_SLURM_DIR"/{state,spool,log,run}

_slurm_conf() {
  local host cpus mem_mb
  host=$(hostname -s)
  cpus=$(nproc)
  # 90% of MemTotal: slurmd refuses a node whose configured memory exceeds what it finds.
  mem_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
  cat <<EOF
ClusterName=mlproj-ci
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=${MLPROJ_SLURMCTLD_PORT:-6817}
SlurmdPort=${MLPROJ_SLURMD_PORT:-6818}
AuthType=auth/munge
StateSaveLocation=$MLPROJ_SLURM_DIR/state
SlurmdSpoolDir=$MLPROJ_SLURM_DIR/spool
SlurmctldPidFile=$MLPROJ_SLURM_DIR/run/slurmctld.pid
SlurmdPidFile=$MLPROJ_SLURM_DIR/run/slurmd.pid
SlurmctldLogFile=$MLPROJ_SLURM_DIR/log/slurmctld.log
SlurmdLogFile=$MLPROJ_SLURM_DIR/log/slurmd.log
# No cgroup v2 delegation in a container: track processes by parent pid, bind nothing.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
# Fast test turnaround: a job past its limit is signalled at once and killed 5 s later; ended
# jobs stay visible to scontrol show job for MinJobAge seconds.
OverTimeLimit=0
KillWait=5
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
NodeName=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

_slurm_idle() { SLURM_CONF="$MLPROJ_SLURM_CONF" sinfo -h -N -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; }

_slurm_pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

_munge_start() {
  if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
    echo "reusing munged"
    return 0
  fi
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
  fi
  chown munge:munge /etc/munge/munge.key 2>/dev/null || true
  chmod 0400 /etc/munge/munge.key
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
  runuser -u munge -- /usr/sbin/munged
  on_exit "kill \$(cat /run/munge/munged.pid 2>/dev/null) 2>/dev/null || true"
  local i
  for i in $(seq 50); do munge -n </dev/null | unmunge >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "munged did not start" >&2
  return 1
}

_slurm_start() {
  export SLURM_CONF="$MLPROJ_SLURM_CONF"
  local conf
  conf=$(_slurm_conf)
  # Daemons this script started earlier, with the same configuration, are reused as they are.
  if [ -f "$SLURM_CONF" ] && [ "$(cat "$SLURM_CONF")" = "$conf" ] \
    && _slurm_pid_alive "$MLPROJ_SLURM_DIR/run/slurmctld.pid" \
    && _slurm_pid_alive "$MLPROJ_SLURM_DIR/run/slurmd.pid" && _slurm_idle; then
    echo "reusing slurmctld/slurmd ($SLURM_CONF)"
    return 0
  fi
  local f
  for f in slurmd slurmctld; do
    if _slurm_pid_alive "$MLPROJ_SLURM_DIR/run/$f.pid"; then
      kill "$(cat "$MLPROJ_SLURM_DIR/run/$f.pid")" 2>/dev/null || true
      sleep 1
    fi
  done
  printf '%s\n' "$conf" >"$SLURM_CONF"
  _munge_start
  # -c: a clean state (no jobs left over from an earlier CI run); -i: ignore stale state errors.
  slurmctld -c -i -f "$SLURM_CONF"
  on_exit "kill \$(cat '$MLPROJ_SLURM_DIR/run/slurmctld.pid' 2>/dev/null) 2>/dev/null || true"
  slurmd -c -f "$SLURM_CONF"
  on_exit "kill \$(cat '$MLPROJ_SLURM_DIR/run/slurmd.pid' 2>/dev/null) 2>/dev/null || true"
  local i
  for i in $(seq 60); do
    _slurm_idle && break
    sleep 1
  done
  if ! _slurm_idle; then
    # A node left DOWN by an earlier run comes back with `scontrol update ... state=resume`.
    scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true
    sleep 2
  fi
  _slurm_idle || {
    sinfo -N -l || true
    tail -20 "$MLPROJ_SLURM_DIR/log/slurmctld.log" "$MLPROJ_SLURM_DIR/log/slurmd.log"
    return 1
  }
  echo "slurm $(sinfo -V) node $(hostname -s) idle ($SLURM_CONF)"
}

_slurm_start
export MLPROJ_TEST_SLURM=1
