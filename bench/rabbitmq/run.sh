#!/usr/bin/env bash
# A real RabbitMQ broker against queuesim. Measures the broker's dispatch
# latency on an idle broker, then runs the experiments of harness.py (work
# queues with prefetch 1, 20 and unlimited; queue and per-message TTLs
# with dead-lettering; max-length with reject-publish and drop-head; a
# topic exchange; a Celery worker with early and late acks) with a Poisson
# producer and consumer processes, writes the matching queuesim scenarios,
# runs them and prints one table: real (batch-means 95% CI) | queuesim
# (95% CI) | queueing theory where it applies.
#
#   bench/rabbitmq/run.sh [--out DIR] [--seconds S]    measure and compare (about 20 minutes)
#   bench/rabbitmq/run.sh --sim-only REAL.json [--out DIR]
#                                                      only the queuesim side of saved measurements
#
# DIR (default /tmp/queuesim-rabbitmq-bench) receives real.json (every real
# measurement and the experiment definitions), records/ (one CSV of
# per-message records per experiment), sim/ (the scenarios, queuesim's
# reports, table.txt). S is the measured traffic per experiment (default
# 70 s, after a 5 s warm-up). The queuesim binary is $QUEUESIM, by default
# target/release/queuesim of this repository (built beforehand with
# `cargo build --release`; this script builds nothing).
#
# Installs Debian's rabbitmq-server and, with pip, pika and celery if
# missing (needs root). If installing starts the distribution's broker, the
# processes it started are stopped by their PIDs. Our broker and its epmd
# listen on 127.0.0.1 only, keep all their state in a temporary folder, use
# no systemd, and are stopped by their PIDs on exit, Ctrl-C or error. Not
# part of `cargo test`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
started=$(date +%s)
QUEUESIM=${QUEUESIM:-$root/target/release/queuesim}
out=/tmp/queuesim-rabbitmq-bench
seconds=70
sim_only=

while [[ $# -gt 0 ]]; do
    case $1 in
        --sim-only) sim_only=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
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

# --- installation -----------------------------------------------------------
rabbit_bin=/usr/lib/rabbitmq/bin  # the scripts themselves: /usr/sbin's wrappers switch to the rabbitmq user
broker_pids() { ps -eo pid=,comm= | awk '$2 == "beam.smp" || $2 == "epmd" { print $1 }'; }
if [[ ! -x $rabbit_bin/rabbitmq-server ]]; then
    before=$(broker_pids)
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q rabbitmq-server >/dev/null
    # Where invoke-rc.d is allowed to, the package starts the distribution's
    # broker: stop exactly the processes that appeared during the install.
    for pid in $(broker_pids); do
        if ! grep -qx "$pid" <<<"$before"; then
            echo "stopping process $pid ($(ps -o comm= -p "$pid" || true)) started by the rabbitmq-server package"
            kill "$pid" 2>/dev/null || true
        fi
    done
fi
if ! python3 -c 'import pika, celery' 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check pika celery
fi

# --- our broker -------------------------------------------------------------
work=$(mktemp -d /tmp/queuesim-rabbitmq.XXXXXX)
pids=()  # started here, stopped in reverse order
stop_pid() {
    kill "$1" 2>/dev/null || return 0
    for _ in $(seq 40); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.5
    done
    kill -9 "$1" 2>/dev/null || true
}
stop() {
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        stop_pid "${pids[i]}"
    done
    pids=()
    rm -rf "$work"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
amqp_port=$(port)
dist_port=$(port)
epmd_port=$(port)
node=queuesim-bench@localhost

# Our own epmd on loopback and a private port, so we know its PID (the
# broker would otherwise start a shared one listening on every interface).
epmd -address 127.0.0.1 -port "$epmd_port" >"$work/epmd.log" 2>&1 &
pids+=("$!")
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$epmd_port") 2>/dev/null && break
    sleep 0.1
done

echo "[]." >"$work/enabled_plugins"  # no plugins: no management listener
cat >"$work/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$amqp_port
log.console = false
log.file.level = warning
EOF
env HOME="$work" \
    ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT="$epmd_port" \
    RABBITMQ_NODENAME="$node" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$amqp_port" \
    RABBITMQ_DIST_PORT="$dist_port" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    RABBITMQ_CONFIG_FILE="$work/rabbitmq.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$work/enabled_plugins" \
    RABBITMQ_PLUGINS_EXPAND_DIR="$work/plugins" \
    RABBITMQ_MNESIA_BASE="$work/mnesia" \
    RABBITMQ_LOG_BASE="$work/log" \
    RABBITMQ_PID_FILE="$work/beam.pid" \
    "$rabbit_bin/rabbitmq-server" >"$work/server.log" 2>&1 &
pids+=("$!")

ready=
for _ in $(seq 120); do
    kill -0 "${pids[1]}" 2>/dev/null || break
    if python3 -c "import pika; pika.BlockingConnection(pika.ConnectionParameters('127.0.0.1', $amqp_port)).close()" 2>/dev/null; then
        ready=1
        break
    fi
    sleep 1
done
if [[ -z $ready ]]; then
    echo "the broker did not start; its output:" >&2
    cat "$work/server.log" "$work/log/"*.log >&2 2>/dev/null || true
    exit 1
fi
pids+=("$(cat "$work/beam.pid")")
version="RabbitMQ $(dpkg-query -W -f='${Version}' rabbitmq-server), Erlang $(dpkg-query -W -f='${Version}' erlang-base)"
echo "broker: $version on 127.0.0.1:$amqp_port (node $node; PIDs epmd ${pids[0]}, rabbitmq-server ${pids[1]}, beam ${pids[2]})"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $(python3 --version)"

# --- measure, stop the broker, compare ----------------------------------------
python3 "$here/harness.py" real --port "$amqp_port" --out "$out/real.json" --records "$out/records" \
    --seconds "$seconds" --broker-version "$version"
stop
compare "$out/real.json"
echo "rabbitmq bench: whole script $(($(date +%s) - started)) s; real measurements in $out/real.json"
