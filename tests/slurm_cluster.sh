# slurm_cluster.sh - sourced by the job script tests after testenv.sh:
# starts a private single-node Slurm (munged, slurmctld, slurmd, all under
# $S = $WORK/slurm, ports from the process id) and stops it on exit (the test
# must leave $S as it is).  Skips the whole test when Slurm or munge is
# missing or when not root.
#
#   slurm_start        four checks: the daemons start and the node is idle
#   slurm_job_status ID   how job ID ended, as slurmctld logged it
#                      ("EXITSTATUS 0", "TERMSIG 9"; empty when not logged)

for p in munged slurmctld slurmd sbatch; do
  command -v "$p" > /dev/null 2>&1 || [ -x "/usr/sbin/$p" ] || skip_all "$p not installed (Debian packages slurm-wlm munge)"
done
[ "$(id -u)" = 0 ] || skip_all "starting slurmd needs root"
PATH=$PATH:/usr/sbin

S="$WORK/slurm"
slurm_stop() {
  for f in "$S/slurmd.pid" "$S/slurmctld.pid" "$S/munge/munged.pid"; do
    [ -f "$f" ] && kill "$(cat "$f")" 2> /dev/null
  done
  sleep 1
  rm -rf "$WORK"
}
trap slurm_stop EXIT
trap 'exit 1' INT TERM # so that the daemons are stopped when the test is killed

slurm_start() {
  mkdir -p "$S/state" "$S/spool" "$S/munge" "$S/tmp"
  chmod 700 "$S/munge"
  _host=$(hostname -s)
  # Two ports per test, from its process id: tests running at once (make -j)
  # never share one.
  _port=$(( 20000 + 2 * ($$ % 15000) ))
  # Job ids from the process id as well: two test clusters on one host give
  # their jobs distinct ids, so that what Slurm and Open MPI name after the job
  # id (the PMIx server's directory, Open MPI's session directory and
  # shared-memory segments) never belongs to both at once.  TmpFS: the PMIx
  # directories of this cluster stay under $S.
  # MinJobAge: sbatch --wait polls every 2 s only when MinJobAge/2 > 2 (the
  # default, 300, lets its interval grow to 32 s).  cred_expire: a requeued
  # job is held that long before it may start again (default 120 s).
  # sched_interval: how often the scheduler looks at eligible jobs (60 s).
  cat > "$S/slurm.conf" <<EOS
ClusterName=dsctest
SlurmctldHost=$_host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$S/munge/munge.sock,cred_expire=5
CredType=cred/munge
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldPort=$_port
SlurmdPort=$((_port + 1))
FirstJobId=$(( 1000 * ($$ % 15000) + 1000 ))
TmpFS=$S/tmp
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MinJobAge=4
SlurmctldLogFile=$S/slurmctld.log
SlurmdLogFile=$S/slurmd.log
NodeName=$_host CPUs=$(getconf _NPROCESSORS_ONLN) RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=$_host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOS
  export SLURM_CONF="$S/slurm.conf"

  # A private key: the system's belongs to the munge user, which munged
  # running as root refuses.
  dd if=/dev/urandom of="$S/munge/munge.key" bs=1024 count=1 2> /dev/null
  chmod 400 "$S/munge/munge.key"
  check "munged starts" munged --force --key-file="$S/munge/munge.key" --socket="$S/munge/munge.sock" \
    --pid-file="$S/munge/munged.pid" --seed-file="$S/munge/seed" --log-file="$S/munge/munged.log"
  check "slurmctld starts" slurmctld -c -f "$S/slurm.conf"
  check "slurmd starts" slurmd -f "$S/slurm.conf"
  _up=0
  for _ in $(seq 30); do
    sinfo -h -o %T 2> /dev/null | grep -q idle && { _up=1; break; }
    sleep 1
  done
  if [ "$_up" = 1 ]; then pass "node is idle"; else cat "$S"/*.log > "$WORK/log" 2>&1; fail "node is idle"; fi
}

slurm_job_status() {
  sed -n "s/.*_job_complete: JobId=$1 W\(EXITSTATUS\|TERMSIG\) \([0-9]*\)\$/\1 \2/p" "$S/slurmctld.log" | tail -n 1
}
