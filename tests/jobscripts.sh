#!/bin/bash
# jobscripts.sh - jobscripts/dsc.sbatch under a real single-node Slurm
# (private munged, slurmctld and slurmd started here), with srun --mpi=pmix
# and with mpirun, plus a failing job that must report failure.
. ./tests/testenv.sh

for p in munged slurmctld slurmd sbatch; do
  command -v "$p" > /dev/null 2>&1 || [ -x "/usr/sbin/$p" ] || skip_all "$p not installed (Debian packages slurm-wlm munge)"
done
[ "$(id -u)" = 0 ] || skip_all "starting slurmd needs root"
PATH=$PATH:/usr/sbin

S="$WORK/slurm"
mkdir -p "$S/state" "$S/spool" "$S/munge" "$WORK/job"
chmod 700 "$S/munge"
host=$(hostname -s)
port=$(( 20000 + ($$ % 20000) ))
stop_cluster() {
  for f in "$S/slurmd.pid" "$S/slurmctld.pid" "$S/munge/munged.pid"; do
    [ -f "$f" ] && kill "$(cat "$f")" 2> /dev/null
  done
  sleep 1
  rm -rf "$WORK"
}
trap stop_cluster EXIT

cat > "$S/slurm.conf" <<EOS
ClusterName=dsctest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$S/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldPort=$port
SlurmdPort=$((port + 1))
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SlurmctldLogFile=$S/slurmctld.log
SlurmdLogFile=$S/slurmd.log
NodeName=$host CPUs=$(getconf _NPROCESSORS_ONLN) RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
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
up=0
for _ in $(seq 30); do
  sinfo -h -o %T 2> /dev/null | grep -q idle && { up=1; break; }
  sleep 1
done
[ "$up" = 1 ] && pass "node is idle" || { cat "$S"/*.log > "$WORK/log" 2>&1; fail "node is idle"; }

cd "$WORK/job" || exit 1
SMALL="-k 4 --conv 4,4,8,8,16 --lstm 16,16 --latent 8 --pretrain-epochs 1 --max-iter 20 --kmeans-init 2"
for launcher in srun mpirun; do
  out="$WORK/job/$launcher.out"
  : > "$WORK/log"
  if DSC="$DSC" DSC_LAUNCHER=$launcher DSC_WORKDIR="$WORK/job" DSC_OUTPUT="$WORK/job/run-$launcher" \
     DSC_SYNTH_ARGS="--years 2001 --grid 16x16 --regimes 4" DSC_ARGS="$SMALL" \
     timeout 300 sbatch --wait --ntasks=2 -o "$out" "$top_srcdir/jobscripts/dsc.sbatch" > "$WORK/log" 2>&1; then
    pass "sbatch --wait with $launcher: job succeeded"
  else
    cat "$out" >> "$WORK/log" 2> /dev/null; fail "sbatch --wait with $launcher: job succeeded"
  fi
  check "$launcher job ran on 2 ranks" grep -q "2 ranks" "$out"
  check "$launcher job trained: labels and model of the run" sh -c \
    "test -s '$WORK/job/run-$launcher/labels.csv' && test -s '$WORK/job/run-$launcher/model.ckpt' && grep -q 'dsc train: done' '$out'"
done
check "the sample data set was written once" test -f "$WORK/job/sample/truth.csv"

: > "$WORK/log"
if DSC="$DSC" DSC_INPUT="$WORK/job/no_such_*.nc" DSC_WORKDIR="$WORK/job" DSC_OUTPUT="$WORK/job/bad" \
   timeout 300 sbatch --wait --ntasks=2 -o "$WORK/job/bad.out" "$top_srcdir/jobscripts/dsc.sbatch" > "$WORK/log" 2>&1; then
  fail "a job on missing files fails"
else
  pass "a job on missing files fails"
fi
check "the failing job says which file" grep -q "dsc: error:.*no_such" "$WORK/job/bad.out"
tap_done
