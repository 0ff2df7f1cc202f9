#!/usr/bin/env bash
# Speed against peers: the same M/M/1, M/M/10 and 3-node tandem cases in
# Ciw, SimPy and queuesim with the same number of customers.
#
#   bench/peers/run.sh [CUSTOMERS]      (default 200000; about 3-5 minutes)
#
# Installs Ciw and SimPy with pip into bench/peers/.venv (once), builds
# queuesim in release mode (honours CARGO_TARGET_DIR), then prints one
# table. Not part of CI or `cargo test`.
set -euo pipefail

CUSTOMERS="${1:-200000}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$HERE/.venv"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    ciw==3.2.7 simpy==4.1.2

cd "$ROOT"
cargo build --release --quiet
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
BINARY="$(cd "$TARGET_DIR/release" && pwd)/queuesim"

echo "machine: $(nproc) cores, $(uname -sm), load average $(cut -d" " -f1-3 /proc/loadavg 2>/dev/null || echo unknown); $("$VENV/bin/python" --version)"
"$VENV/bin/python" "$HERE/compare.py" "$BINARY" "$CUSTOMERS"
