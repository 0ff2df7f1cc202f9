#!/usr/bin/env bash
# A real Redis server against queuesim. Runs the experiments of harness.py
# with a Poisson producer and worker processes, writes the matching
# queuesim scenarios, runs them and prints one table: real (batch-means
# 95% CI) | queuesim (95% CI) | queueing theory where it applies.
#
#   1. A stream read by a consumer group of 4 (XREADGROUP COUNT 10 BLOCK
#      2000, then per entry an Exp(50 ms) service and its XACK), 60 msg/s:
#      latency XADD -> XACK, pending and unread entries, against queuesim's
#      `poll` consumers and, for reference, M/M/4 (one entry per read).
#   2. Pub/sub with client-output-buffer-limit "pubsub 64kb 0 0", 1 KiB
#      messages at 200/s, a fast subscriber and a slow one (Exp(6.25 ms)
#      per message: rho 1.25) that reconnects 1 s after Redis drops it:
#      loss share, disconnects per minute, gaps, and the effective
#      capacity, against queuesim's `overflow = "disconnect"` queues with
#      capacity_bytes = the configured limit (A), = the measured effective
#      capacity (B), and = the configured limit with the slow consumer's
#      `prefetch` = the socket-held messages measured at the disconnects
#      (C: the socket buffers as a window it still drains after a
#      disconnect, before its reconnect delay).
#
#   bench/redis/run.sh [--out DIR] [--seconds S] [--mtu N]   measure and compare (about 3 minutes)
#   bench/redis/run.sh --sim-only REAL.json [--out DIR]      only the queuesim side of saved measurements
#
# DIR (default /tmp/queuesim-redis-bench) receives real.json (every real
# measurement and the experiment definitions), records/ (per-message CSV
# records per experiment), sim/ (the scenarios, queuesim's reports,
# table.txt). S is the measured traffic per experiment (default 60 s,
# after a 5 s warm-up). The queuesim binary is $QUEUESIM, by default
# target/release/queuesim of this repository (built beforehand with
# `cargo build --release`; this script builds nothing).
#
# The effective pub/sub capacity is larger than Redis's limit: the socket
# buffers hold messages too, and Redis drops only what is still in its own
# output buffer (what the kernel holds is delivered after the disconnect).
# The harness measures both parts at every disconnect, and once with a
# subscriber that reads nothing. To keep that hidden part small and
# measurable, the slow subscriber reads the socket itself (a 2 KiB-at-a-time
# RESP reader, SO_RCVBUF 4096) rather than through redis-py (which reads
# 64 KiB at a time into its own buffer), and everything real runs in a
# private network namespace whose loopback has MTU N (default 1500, the
# segment size of Ethernet): on the host's loopback (MTU 65536) the kernel
# autotunes Redis's send buffer from 64 KB segments up to tcp_wmem's 4 MB
# (about 3,600 of these messages when this was written, against about a
# hundred with MTU 1500), and a slow reader with a small SO_RCVBUF stalls
# on such segments. The namespace changes nothing outside it.
#
# Installs Debian's redis-server and, with pip, the redis client if missing
# (needs root, as does the namespace). If installing starts the
# distribution's server, that process is stopped by its PID. Our server
# listens on 127.0.0.1 only, keeps its (unused) files in a temporary folder,
# saves nothing, uses no systemd, and is stopped by its PID on exit, Ctrl-C
# or error, as are the harness and every worker process it started. Not part
# of `cargo test`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export QUEUESIM_REDIS_STARTED=${QUEUESIM_REDIS_STARTED:-$(date +%s)}
QUEUESIM=${QUEUESIM:-$root/target/release/queuesim}
out=/tmp/queuesim-redis-bench
seconds=60
mtu=1500
sim_only=

args=("$@")
while [[ $# -gt 0 ]]; do
    case $1 in
        --sim-only) sim_only=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --mtu) mtu=$2; shift 2 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
mkdir -p "$out"

# The queuesim side: scenarios, runs and the table, from a real.json.
compare() {
    if [[ ! -x $QUEUESIM ]]; then
        echo "no queuesim binary at $QUEUESIM: run cargo build --release, or set QUEUESIM" >&2
        return 1
    fi
    python3 "$here/harness.py" sim --real "$1" --out "$out/sim" --queuesim "$QUEUESIM"
}

if [[ -n $sim_only ]]; then
    compare "$sim_only"
    exit 0
fi

# --- installation (on the host's network: the namespace has none) ------------
if [[ -z ${QUEUESIM_REDIS_NETNS:-} ]]; then
    if ! command -v redis-server >/dev/null; then
        before=$(pgrep -x redis-server || true)
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null
        # Where invoke-rc.d is allowed to, the package starts the
        # distribution's server: stop exactly the process that appeared.
        for pid in $(pgrep -x redis-server || true); do
            if ! grep -qx "$pid" <<<"$before"; then
                echo "stopping process $pid (redis-server) started by the redis-server package"
                kill "$pid" 2>/dev/null || true
            fi
        done
    fi
    if ! python3 -c 'import redis' 2>/dev/null; then
        python3 -m pip install --quiet --disable-pip-version-check redis
    fi
    if ! unshare --net true 2>/dev/null; then
        echo "cannot create a network namespace (unshare --net needs root)" >&2
        exit 1
    fi
    # The rest of this script, in a private network namespace.
    exec env QUEUESIM_REDIS_NETNS=1 unshare --net -- bash "$0" "${args[@]}"
fi
ip link set lo mtu "$mtu" up

# --- our server ----------------------------------------------------------------
work=$(mktemp -d /tmp/queuesim-redis.XXXXXX)
server_pid=
harness_pid=
stop_pid() {
    kill "$1" 2>/dev/null || return 0
    for _ in $(seq 40); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.5
    done
    kill -9 "$1" 2>/dev/null || true
}
# Worker processes the harness wrote to its pidfile and left running (it
# stops them itself unless it was killed). A PID is still ours only while
# its process is in this private network namespace.
stop_workers() {
    [[ -f $work/workers.pids ]] || return 0
    local pid ours
    ours=$(readlink /proc/$$/ns/net)
    while read -r pid; do
        if [[ $(readlink "/proc/$pid/ns/net" 2>/dev/null) == "$ours" ]]; then
            stop_pid "$pid"
        fi
    done <"$work/workers.pids"
}
stop() {
    if [[ -n $harness_pid ]]; then stop_pid "$harness_pid"; fi
    stop_workers
    if [[ -n $server_pid ]]; then stop_pid "$server_pid"; fi
    harness_pid='' server_pid=''
    rm -rf "$work"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# setsid: a session of its own, so that Ctrl-C (which Redis would obey at
# once, though a background job) is this script's alone.
setsid redis-server --port "$port" --bind 127.0.0.1 --dir "$work" --save '' --appendonly no --daemonize no \
    --logfile "$work/redis.log" &
server_pid=$!
ready=
for _ in $(seq 50); do
    kill -0 "$server_pid" 2>/dev/null || break
    if [[ $(redis-cli -p "$port" ping 2>/dev/null) == PONG ]]; then
        ready=1
        break
    fi
    sleep 0.1
done
if [[ -z $ready ]]; then
    echo "the server did not start; its log:" >&2
    cat "$work/redis.log" >&2 2>/dev/null || true
    exit 1
fi
version="Redis $(redis-server --version | sed 's/.* v=\([^ ]*\).*/\1/') (Debian package $(dpkg-query -W -f='${Version}' redis-server))"
network="127.0.0.1 in a private network namespace, loopback MTU $mtu"
echo "server: $version on 127.0.0.1:$port (PID $server_pid); $network"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $(python3 --version)"

# --- measure, stop the server, compare -------------------------------------------
# In the background and in a session of its own, so that Ctrl-C or a TERM
# to this script reaches the trap at once, which stops the harness by its
# PID (the harness then stops its workers).
setsid python3 "$here/harness.py" real --port "$port" --out "$out/real.json" --records "$out/records" \
    --seconds "$seconds" --pidfile "$work/workers.pids" --server-version "$version" --network "$network" &
harness_pid=$!
wait "$harness_pid"
harness_pid=
stop
echo "redis bench: real side $(($(date +%s) - QUEUESIM_REDIS_STARTED)) s; real measurements in $out/real.json"
compare "$out/real.json"
echo "redis bench: whole script $(($(date +%s) - QUEUESIM_REDIS_STARTED)) s"
