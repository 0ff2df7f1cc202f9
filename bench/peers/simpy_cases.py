"""The three benchmark cases in SimPy: one process per customer, one
`simpy.Resource` per queue.

    python simpy_cases.py CASE CUSTOMERS [SEED]

CASE is mm1, mm10 or tandem. Prints one JSON line: tool, case, customers
simulated (completed), wall time in seconds (model construction, simulation
and the mean; not interpreter start-up or imports) and mean sojourn
(end-to-end for the tandem).
"""

import json
import random
import sys
import time

import simpy

# case -> (arrival rate, [(servers, service rate) per station, in order])
CASES = {
    "mm1": (0.8, [(1, 1.0)]),
    "mm10": (8.0, [(10, 1.0)]),
    "tandem": (0.5, [(1, 1.0), (1, 0.8), (1, 0.7)]),
}


def simulate(case, customers, seed):
    """Runs `case` until `customers` customers have left; returns their mean sojourn."""
    arrival_rate, stations = CASES[case]
    rng = random.Random(seed)
    env = simpy.Environment()
    resources = [(simpy.Resource(env, capacity=c), rate) for c, rate in stations]
    sojourns = []
    all_done = env.event()

    def customer():
        arrived = env.now
        for resource, service_rate in resources:
            with resource.request() as request:
                yield request
                yield env.timeout(rng.expovariate(service_rate))
        sojourns.append(env.now - arrived)
        if len(sojourns) == customers:
            all_done.succeed()

    def source():
        while True:
            yield env.timeout(rng.expovariate(arrival_rate))
            env.process(customer())

    env.process(source())
    env.run(until=all_done)
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
                "tool": f"SimPy {simpy.__version__}",
                "case": case,
                "customers": simulated,
                "wall_s": wall_s,
                "mean_sojourn": mean_sojourn,
            }
        )
    )


if __name__ == "__main__":
    main()
