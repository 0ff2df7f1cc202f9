#!/usr/bin/env bash
# The Slurm job array and dependent merge of docs/distributed.md, run
# exactly as documented on a throw-away single-node Slurm cluster on
# localhost, then one task cancelled and rerun as documented. Exits 0
# only if every merged sweep.csv equals a single-process sweep byte for
# byte.
#
# Installs Debian's slurm-wlm and munge if missing (needs root, as the
# daemons here run as root). Everything lives in a temporary folder with
# its own SLURM_CONF and munge socket; no systemd; the daemons listen on
# 127.0.0.1 only and are stopped by their PIDs on exit. Not part of
# `cargo test`.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
started=$(date +%s)

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >/dev/null
fi
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
export PATH="$root/target/release:$PATH"

work=$(mktemp -d /tmp/queuesim-slurm.XXXXXX)
pids=()
stop() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    sleep 1
    for pid in "${pids[@]}"; do
        kill -9 "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap stop EXIT

# munge: a fresh key and a private socket.
dd if=/dev/urandom of="$work/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge.key"
mkdir -m 700 "$work/munge"
munged --force --key-file="$work/munge.key" --socket="$work/munge/socket" \
    --pid-file="$work/munge/pid" --log-file="$work/munge/log" --seed-file="$work/munge/seed"
pids+=("$(cat "$work/munge/pid")")

# Slurm: one node with this machine's CPUs, ports chosen free on loopback.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
mkdir -p "$work/state" "$work/spool"
export SLURM_CONF="$work/slurm.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=queuesim
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$(port)
SlurmdPort=$(port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=node1 NodeHostname=$(hostname) NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=main Nodes=node1 Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N node1
for _ in $(seq 60); do
    [[ -s $work/slurmctld.pid && -s $work/slurmd.pid ]] && break
    sleep 0.5
done
pids+=("$(cat "$work/slurmd.pid")" "$(cat "$work/slurmctld.pid")")
for _ in $(seq 60); do
    sinfo -h -o %T 2>/dev/null | grep -q idle && break
    sleep 0.5
done
sinfo -h -o '%N %T %c CPUs' | sed 's/^/cluster: /'

# The documented commands, extracted from docs/distributed.md: the job
# script (the first block after the heading "Slurm job array"), the
# submission and the rerun of one task.
blocks() { awk -v want="$1" '/^#* *Slurm job array/ { on = 1 } on && /^```sh/ { n++; grab = (n == want); next } /^```/ { grab = 0 } grab' "$root/docs/distributed.md"; }
job="$work/job"
mkdir -p "$job/scenarios"
cp "$root/scenarios/quickstart.toml" "$job/scenarios/"
cd "$job"
blocks 1 >sweep.sbatch
blocks 2 >submit.sh
blocks 3 >rerun.sh

wait_for() {
    for _ in $(seq 1200); do
        [[ -z $(squeue -h -j "$1" -o %i 2>/dev/null) ]] && return 0
        sleep 0.5
    done
    echo "job $1 did not finish in 10 minutes" >&2
    return 1
}
# Runs a documented block; prints "MERGE ARRAY" (the merge's and the array's job ids).
submit() { (source "./$1" >merge.id; echo "$(tail -n 1 merge.id) $jobid"); }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

echo "single-process sweep for reference"
single_started=$(now_ms)
eval "$(grep '^queuesim sweep' -A2 sweep.sbatch | sed 's/ --shard .*//; s/\\$//' | tr -d '\n') --out single"
single_ms=$(($(now_ms) - single_started))

echo "job array and dependent merge, as in docs/distributed.md"
array_started=$(now_ms)
read -r merge array < <(submit submit.sh)
wait_for "$merge"
array_ms=$(($(now_ms) - array_started))
squeue -h -j "$array" -o '%i %T %r' | grep -q . && { echo "array $array still queued" >&2; exit 1; }
cmp reports/sweep/sweep.csv single/sweep.csv
echo "merged sweep.csv identical to the single-process one"

echo "a cancelled task cancels the merge (--kill-on-invalid-dep=yes)"
rm -rf shards reports
read -r merge array < <(submit submit.sh)
scancel "${array}_3"
wait_for "$array"
wait_for "$merge"
[[ ! -e reports/sweep/sweep.csv ]] || { echo "the merge ran although task 3 was cancelled" >&2; exit 1; }
echo "rerun task 3 and merge again, as in docs/distributed.md"
rm -rf shards/3
read -r merge array < <(submit rerun.sh)
wait_for "$merge"
cmp reports/sweep/sweep.csv single/sweep.csv
echo "merged sweep.csv after the rerun identical to the single-process one"

echo "slurm bench passed: single process ${single_ms} ms, 10-task array + merge ${array_ms} ms, whole script $(($(date +%s) - started)) s on $(nproc) CPUs"
