#!/usr/bin/env bash
# Runs every bundled scenario on the engine it chooses and on the event
# engine, plus one sweep, compare, analyze and validate, and prints one
# SHA-256 line per output file. Run it before and after a change and diff
# the two listings: an empty diff means every output is byte-identical.
#
#   bench/byte_identity.sh target/release/queuesim > before.txt
#   ... change ...
#   bench/byte_identity.sh target/release/queuesim > after.txt
#   diff before.txt after.txt
set -euo pipefail
bin=$(realpath "${1:-target/release/queuesim}")
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

checksum_folder() {
    (cd "$1" && find . -name '*.csv' -o -name 'shard.json' | sort | xargs sha256sum | sed "s|  ./|  $2/|")
}

for scenario in scenarios/*.toml; do
    name=$(basename "$scenario" .toml)
    for engine in auto events; do
        out="$work/$name-$engine"
        "$bin" run "$scenario" --quiet --set simulation.engine=$engine --out "$out"
        checksum_folder "$out" "$name-$engine"
        "$bin" validate "$scenario" --set simulation.engine=$engine | sha256sum | sed "s|-$|$name-$engine/validate|"
    done
    "$bin" analyze "$scenario" 2>&1 | sha256sum | sed "s|-$|$name/analyze|"
done

"$bin" sweep scenarios/mmc.toml --quiet --set 'queues.q.consumers.count=9..11' --out "$work/sweep"
checksum_folder "$work/sweep" sweep
"$bin" compare scenarios/mm1.toml scenarios/md1.toml --quiet --out "$work/compare"
checksum_folder "$work/compare" compare
"$bin" run scenarios/mm1.toml --quiet --shard 0/2 --out "$work/shard0"
"$bin" run scenarios/mm1.toml --quiet --shard 1/2 --out "$work/shard1"
"$bin" merge "$work/shard0" "$work/shard1" --out "$work/merged" --quiet
checksum_folder "$work/merged" merged
