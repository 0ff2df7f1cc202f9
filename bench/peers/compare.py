"""Runs M/M/1, M/M/10 and a 3-node tandem in Ciw, SimPy and queuesim with
the same number of customers and prints one table: wall time, microseconds
per customer, queuesim's speed-up over each peer, and the three estimates
of mean sojourn beside theory. Called by run.sh; standard library only.

    python compare.py QUEUESIM_BINARY CUSTOMERS
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 1
# queuesim runs take milliseconds, so one scheduler hiccup on a shared
# machine is a large fraction of them: keep the fastest of this many runs.
QUEUESIM_REPEATS = 5
# Peers take seconds per case; the fastest of two runs (same seed, so the
# same estimate) keeps the whole script within a few minutes.
PEER_REPEATS = 2
# Replications of queuesim that give the spread of one run's mean sojourn,
# and Student's t (0.975, SPREAD_REPLICATIONS - 1) to undo its 95% CI.
SPREAD_REPLICATIONS = 10
T_975_9 = 2.2622

# case -> (title, arrival rate, [(servers, mean service time) per station])
CASES = {
    "mm1": ("M/M/1 rho=0.8", 0.8, [(1, 1.0)]),
    "mm10": ("M/M/10 rho=0.8", 8.0, [(10, 1.0)]),
    "tandem": ("tandem 3 x M/M/1", 0.5, [(1, 1.0), (1, 1.25), (1, 1 / 0.7)]),
}


def erlang_c(servers, offered_load):
    """Probability that an arrival waits in M/M/c (offered load a = lambda/mu)."""
    term, total = 1.0, 1.0
    for k in range(1, servers):
        term *= offered_load / k
        total += term
    last = term * offered_load / servers / (1 - offered_load / servers)
    return last / (total + last)


def theory_sojourn(arrival_rate, stations):
    """Mean end-to-end sojourn of a tandem of M/M/c stations (Jackson)."""
    total = 0.0
    for servers, mean_service in stations:
        rate = 1 / mean_service
        waits = erlang_c(servers, arrival_rate * mean_service)
        total += waits / (servers * rate - arrival_rate) + mean_service
    return total


def scenario_text(case, customers):
    """A queuesim scenario for `case`: one replication, no warm-up, long
    enough for `customers` arrivals on average."""
    _, arrival_rate, stations = CASES[case]
    lines = [
        f'name = "{case}"',
        "[simulation]",
        f"duration = {customers / arrival_rate}",
        "warmup = 0",
        "replications = 1",
        f"seed = {SEED}",
        "[[producers]]",
        'name = "source"',
        'to = "s1"',
        f"rate = {arrival_rate}",
    ]
    for index, (servers, mean_service) in enumerate(stations, start=1):
        lines += [
            "[[queues]]",
            f'name = "s{index}"',
            "[queues.consumers]",
            f"count = {servers}",
            f'service = {{ dist = "exponential", mean = {mean_service} }}',
        ]
        if index < len(stations):
            lines.append(f'next = "s{index + 1}"')
    return "\n".join(lines) + "\n"


def run_peer(script, case, customers):
    """Runs one peer script (the fastest of PEER_REPEATS runs); returns its
    JSON line as a dict."""
    runs = []
    for _ in range(PEER_REPEATS):
        out = subprocess.run(
            [sys.executable, os.path.join(HERE, script), case, str(customers), str(SEED)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    return min(runs, key=lambda run: run["wall_s"])


def timed_queuesim(binary, scenario, out_dir, *extra):
    """Wall time of one `queuesim run --quiet --json` process and its results."""
    started = time.perf_counter()
    out = subprocess.run(
        [binary, "run", scenario, "--out", out_dir, "--quiet", "--json", *extra],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return time.perf_counter() - started, json.loads(out)


def one_run_spread(binary, scenario, out_dir):
    """Standard deviation of one run's mean sojourn, from queuesim's 95% CI
    over SPREAD_REPLICATIONS replications: how far apart three single-run
    estimates may honestly be."""
    _, result = timed_queuesim(
        binary, scenario, out_dir, "--replications", str(SPREAD_REPLICATIONS)
    )
    ci95 = result["summary"]["mean_latency"]["ci95"]
    return ci95 * SPREAD_REPLICATIONS**0.5 / T_975_9


# The summary line of `queuesim run`: "... 400462 events in 0.04 s (9.6 M events/s)".
EVENT_RATE = re.compile(r"(\d+) events in [0-9.]+ s \(([0-9.]+) M events/s\)")


def simulation_seconds(binary, scenario, out_dir, *extra):
    """The simulation time queuesim measures itself (statistics on, report
    writing off the clock), from the events and the rate it prints."""
    out = subprocess.run(
        [binary, "run", scenario, "--out", out_dir, "--threads", "1", *extra],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = EVENT_RATE.search(out)
    if found is None:
        raise RuntimeError(f"no 'N events in T s (R M events/s)' line in:\n{out}")
    return int(found.group(1)) / (float(found.group(2)) * 1e6)


def run_queuesim(binary, case, customers, work_dir):
    """Runs queuesim on `case`: the whole process (start-up, scenario load,
    simulation, CSV/plots/HTML report) and the simulation alone."""
    scenario = os.path.join(work_dir, f"{case}.toml")
    with open(scenario, "w", encoding="utf-8") as f:
        f.write(scenario_text(case, customers))
    out_dir = os.path.join(work_dir, case)
    wall_s, result = min(
        (
            timed_queuesim(binary, scenario, out_dir, "--threads", "1")
            for _ in range(QUEUESIM_REPEATS)
        ),
        key=lambda run: run[0],
    )
    summary = result["summary"]
    return {
        "process_s": wall_s,
        "engine_s": min(
            simulation_seconds(binary, scenario, out_dir) for _ in range(QUEUESIM_REPEATS)
        ),
        "events_engine_s": min(
            simulation_seconds(binary, scenario, out_dir, "--set", 'simulation.engine="events"')
            for _ in range(QUEUESIM_REPEATS)
        ),
        "customers": round(summary["delivered"]["mean"]),
        "mean_sojourn": summary["mean_latency"]["mean"],
        "spread": one_run_spread(binary, scenario, out_dir),
    }


def rows_for(binary, case, customers, work_dir):
    """The table rows of one case: queuesim three times (whole process,
    simulation only, simulation only on the event engine rather than the
    Lindley fast path these cases take), then each peer with queuesim's
    speed-up over the first two."""
    title, arrival_rate, stations = CASES[case]
    ours = run_queuesim(binary, case, customers, work_dir)
    theory = f"{theory_sojourn(arrival_rate, stations):.3f} ± {ours['spread']:.3f}"
    per_process = ours["process_s"] / ours["customers"]
    per_engine = ours["engine_s"] / ours["customers"]
    rows = [
        (title, "queuesim (whole process)", ours["customers"], ours["process_s"],
         per_process, None, None, ours["mean_sojourn"], theory),
        (title, "queuesim (simulation only)", ours["customers"], ours["engine_s"],
         per_engine, None, None, ours["mean_sojourn"], theory),
        (title, "queuesim (event engine only)", ours["customers"], ours["events_engine_s"],
         ours["events_engine_s"] / ours["customers"], None, None, ours["mean_sojourn"], theory),
    ]
    for script in ("ciw_cases.py", "simpy_cases.py"):
        peer = run_peer(script, case, customers)
        per_customer = peer["wall_s"] / peer["customers"]
        rows.append((title, peer["tool"], peer["customers"], peer["wall_s"], per_customer,
                     per_customer / per_process, per_customer / per_engine,
                     peer["mean_sojourn"], theory))
    return rows


def print_table(rows):
    """Prints `rows` as an aligned text table."""
    header = ("case", "tool", "customers", "wall s", "µs/customer",
              "speed-up (process)", "speed-up (sim)", "mean sojourn",
              "theory ± sd of one run")

    def ratio(value):
        return "" if value is None else f"{value:.0f}x"

    cells = [header] + [
        (case, tool, str(n), f"{wall:.3f}", f"{per * 1e6:.2f}", ratio(process),
         ratio(sim), f"{sojourn:.3f}", theory)
        for case, tool, n, wall, per, process, sim, sojourn, theory in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for row in cells:
        print("  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(row, widths))))


def main():
    binary, customers = sys.argv[1], int(sys.argv[2])
    rows = []
    with tempfile.TemporaryDirectory(prefix="queuesim-peers-") as work_dir:
        for case in CASES:
            print(f"running {case} ...", file=sys.stderr, flush=True)
            rows += rows_for(binary, case, customers, work_dir)
    print_table(rows)
    print(
        f"\nspeed-up = peer µs/customer / queuesim µs/customer (whole process or "
        f"simulation only); fastest of {PEER_REPEATS} peer runs and {QUEUESIM_REPEATS} "
        f"queuesim runs; mean sojourn end-to-end; theory: M/M/1 1/(mu - lambda), "
        f"M/M/10 Erlang C, tandem sum of M/M/1 sojourns; sd of one run from "
        f"{SPREAD_REPLICATIONS} queuesim replications; seed {SEED}."
    )


if __name__ == "__main__":
    main()
