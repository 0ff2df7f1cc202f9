"""The three benchmark cases in Ciw: `ciw.create_network` with exponential
distributions, run until a number of customers have left the network.

    python ciw_cases.py CASE CUSTOMERS [SEED]

CASE is mm1, mm10 or tandem. Prints one JSON line: tool, case, customers
simulated (completed), wall time in seconds (network construction,
simulation and the mean from the records; not interpreter start-up or
imports) and mean sojourn (end-to-end for the tandem).
"""

import json
import sys
import time

import ciw


def network(case):
    """The Ciw network of `case`."""
    exp = ciw.dists.Exponential
    if case == "mm1":
        return ciw.create_network(
            arrival_distributions=[exp(rate=0.8)],
            service_distributions=[exp(rate=1.0)],
            number_of_servers=[1],
        )
    if case == "mm10":
        return ciw.create_network(
            arrival_distributions=[exp(rate=8.0)],
            service_distributions=[exp(rate=1.0)],
            number_of_servers=[10],
        )
    if case == "tandem":
        return ciw.create_network(
            arrival_distributions=[exp(rate=0.5), None, None],
            service_distributions=[exp(rate=1.0), exp(rate=0.8), exp(rate=0.7)],
            number_of_servers=[1, 1, 1],
            routing=[[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]],
        )
    raise ValueError(f"unknown case {case!r}: expected mm1, mm10 or tandem")


def simulate(case, customers, seed):
    """Runs `case` until `customers` customers have completed; returns the
    mean end-to-end sojourn and the number of customers it averages."""
    ciw.seed(seed)
    sim = ciw.Simulation(network(case))
    sim.simulate_until_max_customers(customers, method="Complete")
    last_node = sim.network.number_of_nodes
    arrived = {}
    left = {}
    for record in sim.get_all_records(only=["service"]):
        if record.node == 1:
            arrived[record.id_number] = record.arrival_date
        if record.node == last_node:
            left[record.id_number] = record.exit_date
    sojourns = [exit_date - arrived[i] for i, exit_date in left.items()]
    return sum(sojourns) / len(sojourns), len(sojourns)


def main():
    case, customers = sys.argv[1], int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    started = time.perf_counter()
    mean_sojourn, simulated = simulate(case, customers, seed)
    wall_s = time.perf_counter() - started
    print(
        json.dumps(
            {
                "tool": f"Ciw {ciw.__version__}",
                "case": case,
                "customers": simulated,
                "wall_s": wall_s,
                "mean_sojourn": mean_sojourn,
            }
        )
    )


if __name__ == "__main__":
    main()
