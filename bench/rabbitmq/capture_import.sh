#!/usr/bin/env bash
# Captures the RabbitMQ fixtures of `queuesim import rabbitmq` from a real
# broker: starts Debian's rabbitmq-server with the management plugin on
# loopback, declares the topologies of capture_import.py (policies and
# operator policies, queue TTLs and length limits, dead-letter exchanges, a
# topic exchange, an exchange-to-exchange binding, prefetching consumers,
# a backlog; and a vhost `shop` mirroring scenarios/rabbitmq_orders.toml),
# runs its traffic for a while, then saves
#
#   definitions.json   GET /api/definitions (as `rabbitmqctl export_definitions`)
#   queues.json        GET /api/queues      (rates, consumers, backlogs)
#   consumers.json     GET /api/consumers   (prefetch counts)
#   operator_policies.json  GET /api/operator-policies (not in the export)
#   broker.txt         the broker's version and the capture's date
#
#   bench/rabbitmq/capture_import.sh [--out DIR] [--seconds S]
#
# DIR defaults to tests/fixtures/import/rabbitmq of this repository; S (default
# 40) is how long the traffic runs before the capture. Installs Debian's
# rabbitmq-server and, with pip, pika if missing (needs root); if installing
# starts the distribution's broker, the processes it started are stopped by
# their PIDs. Our broker, its epmd and the management listener listen on
# 127.0.0.1 only, keep their state in a temporary folder and are stopped by
# their PIDs on exit, Ctrl-C or error. Not part of `cargo test`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$root/tests/fixtures/import/rabbitmq
seconds=40

while [[ $# -gt 0 ]]; do
    case $1 in
        --out) out=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
mkdir -p "$out"

# --- installation -----------------------------------------------------------
rabbit_bin=/usr/lib/rabbitmq/bin
broker_pids() { ps -eo pid=,comm= | awk '$2 == "beam.smp" || $2 == "epmd" { print $1 }'; }
if [[ ! -x $rabbit_bin/rabbitmq-server ]]; then
    before=$(broker_pids)
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q rabbitmq-server >/dev/null
    for pid in $(broker_pids); do
        if ! grep -qx "$pid" <<<"$before"; then
            echo "stopping process $pid ($(ps -o comm= -p "$pid" || true)) started by the rabbitmq-server package"
            kill "$pid" 2>/dev/null || true
        fi
    done
fi
if ! python3 -c 'import pika' 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check pika
fi

# --- our broker -------------------------------------------------------------
work=$(mktemp -d /tmp/queuesim-rabbitmq-import.XXXXXX)
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
http_port=$(port)
node=queuesim-import@localhost

epmd -address 127.0.0.1 -port "$epmd_port" >"$work/epmd.log" 2>&1 &
pids+=("$!")
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$epmd_port") 2>/dev/null && break
    sleep 0.1
done

cat >"$work/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$amqp_port
management.tcp.ip = 127.0.0.1
management.tcp.port = $http_port
collect_statistics_interval = 1000
log.console = false
log.file.level = warning
CONF
broker_env=(
    HOME="$work"
    ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT="$epmd_port"
    RABBITMQ_NODENAME="$node"
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$amqp_port"
    RABBITMQ_DIST_PORT="$dist_port"
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    RABBITMQ_CONFIG_FILE="$work/rabbitmq.conf"
    RABBITMQ_ENABLED_PLUGINS_FILE="$work/enabled_plugins"
    RABBITMQ_PLUGINS_EXPAND_DIR="$work/plugins"
    RABBITMQ_MNESIA_BASE="$work/mnesia"
    RABBITMQ_LOG_BASE="$work/log"
    RABBITMQ_PID_FILE="$work/beam.pid"
)
echo "[]." >"$work/enabled_plugins"
env "${broker_env[@]}" "$rabbit_bin/rabbitmq-plugins" --offline enable rabbitmq_management >"$work/plugins.log" 2>&1
env "${broker_env[@]}" "$rabbit_bin/rabbitmq-server" >"$work/server.log" 2>&1 &
pids+=("$!")

ready=
for _ in $(seq 120); do
    kill -0 "${pids[1]}" 2>/dev/null || break
    if python3 -c "import urllib.request as u, base64; r = u.Request('http://127.0.0.1:$http_port/api/overview', headers={'Authorization': 'Basic ' + base64.b64encode(b'guest:guest').decode()}); u.urlopen(r, timeout=2).read()" 2>/dev/null; then
        ready=1
        break
    fi
    sleep 1
done
if [[ -z $ready ]]; then
    echo "the broker did not start; its output:" >&2
    cat "$work/server.log" "$work/plugins.log" "$work/log/"*.log >&2 2>/dev/null || true
    exit 1
fi
pids+=("$(cat "$work/beam.pid")")
version="RabbitMQ $(dpkg-query -W -f='${Version}' rabbitmq-server), Erlang $(dpkg-query -W -f='${Version}' erlang-base)"
echo "broker: $version on 127.0.0.1:$amqp_port, management on 127.0.0.1:$http_port (PIDs epmd ${pids[0]}, rabbitmq-server ${pids[1]}, beam ${pids[2]})"

python3 "$here/capture_import.py" --amqp-port "$amqp_port" --http-port "$http_port" \
    --out "$out" --seconds "$seconds" --broker-version "$version"
echo "saved $(ls "$out" | tr '\n' ' ')in $out"
