#!/usr/bin/env python3
"""Real RabbitMQ against queuesim: the measuring side and the comparing side
of bench/rabbitmq/run.sh.

    harness.py real --port PORT --out real.json [--records DIR] [--seconds S] [--warmup S]
        Measures the broker (already running on 127.0.0.1:PORT, user guest):
        first its dispatch latency with no load, then each experiment of
        EXPERIMENTS with a Poisson producer and consumer processes. Writes
        every measurement, and the experiment definitions, to real.json,
        and one CSV of per-message records per experiment to --records.

    harness.py sim --real real.json --out DIR [--queuesim BIN]
        Writes the queuesim scenario of each experiment (with the dispatch
        latency measured above; nothing is tuned per experiment), runs
        `queuesim run`, and prints the table real | queuesim | theory.
        Needs no broker, so a saved real.json can be re-compared at any time.

Times are CLOCK_MONOTONIC seconds (time.monotonic), which every process
of this machine shares; reported latencies are in milliseconds.

Real confidence intervals are batch means: the messages published in the
measured window (after the warm-up), in publication order, are cut into
BATCHES equal batches; a metric's interval is Student's t times the
standard error of its per-batch values, around the value over all of them.
"""

import argparse
import csv
import glob
import json
import math
import multiprocessing
import os
import random
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

RATE = 60.0  # messages per second, every experiment
SERVICE_MS = 50.0  # mean of the exponential service time, every consumer
BATCHES = 20  # batch means of the real measurements
# Student's t, 97.5% quantile, by degrees of freedom (BATCHES - 1 = 19).
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
        10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110,
        18: 2.101, 19: 2.093, 20: 2.086, 25: 2.060, 30: 2.042}
TAIL_S = 3.0  # traffic published after the measured window, so that its last messages see a loaded broker
DRAIN_TIMEOUT_S = 60.0  # longest wait for the last messages to be consumed or dead-lettered
PREFIX = "qsbench."  # every queue and exchange the bench declares starts with this


# --------------------------------------------------------------- experiments
#
# One definition serves both sides: the real run declares these queues and
# bindings on the broker, the sim side writes the same model as a queuesim
# scenario. Queue names are queuesim's; the broker's get PREFIX and the
# experiment id in front.


def queue(name, consumers=4, prefetch=1, **extra):
    """A queue and its consumer group (consumers = 0: a parking queue)."""
    spec = {"name": name, "consumers": consumers, "concurrency": 1, "prefetch": prefetch,
            "ack": "after-service", "service_ms": SERVICE_MS, "ttl_ms": None,
            "max_length": None, "overflow": None, "dead_letter": None}
    spec.update(extra)
    return spec


def experiments():
    dlq = queue("dlq", consumers=0, prefetch=0)  # dead letters: parked (the real side records them)
    celery_queue = dict(consumers=1, concurrency=4, prefetch=16)  # --concurrency 4 x multiplier 4
    return [
        {"id": "1", "title": "prefetch 1, 4 consumers (rho 0.75)",
         "queues": [queue("work", 4, 1)], "theory": "mmc"},
        {"id": "2", "title": "prefetch 20, 4 consumers (rho 0.75)",
         "queues": [queue("work", 4, 20)], "theory": "e4m1"},
        {"id": "3", "title": "unlimited prefetch (prefetch_count 0), 4 consumers",
         "queues": [queue("work", 4, 0)], "theory": "e4m1"},
        {"id": "4", "title": "x-message-ttl 200ms, prefetch 20, 2 consumers (rho 1.5), DLX",
         "queues": [queue("work", 2, 20, ttl_ms=200, dead_letter="dlq"), dlq]},
        {"id": "5", "title": "expiration 50ms or 2s (half each), prefetch 1, 2 consumers (rho 1.5), DLX",
         "queues": [queue("work", 2, 1, dead_letter="dlq"), dlq], "ttls_ms": [50, 2000]},
        {"id": "6", "title": "x-max-length 10 reject-publish, confirms (in flight 1), prefetch 1, 3 consumers",
         "queues": [queue("work", 3, 1, max_length=10, overflow="reject-publish")],
         "confirms": True, "theory": "mmck"},
        {"id": "7", "title": "x-max-length 10 drop-head into a DLX, prefetch 1, 3 consumers",
         "queues": [queue("work", 3, 1, max_length=10, overflow="drop-head", dead_letter="dlq"), dlq],
         "theory": "mmck"},
        {"id": "8", "title": "topic exchange, 3 bindings, 4 weighted routing keys, prefetch 1",
         "exchange": {"name": "events", "kind": "topic",
                      "bindings": [{"queue": "orders_eu", "key": "order.*.eu"},
                                   {"queue": "cancellations", "key": "order.cancelled.#"},
                                   {"queue": "audit", "key": "#"}]},
         "routing_keys": [{"key": "order.created.eu", "weight": 0.5},
                          {"key": "order.cancelled.eu", "weight": 0.1},
                          {"key": "order.cancelled.us", "weight": 0.2},
                          {"key": "payment.captured.us", "weight": 0.2}],
         "queues": [queue("orders_eu", 3, 1), queue("cancellations", 2, 1), queue("audit", 4, 1)],
         "theory": "topic"},
        {"id": "9a", "title": "Celery --concurrency 4, prefetch multiplier 4, early ack (default)",
         "celery": {"concurrency": 4, "multiplier": 4, "acks_late": False},
         "queues": [queue("tasks", ack="on-start", **celery_queue)], "theory": "celery"},
        {"id": "9b", "title": "Celery --concurrency 4, prefetch multiplier 4, acks_late=True",
         "celery": {"concurrency": 4, "multiplier": 4, "acks_late": True},
         "queues": [queue("tasks", ack="after-service", **celery_queue)], "theory": "celery"},
    ]


def topic_matches(binding, key):
    """AMQP topic matching: words split on '.', '*' is one word, '#' zero or more."""
    def match(b, k):
        if not b:
            return not k
        if b[0] == "#":
            return any(match(b[1:], k[i:]) for i in range(len(k) + 1))
        return bool(k) and (b[0] == "*" or b[0] == k[0]) and match(b[1:], k[1:])
    return match(binding.split("."), key.split("."))


def destinations(spec, key):
    """The queues (queuesim names) a message published with `key` reaches."""
    if "exchange" in spec:
        return sorted({b["queue"] for b in spec["exchange"]["bindings"] if topic_matches(b["key"], key)})
    return [spec["queues"][0]["name"]]


# ------------------------------------------------------------- small helpers


def quantile(values, p):
    """Linear-interpolation quantile of a non-empty list."""
    xs = sorted(values)
    pos = p * (len(xs) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def describe(samples_s):
    """Mean, cv and percentiles (in ms) of a list of durations in seconds."""
    ms = [1000.0 * s for s in samples_s]
    mean = statistics.fmean(ms)
    return {"mean_ms": mean, "cv": statistics.stdev(ms) / mean, "p50_ms": quantile(ms, 0.5),
            "p99_ms": quantile(ms, 0.99), "n": len(ms)}


def batch_estimate(values, stat, unit):
    """Point estimate and batch-means 95% half-width of stat over `values`.

    `values` holds one entry per measured message in publication order;
    None marks a message that does not enter this metric (not delivered,
    say). The batches are cut on messages, not on entries, so every metric
    of an experiment uses the same batches."""
    kept = [v for v in values if v is not None]
    if not kept:
        return {"value": None, "ci95": None, "unit": unit, "n": 0}
    point = stat(kept)
    per_batch = []
    n = len(values)
    for b in range(BATCHES):
        chunk = [v for v in values[b * n // BATCHES:(b + 1) * n // BATCHES] if v is not None]
        if chunk:
            per_batch.append(stat(chunk))
    half = None
    if len(per_batch) >= 2:
        df = len(per_batch) - 1
        t = T975.get(df, T975[max(k for k in T975 if k <= df)])
        half = t * statistics.stdev(per_batch) / math.sqrt(len(per_batch))
    return {"value": point, "ci95": half, "unit": unit, "n": len(kept)}


# ----------------------------------------------------- broker-side processes


def connect(port):
    import pika
    params = pika.ConnectionParameters(host="127.0.0.1", port=port, heartbeat=0,
                                       connection_attempts=3, retry_delay=0.5)
    return pika.BlockingConnection(params)


def consumer_proc(port, queue_name, prefetch, service_ms, seed, out_path, counter, ready, stop):
    """One consumer process: takes messages with basic.qos(prefetch), sleeps
    an Exp(service_ms) service time (none if 0), acks, and records
    id, scheduled, received, done (after the ack) per message."""
    rng = random.Random(seed)
    conn = connect(port)
    ch = conn.channel()
    ch.basic_qos(prefetch_count=prefetch)
    rows = []

    def on_message(channel, method, properties, body):
        received = time.monotonic()
        message = json.loads(body)
        if service_ms > 0:
            time.sleep(rng.expovariate(1000.0 / service_ms))
        channel.basic_ack(method.delivery_tag)
        rows.append((message["id"], message["sched"], received, time.monotonic()))
        with counter.get_lock():
            counter.value += 1

    ch.basic_consume(queue_name, on_message)
    ready.set()
    try:
        while not stop.is_set():
            conn.process_data_events(time_limit=0.1)
    finally:
        with open(out_path, "w", newline="") as f:
            csv.writer(f).writerows(rows)
        try:
            conn.close()
        except Exception:
            pass


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def dead_letter_proc(port, queue_name, out_path, counter, ready, stop):
    """Consumes a dead-letter queue: records id, the time it arrived there,
    the reason and the queue it died in (from the first x-death entry)."""
    conn = connect(port)
    ch = conn.channel()
    rows = []

    def on_message(channel, method, properties, body):
        arrived = time.monotonic()
        message = json.loads(body)
        death = ((properties.headers or {}).get("x-death") or [{}])[0]
        rows.append((message["id"], arrived, _text(death.get("reason", "?")), _text(death.get("queue", "?"))))
        channel.basic_ack(method.delivery_tag)
        with counter.get_lock():
            counter.value += 1

    ch.basic_consume(queue_name, on_message)
    ready.set()
    try:
        while not stop.is_set():
            conn.process_data_events(time_limit=0.1)
    finally:
        with open(out_path, "w", newline="") as f:
            csv.writer(f).writerows(rows)
        try:
            conn.close()
        except Exception:
            pass


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


class Workers:
    """Consumer processes of one experiment, all stopped by one event."""

    def __init__(self):
        self.ctx = multiprocessing.get_context("spawn")
        self.counter = self.ctx.Value("q", 0)
        self.stop = self.ctx.Event()
        self.procs = []  # (process, ready event, output file, kind, queue)

    def start(self, target, args, out_path, kind, queue_name):
        ready = self.ctx.Event()
        proc = self.ctx.Process(target=target, args=args + (out_path, self.counter, ready, self.stop))
        proc.start()
        self.procs.append((proc, ready, out_path, kind, queue_name))

    def wait_ready(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        for proc, ready, *_ in self.procs:
            if not ready.wait(max(0.0, deadline - time.monotonic())):
                raise RuntimeError("a consumer process did not start in time")

    def wait_count(self, expected, timeout):
        deadline = time.monotonic() + timeout
        while self.counter.value < expected and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.counter.value

    def finish(self):
        """Stops every process (by its own PID) and returns its records."""
        self.stop.set()
        for proc, *_ in self.procs:
            proc.join(15)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
        return [(kind, queue_name, read_rows(path) if os.path.exists(path) else [])
                for _, _, path, kind, queue_name in self.procs]


# -------------------------------------------------------- dispatch latency


def calibrate(port, records, n=1000):
    """Round trips through an idle broker: publish -> consumer receives
    (messages spaced 5-15 ms apart), consumer ack -> next delivery with
    prefetch 1 (a backlog of n + 1 messages, no service time), and the
    publisher-confirm latency (confirm mode, one message in flight)."""
    conn = connect(port)
    ch = conn.channel()
    rng = random.Random(12345)
    names = {k: PREFIX + "calibrate." + k for k in ("deliver", "next", "confirm")}
    for name in names.values():
        ch.queue_declare(name)
        ch.queue_purge(name)
    result = {}
    try:
        # publish -> deliver
        workers = Workers()
        workers.start(consumer_proc, (port, names["deliver"], 1, 0.0, 1), os.path.join(records, "cal-deliver.csv"),
                      "consumer", "deliver")
        workers.wait_ready()
        time.sleep(0.5)
        for i in range(n):
            time.sleep(rng.uniform(0.005, 0.015))
            ch.basic_publish("", names["deliver"], json.dumps({"id": i, "sched": time.monotonic()}))
        workers.wait_count(n, 30)
        rows = workers.finish()[0][2]
        deliver = [float(r[2]) - float(r[1]) for r in rows]

        # ack -> next delivery (prefetch 1, backlog)
        for i in range(n + 1):
            ch.basic_publish("", names["next"], json.dumps({"id": i, "sched": 0.0}))
        workers = Workers()
        workers.start(consumer_proc, (port, names["next"], 1, 0.0, 1), os.path.join(records, "cal-next.csv"),
                      "consumer", "next")
        workers.wait_ready()
        workers.wait_count(n + 1, 30)
        rows = sorted(workers.finish()[0][2], key=lambda r: float(r[2]))
        following = [float(b[2]) - float(a[3]) for a, b in zip(rows, rows[1:])]

        # publisher confirms
        confirm_ch = conn.channel()
        confirm_ch.confirm_delivery()
        confirms = []
        for i in range(n // 2):
            time.sleep(rng.uniform(0.002, 0.008))
            start = time.monotonic()
            confirm_ch.basic_publish("", names["confirm"], json.dumps({"id": i, "sched": start}))
            confirms.append(time.monotonic() - start)

        result = {"publish_to_deliver": describe(deliver), "ack_to_next": describe(following),
                  "dispatch": describe(deliver + following), "confirm": describe(confirms)}
    finally:
        for name in names.values():
            ch.queue_delete(name)
        conn.close()
    return result


# ------------------------------------------------------------- experiments


def declare(ch, spec):
    """Declares the experiment's exchange, queues, DLX and bindings; returns
    queuesim name -> broker name."""
    prefix = f"{PREFIX}{spec['id']}."
    names = {q["name"]: prefix + q["name"] for q in spec["queues"]}
    for q in spec["queues"]:
        args = {}
        if q["ttl_ms"]:
            args["x-message-ttl"] = int(q["ttl_ms"])
        if q["max_length"] is not None:
            args["x-max-length"] = int(q["max_length"])
            args["x-overflow"] = q["overflow"] or "drop-head"
        if q["dead_letter"]:
            dlx = prefix + "dlx." + q["dead_letter"]
            ch.exchange_declare(dlx, "fanout")
            args["x-dead-letter-exchange"] = dlx
        ch.queue_delete(names[q["name"]])
        ch.queue_declare(names[q["name"]], arguments=args)
    for q in spec["queues"]:
        if q["dead_letter"]:
            ch.queue_bind(names[q["dead_letter"]], prefix + "dlx." + q["dead_letter"])
    if "exchange" in spec:
        ex = spec["exchange"]
        ch.exchange_declare(prefix + ex["name"], ex["kind"])
        for b in ex["bindings"]:
            ch.queue_bind(names[b["queue"]], prefix + ex["name"], routing_key=b["key"])
    return names


def undeclare(ch, spec):
    prefix = f"{PREFIX}{spec['id']}."
    for q in spec["queues"]:
        ch.queue_delete(prefix + q["name"])
        if q["dead_letter"]:
            ch.exchange_delete(prefix + "dlx." + q["dead_letter"])
    if "exchange" in spec:
        ch.exchange_delete(prefix + spec["exchange"]["name"])


def schedule(spec, cfg, seed):
    """Poisson publication times (seconds after t0) with each message's
    routing key and per-message TTL."""
    rng = random.Random(seed)
    keys = spec.get("routing_keys") or [{"key": None, "weight": 1.0}]
    ttls = spec.get("ttls_ms") or [None]
    end = cfg["warmup_s"] + cfg["seconds"] + TAIL_S
    t, plan = 0.0, []
    while True:
        t += rng.expovariate(RATE)
        if t >= end:
            return plan
        key = rng.choices([k["key"] for k in keys], weights=[k["weight"] for k in keys])[0]
        plan.append((t, key, rng.choice(ttls)))


def publish_all(plan, send):
    """Publishes at the scheduled times (sleeping, never spinning); send()
    returns the message's fate at publication ("sent" or "rejected").
    Returns t0 and one row per message."""
    t0 = time.monotonic() + 0.2
    produced = []
    for i, (offset, key, ttl) in enumerate(plan):
        due = t0 + offset
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        fate = send(i, due, key, ttl)
        produced.append({"id": i, "sched": due, "key": key, "ttl_ms": ttl, "fate": fate})
    return t0, produced


def run_pika(spec, port, cfg, records, seed):
    """Runs one experiment with pika consumers; returns the raw records."""
    import pika
    conn = connect(port)
    ch = conn.channel()
    names = declare(ch, spec)
    pub = conn.channel()
    if spec.get("confirms"):
        pub.confirm_delivery()
    workers = Workers()
    try:
        for q in spec["queues"]:
            for c in range(q["consumers"]):
                workers.start(consumer_proc, (port, names[q["name"]], q["prefetch"], q["service_ms"], seed * 100 + c + 1),
                              os.path.join(records, f"exp{spec['id']}-{q['name']}-{c}.csv"), "consumer", q["name"])
            if q["consumers"] == 0:  # a parking queue: the recorder of dead letters
                workers.start(dead_letter_proc, (port, names[q["name"]]),
                              os.path.join(records, f"exp{spec['id']}-{q['name']}.csv"), "dead", q["name"])
        workers.wait_ready()
        time.sleep(0.5)
        exchange = PREFIX + spec["id"] + "." + spec["exchange"]["name"] if "exchange" in spec else ""

        def send(i, due, key, ttl):
            routing_key = key if exchange else names[spec["queues"][0]["name"]]
            props = pika.BasicProperties(delivery_mode=1, headers={"x-scheduled": repr(due)},
                                         expiration=str(int(ttl)) if ttl else None)
            try:
                pub.basic_publish(exchange, routing_key, json.dumps({"id": i, "sched": due}), props)
            except pika.exceptions.NackError:
                return "rejected"
            return "sent"

        t0, produced = publish_all(schedule(spec, cfg, seed), send)
        expected = sum(len(destinations(spec, m["key"])) for m in produced if m["fate"] == "sent")
        seen = workers.wait_count(expected, DRAIN_TIMEOUT_S)
    finally:
        collected = workers.finish()
        try:
            undeclare(ch, spec)
            conn.close()
        except Exception:
            pass
    deliveries, deaths = {}, {}
    for kind, qname, rows in collected:
        for r in rows:
            if kind == "consumer":
                deliveries[(int(r[0]), qname)] = (float(r[2]), float(r[3]))
            else:
                origin = r[3][len(PREFIX + spec["id"] + "."):]
                deaths[(int(r[0]), origin)] = (float(r[1]), r[2])
    return {"t0": t0, "produced": produced, "deliveries": deliveries, "deaths": deaths,
            "expected": expected, "seen": seen}


def run_celery(spec, port, cfg, records, seed):
    """Runs one Celery experiment: a `celery worker` process group of our
    own, the harness publishing with send_task at the scheduled times."""
    import pika
    c = spec["celery"]
    qname = f"{PREFIX}{spec['id']}.tasks"
    out_dir = os.path.join(records, f"celery-{spec['id']}")
    os.makedirs(out_dir, exist_ok=True)
    for old in glob.glob(os.path.join(out_dir, "done-*.csv")):
        os.remove(old)
    os.environ.update({"BENCH_BROKER_URL": f"amqp://guest:guest@127.0.0.1:{port}//", "BENCH_OUT_DIR": out_dir,
                       "BENCH_SERVICE_MS": str(spec["queues"][0]["service_ms"]),
                       "BENCH_ACKS_LATE": "1" if c["acks_late"] else "0",
                       "BENCH_PREFETCH_MULTIPLIER": str(c["multiplier"])})
    env = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    log = open(os.path.join(out_dir, "worker.log"), "w")
    # Its own session, so that it can be stopped as one group, by its PID.
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "celery_tasks", "worker", "--pool", "prefork",
         "--concurrency", str(c["concurrency"]), "--prefetch-multiplier", str(c["multiplier"]),
         "-Q", qname, "-n", f"bench{spec['id']}@localhost", "--without-heartbeat", "--without-gossip",
         "--without-mingle", "--loglevel", "WARNING"],
        cwd=HERE, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def done_rows():
        rows = []
        for path in glob.glob(os.path.join(out_dir, "done-*.csv")):
            rows += [r for r in read_rows(path) if len(r) == 4]
        return rows

    try:
        deadline = time.monotonic() + 60
        while True:  # ready when the worker consumes its queue
            if worker.poll() is not None:
                raise RuntimeError(f"celery worker exited with {worker.returncode}; see {log.name}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"celery worker not consuming after 60 s; see {log.name}")
            try:
                conn = connect(port)
                count = conn.channel().queue_declare(qname, passive=True, durable=True).method.consumer_count
                conn.close()
                if count >= 1:
                    break
            except pika.exceptions.ChannelClosedByBroker:
                conn.close()
            time.sleep(0.5)
        sys.path.insert(0, HERE)
        from celery_tasks import app
        app.send_task("bench.work", args=[-1, 0.0], queue=qname)  # warms up both sides
        while not any(r[0] == "-1" for r in done_rows()):
            time.sleep(0.1)
        time.sleep(1.0)

        def send(i, due, key, ttl):
            app.send_task("bench.work", args=[i, due], queue=qname)
            return "sent"

        t0, produced = publish_all(schedule(spec, cfg, seed), send)
        expected = len(produced)
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while len(done_rows()) - 1 < expected and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        try:
            os.killpg(worker.pid, signal.SIGTERM)  # warm shutdown of the worker and its pool
            worker.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(5)
        except ProcessLookupError:
            pass
        log.close()
        try:
            conn = connect(port)
            conn.channel().queue_delete(qname)
            conn.close()
        except Exception:
            pass
    deliveries = {}
    for r in done_rows():
        if r[0] != "-1":
            deliveries[(int(r[0]), "tasks")] = (float(r[2]), float(r[3]))
    return {"t0": t0, "produced": produced, "deliveries": deliveries, "deaths": {},
            "expected": expected, "seen": len(deliveries)}


def analyze(spec, raw, cfg, records):
    """Per-message fates and latencies -> the experiment's metrics."""
    t0 = raw["t0"]
    start, end = cfg["warmup_s"], cfg["warmup_s"] + cfg["seconds"]
    cohort = [m for m in raw["produced"] if start <= m["sched"] - t0 < end]
    queues = [q["name"] for q in spec["queues"]]
    rows, fates, latency = [], [], []
    per_queue = {q: [] for q in queues}  # publish -> done at that queue, or None
    reached = {q: [] for q in queues}  # 1 if a copy reached the queue
    for m in cohort:
        dest = destinations(spec, m["key"])
        fate, done = "delivered", []
        if m["fate"] == "rejected":
            fate = "rejected"
        for q in dest if fate != "rejected" else []:
            d = raw["deliveries"].get((m["id"], q))
            x = raw["deaths"].get((m["id"], q))
            if d:
                done.append(d[1])
            elif x:
                fate = "dead:" + x[1]
            else:
                fate = "missing" if fate == "delivered" else fate
            rows.append([m["id"], f"{m['sched'] - t0:.6f}", m["key"] or "", m["ttl_ms"] or "", q,
                         f"{d[0] - t0:.6f}" if d else "", f"{d[1] - t0:.6f}" if d else "",
                         f"{x[0] - t0:.6f}" if x else "", x[1] if x else ""])
        if not dest or fate == "rejected":
            rows.append([m["id"], f"{m['sched'] - t0:.6f}", m["key"] or "", m["ttl_ms"] or "", "", "", "", "", fate])
        fates.append(fate)
        latency.append(1000.0 * (max(done) - m["sched"]) if fate == "delivered" else None)
        for q in queues:
            d = raw["deliveries"].get((m["id"], q))
            reached[q].append(1.0 if q in dest and fate != "rejected" and (d or (m["id"], q) in raw["deaths"]) else 0.0)
            per_queue[q].append(1000.0 * (d[1] - m["sched"]) if d else None)
    with open(os.path.join(records, f"exp{spec['id']}.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "sched_s", "routing_key", "ttl_ms", "queue", "received_s", "done_s", "dead_s", "fate"])
        w.writerows(rows)

    mean = statistics.fmean
    metrics = {
        "mean_latency": batch_estimate(latency, mean, "ms"),
        "p50_latency": batch_estimate(latency, lambda v: quantile(v, 0.50), "ms"),
        "p95_latency": batch_estimate(latency, lambda v: quantile(v, 0.95), "ms"),
        "p99_latency": batch_estimate(latency, lambda v: quantile(v, 0.99), "ms"),
        "delivered_share": batch_estimate([1.0 if f == "delivered" else 0.0 for f in fates], mean, "share"),
    }
    main = spec["queues"][0]
    if main["ttl_ms"] or spec.get("ttls_ms"):
        metrics["expired_share"] = batch_estimate([1.0 if f == "dead:expired" else 0.0 for f in fates], mean, "share")
    if main["overflow"] == "reject-publish":
        metrics["rejected_share"] = batch_estimate([1.0 if f == "rejected" else 0.0 for f in fates], mean, "share")
    if main["overflow"] == "drop-head":
        metrics["maxlen_share"] = batch_estimate([1.0 if f == "dead:maxlen" else 0.0 for f in fates], mean, "share")
    for ttl in spec.get("ttls_ms") or []:
        mine = [m["ttl_ms"] == ttl for m in cohort]
        metrics[f"expired_share@{ttl}ms"] = batch_estimate(
            [(1.0 if f == "dead:expired" else 0.0) if own else None for f, own in zip(fates, mine)], mean, "share")
        # Time from publication to arrival in the dead-letter queue.
        dead_after = []
        for m, own in zip(cohort, mine):
            x = raw["deaths"].get((m["id"], main["name"]))
            dead_after.append(1000.0 * (x[0] - m["sched"]) if own and x else None)
        metrics[f"dead_after_mean@{ttl}ms"] = batch_estimate(dead_after, mean, "ms")
        metrics[f"dead_after_p95@{ttl}ms"] = batch_estimate(dead_after, lambda v: quantile(v, 0.95), "ms")
        delivered_lat = [v if own else None for v, own in zip(latency, mine)]
        metrics[f"mean_latency@{ttl}ms"] = batch_estimate(delivered_lat, mean, "ms")
    if "exchange" in spec:
        for q in queues:
            metrics[f"share:{q}"] = batch_estimate(reached[q], mean, "share")
            metrics[f"latency:{q}"] = batch_estimate(per_queue[q], mean, "ms")
    # Sanity: the measured service time (receipt to ack), no interval.
    service = [1000.0 * (d[1] - d[0]) for d in raw["deliveries"].values()]
    notes = {"messages": len(cohort), "missing": fates.count("missing"),
             "fates": {f: fates.count(f) for f in sorted(set(fates))},
             "service_mean_ms": statistics.fmean(service) if service else None,
             "drained": f"{raw['seen']} of {raw['expected']} copies accounted for"}
    return metrics, notes


def cmd_real(args):
    os.makedirs(args.records, exist_ok=True)
    cfg = {"seconds": args.seconds, "warmup_s": args.warmup, "rate": RATE, "service_ms": SERVICE_MS,
           "batches": BATCHES, "tail_s": TAIL_S}
    out = {"meta": {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "broker": args.broker_version,
                    "cpus": os.cpu_count(), "loadavg_at_start": os.getloadavg()},
           "config": cfg, "experiments": []}
    started = time.monotonic()
    print(f"dispatch latency: {args.calibration_messages} round trips of each kind", flush=True)
    out["calibration"] = calibrate(args.port, args.records, args.calibration_messages)
    d = out["calibration"]
    for k in ("publish_to_deliver", "ack_to_next", "dispatch", "confirm"):
        print(f"  {k:18} mean {d[k]['mean_ms']:.3f} ms  cv {d[k]['cv']:.2f}  p50 {d[k]['p50_ms']:.3f}  "
              f"p99 {d[k]['p99_ms']:.3f}  (n={d[k]['n']})", flush=True)
    only = set(args.only.split(",")) if args.only else None
    for index, spec in enumerate(experiments()):
        if only and spec["id"] not in only:
            continue
        t = time.monotonic()
        print(f"experiment {spec['id']}: {spec['title']} ...", flush=True)
        entry = {"spec": spec}
        try:
            runner = run_celery if "celery" in spec else run_pika
            raw = runner(spec, args.port, cfg, args.records, seed=1000 + index)
            entry["metrics"], entry["notes"] = analyze(spec, raw, cfg, args.records)
            m = entry["metrics"]
            print(f"  {entry['notes']['messages']} messages, fates {entry['notes']['fates']}, "
                  f"mean latency {m['mean_latency']['value']}, {entry['notes']['drained']}, "
                  f"{time.monotonic() - t:.0f} s", flush=True)
        except Exception as e:  # keep the other experiments
            entry["error"] = f"{type(e).__name__}: {e}"
            print(f"  failed: {entry['error']}", flush=True)
        out["experiments"].append(entry)
        with open(args.out, "w") as f:  # after every experiment, so a partial run is kept
            json.dump(out, f, indent=1)
    out["meta"]["real_seconds"] = time.monotonic() - started
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    print(f"real measurements: {args.out}", flush=True)


# --------------------------------------------------------------- theory


def erlang_c(c, a):
    """P(wait) of M/M/c with offered load a = lambda * mean service."""
    term, total = 1.0, 1.0
    for k in range(1, c):
        term *= a / k
        total += term
    last = term * a / c / (1 - a / c)
    return last / (total + last)


def mmc_latency(lam, c, s_queue, s_service, d, p=None):
    """Publish-to-done latency (ms) with an M/M/c waiting time computed for
    the holding time s_queue (service plus dispatch), then the service
    (Exp, mean s_service) and the dispatch d; the mean, or quantile p."""
    a = lam * s_queue
    if a >= c:
        return None
    pw = erlang_c(c, a)
    r = c / s_queue - lam  # rate of the conditional waiting time
    mu = 1 / s_service
    if p is None:
        return pw / r + s_service + d

    def tail(t):  # P(W + S > t)
        # r = mu: W + S is Erlang-2.
        both = math.exp(-mu * t) * (1 + mu * t) if abs(r - mu) < 1e-12 else (r * math.exp(-mu * t) - mu * math.exp(-r * t)) / (r - mu)
        return (1 - pw) * math.exp(-mu * t) + pw * both

    lo, hi = 0.0, 1.0
    while tail(hi) > 1 - p:
        hi *= 2
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if tail(mid) > 1 - p else (lo, mid)
    return (lo + hi) / 2 + d


def e4m1_sigma(lam, mu, k=4):
    """Root in (0, 1) of sigma = (lam / (lam + mu (1 - sigma)))^k: the GI/M/1
    sigma of a consumer fed every k-th message of a Poisson(lam) stream."""
    sigma = 0.0
    for _ in range(100000):
        nxt = (lam / (lam + mu * (1 - sigma))) ** k
        if abs(nxt - sigma) < 1e-15:
            break
        sigma = nxt
    return sigma


def mmck(lam, c, K, s):
    """M/M/c/K: (loss probability, mean wait of accepted messages)."""
    a = lam * s
    p = [1.0]
    for n in range(1, K + 1):
        p.append(p[-1] * a / min(n, c))
    total = sum(p)
    p = [x / total for x in p]
    lq = sum((n - c) * p[n] for n in range(c, K + 1))
    return p[K], lq / (lam * (1 - p[K]))


def theory(spec, metric, d_ms):
    """(value, model) where a queueing result applies; values in ms or shares."""
    lam = RATE / 1000.0  # per ms
    s = SERVICE_MS
    kind = spec.get("theory")
    quant = {"mean_latency": None, "p50_latency": 0.5, "p95_latency": 0.95, "p99_latency": 0.99}
    if kind == "mmc" and metric in quant:
        c = spec["queues"][0]["consumers"]
        return mmc_latency(lam, c, s + d_ms, s, d_ms, quant[metric]), "M/M/4, holding S+d"
    if kind == "celery" and metric in quant:
        c = spec["queues"][0]["concurrency"]
        return mmc_latency(lam, c, s, s, d_ms, quant[metric]), "M/M/4, holding S"
    if kind == "e4m1" and metric in quant:
        c = spec["queues"][0]["consumers"]
        mu = 1 / s
        sigma = e4m1_sigma(lam, mu, c)
        rate = mu * (1 - sigma)  # the sojourn of GI/M/1 is Exp(mu (1 - sigma))
        value = 1 / rate if quant[metric] is None else -math.log(1 - quant[metric]) / rate
        label = "E4/M/1 per consumer" + ("" if spec["queues"][0]["prefetch"] == 0 else " (prefetch rarely binds)")
        return value + d_ms, label
    if kind == "mmck":
        q = spec["queues"][0]
        loss, wait = mmck(lam, q["consumers"], q["max_length"] + q["consumers"], s + d_ms)
        label = f"M/M/{q['consumers']}/{q['max_length'] + q['consumers']}, holding S+d"
        if metric in ("rejected_share", "maxlen_share"):
            return loss, label
        if metric == "delivered_share":
            return 1 - loss, label
        if metric == "mean_latency" and q["overflow"] == "reject-publish":
            return wait + s + d_ms, label
    if kind == "topic":
        if metric.startswith("share:"):
            q = metric.split(":", 1)[1]
            share = sum(k["weight"] for k in spec["routing_keys"] if q in destinations(spec, k["key"]))
            return share, "sum of matching key weights"
        if metric.startswith("latency:"):
            name = metric.split(":", 1)[1]
            q = next(x for x in spec["queues"] if x["name"] == name)
            share = sum(k["weight"] for k in spec["routing_keys"] if name in destinations(spec, k["key"]))
            return mmc_latency(lam * share, q["consumers"], s + d_ms, s, d_ms), f"M/M/{q['consumers']}, holding S+d"
        if metric == "delivered_share":
            return 1.0, "no loss"
    return None, None


# ------------------------------------------------------------ queuesim side


def dist_lognormal(stats):
    return f'{{ dist = "lognormal", mean = "{stats["mean_ms"]:.4f}ms", cv = {stats["cv"]:.4f} }}'


def scenario_toml(spec, calibration, sim):
    """The queuesim scenario of one experiment."""
    dispatch = dist_lognormal(calibration["dispatch"])
    lines = [f'# Generated by bench/rabbitmq/harness.py: experiment {spec["id"]}, {spec["title"]}.',
             f'# Dispatch latency measured on the real broker: {calibration["dispatch"]["mean_ms"]:.4f} ms, '
             f'cv {calibration["dispatch"]["cv"]:.3f}.',
             f'name = "rabbitmq_bench_{spec["id"]}"',
             f'description = "{spec["title"]}"', "",
             "[simulation]", f'duration = "{sim["duration"]}s"', f'warmup = "{sim["warmup"]}s"',
             f'replications = {sim["replications"]}', f'seed = {sim["seed"]}', ""]
    to = spec["exchange"]["name"] if "exchange" in spec else spec["queues"][0]["name"]
    ttls = spec.get("ttls_ms") or [None]
    for ttl in ttls:  # several TTLs: independent Poisson producers sharing the rate
        lines += ["[[producers]]", f'name = "producer{"" if ttl is None else f"_ttl{ttl}ms"}"', f'to = "{to}"',
                  f'rate = "{RATE / len(ttls):g}/s"']
        if spec.get("routing_keys"):
            keys = ", ".join(f'{{ key = "{k["key"]}", weight = {k["weight"]} }}' for k in spec["routing_keys"])
            lines.append(f"routing_keys = [ {keys} ]")
        if ttl is not None:
            lines.append(f'ttl = "{ttl}ms"')
        if spec.get("confirms"):
            lines.append(f'confirm = {{ latency = {dist_lognormal(calibration["confirm"])}, in_flight = 1 }}')
        lines.append("")
    if "exchange" in spec:
        ex = spec["exchange"]
        routes = ", ".join(f'{{ to = "{b["queue"]}", key = "{b["key"]}" }}' for b in ex["bindings"])
        lines += ["[[exchanges]]", f'name = "{ex["name"]}"', f'kind = "{ex["kind"]}"', f"routes = [ {routes} ]", ""]
    for q in spec["queues"]:
        lines += ["[[queues]]", f'name = "{q["name"]}"']
        if q["max_length"] is not None:
            lines += [f'capacity = {q["max_length"]}', f'overflow = "{q["overflow"]}"']
        if q["ttl_ms"]:
            lines.append(f'ttl = "{q["ttl_ms"]}ms"')
        if q["dead_letter"]:
            lines.append(f'dead_letter = "{q["dead_letter"]}"')
        if q["consumers"]:
            lines += ["", "[queues.consumers]", f'count = {q["consumers"]}', f'concurrency = {q["concurrency"]}',
                      f'prefetch = {q["prefetch"]}', f'ack = "{q["ack"]}"', f"dispatch = {dispatch}",
                      f'service = {{ dist = "exponential", mean = "{q["service_ms"]:g}ms" }}']
        lines.append("")
    return "\n".join(lines)


def read_csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def number(row, key):
    v = row.get(key, "")
    return float(v) if v not in ("", None) else None


def sim_value(spec, metric, summary, nodes):
    """(value, ci95) of a real metric in queuesim's output, or None when
    queuesim reports nothing comparable. Shares are ratios of means; their
    interval is the numerator's (the denominator varies far less)."""
    main = spec["queues"][0]["name"]
    produced = number(summary, "produced")

    def ratio(row, key, denom):
        if row is None or number(row, key) is None or not denom:
            return None
        return number(row, key) / denom, (number(row, key + "_ci95") or 0.0) / denom

    if metric in ("mean_latency", "p50_latency", "p95_latency", "p99_latency"):
        v = number(summary, metric)
        return None if v is None else (1000 * v, 1000 * (number(summary, metric + "_ci95") or 0.0))
    if metric == "delivered_share":
        return ratio(summary, "delivered", produced)
    node = nodes.get(main)
    arrivals = number(node, "arrivals") if node else None
    if metric == "expired_share":
        return ratio(node, "expired", arrivals)
    if metric in ("rejected_share", "maxlen_share"):
        return ratio(node, "dropped", arrivals)
    if metric.startswith("share:"):
        return ratio(nodes.get(metric.split(":", 1)[1]), "arrivals", produced)
    return None


def run_queuesim(binary, toml_path, out_dir):
    """Runs one scenario; returns (summary row, nodes by name) or an error text."""
    try:
        p = subprocess.run([binary, "run", toml_path, "--out", out_dir, "--quiet"],
                           capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"{type(e).__name__}: {e}"
    if p.returncode != 0:
        return (p.stderr.strip() or p.stdout.strip() or f"exit status {p.returncode}")
    summary = read_csv_rows(os.path.join(out_dir, "summary.csv"))[0]
    nodes = {r["node"]: r for r in read_csv_rows(os.path.join(out_dir, "nodes.csv"))}
    return summary, nodes


def fmt(value, ci, unit):
    if value is None:
        return "-"
    digits = 4 if unit == "share" else (2 if abs(value) < 100 else 1)
    text = f"{value:.{digits}f}"
    return text + (f" ± {ci:.{digits}f}" if ci is not None else " (no CI)")


LABELS = {"mean_latency": "mean latency ms", "p50_latency": "p50 latency ms", "p95_latency": "p95 latency ms",
          "p99_latency": "p99 latency ms", "delivered_share": "delivered share",
          "expired_share": "expired (DLX) share", "rejected_share": "rejected (nack) share",
          "maxlen_share": "dropped head (DLX maxlen) share"}


def label(metric):
    if metric in LABELS:
        return LABELS[metric]
    name, _, arg = metric.partition("@")
    if name.startswith("share:"):
        return f"arrival share {name[6:]}"
    if name.startswith("latency:"):
        return f"mean latency at {name[8:]} ms"
    return {"expired_share": f"expired share, TTL {arg}", "dead_after_mean": f"publish->DLQ mean ms, TTL {arg}",
            "dead_after_p95": f"publish->DLQ p95 ms, TTL {arg}",
            "mean_latency": f"mean latency delivered ms, TTL {arg}"}.get(name, metric)


def cmd_sim(args):
    with open(args.real) as f:
        real = json.load(f)
    os.makedirs(args.out, exist_ok=True)
    sim = {"duration": args.duration, "warmup": args.sim_warmup, "replications": args.replications, "seed": 1}
    cal = real["calibration"]
    d_ms = cal["dispatch"]["mean_ms"]
    table, errors, results = [], [], []
    for entry in real["experiments"]:
        spec = entry["spec"]
        exp = f'{spec["id"]} {spec["title"]}'
        if "error" in entry:
            table.append([exp, "(real run failed)", entry["error"], "", "", ""])
            continue
        toml_path = os.path.join(args.out, f"exp{spec['id']}.toml")
        with open(toml_path, "w") as f:
            f.write(scenario_toml(spec, cal, sim))
        outcome = run_queuesim(args.queuesim, toml_path, os.path.join(args.out, f"exp{spec['id']}"))
        if isinstance(outcome, str):
            errors.append((spec["id"], toml_path, outcome))
        for metric, r in entry["metrics"].items():
            if r["value"] is None:  # nothing measured (no message of that kind expired, say)
                continue
            s = None if isinstance(outcome, str) else sim_value(spec, metric, *outcome)
            th, model = theory(spec, metric, d_ms)
            verdict = []
            if r["value"] is not None and r["ci95"] is not None:
                if s is not None:
                    ok = abs(r["value"] - s[0]) <= math.hypot(r["ci95"], s[1])
                    verdict.append("sim " + ("yes" if ok else "NO"))
                if th is not None:
                    verdict.append("theory " + ("yes" if abs(r["value"] - th) <= r["ci95"] else "NO"))
            if isinstance(outcome, str):
                sim_text = "error (see below)"
            else:
                sim_text = fmt(*s, r["unit"]) if s is not None else "n/a"
            th_text = "-" if th is None else (f"{th:.4f}" if r["unit"] == "share" else f"{th:.2f}") + f" [{model}]"
            table.append([exp, label(metric), fmt(r["value"], r["ci95"], r["unit"]), sim_text, th_text,
                          ", ".join(verdict) or "-"])
            results.append({"experiment": spec["id"], "metric": metric, "real": r,
                            "queuesim": None if s is None else {"value": s[0], "ci95": s[1]},
                            "theory": th, "theory_model": model})
            exp = ""  # the experiment's name only on its first row

    header = ["experiment", "metric", "real (95% CI)", "queuesim (95% CI)", "theory", "inside CI?"]
    widths = [max(len(str(row[i])) for row in table + [header]) for i in range(len(header))]
    lines = [f"dispatch latency (measured, idle broker): mean {d_ms:.3f} ms, cv {cal['dispatch']['cv']:.3f} "
             f"(publish->deliver {cal['publish_to_deliver']['mean_ms']:.3f} ms cv {cal['publish_to_deliver']['cv']:.2f}; "
             f"ack->next delivery {cal['ack_to_next']['mean_ms']:.3f} ms cv {cal['ack_to_next']['cv']:.2f}); "
             f"publisher confirm {cal['confirm']['mean_ms']:.3f} ms cv {cal['confirm']['cv']:.2f}",
             f"real: {real['config']['seconds']:g} s measured per experiment after {real['config']['warmup_s']:g} s warm-up, "
             f"{RATE:g} msg/s, service Exp({SERVICE_MS:g} ms), {BATCHES} batch means; "
             f"queuesim: {sim['replications']} replications of {sim['duration']} s after {sim['warmup']} s", ""]
    sep = "-+-".join("-" * w for w in widths)
    lines.append(" | ".join(h.ljust(w) for h, w in zip(header, widths)))
    lines.append(sep)
    for row in table:
        if row[0] and row is not table[0]:
            lines.append(sep)
        lines.append(" | ".join(str(c).ljust(w) for c, w in zip(row, widths)))
    lines += ["", "inside CI?: sim yes = |real - queuesim| <= the half-width of their difference "
              "(sqrt(ci_real^2 + ci_sim^2)); theory yes = theory inside the real interval.",
              "S = 50 ms service, d = measured dispatch latency; latency = scheduled publish -> done (after the ack).",
              "'n/a' = queuesim reports no comparable number (per-TTL-class figures, per-queue latencies)."]
    lines += ["", "per experiment: measured messages (after warm-up), their fates, mean measured service time (receipt to ack):"]
    for entry in real["experiments"]:
        n = entry.get("notes")
        if n:
            service = f"{n['service_mean_ms']:.2f} ms" if n["service_mean_ms"] is not None else "-"
            lines.append(f"  {entry['spec']['id']}: {n['messages']} messages, {n['fates']}, service {service}; {n['drained']}")
    for eid, path, err in errors:
        lines += ["", f"queuesim failed on experiment {eid} ({path}):", "  " + err.replace("\n", "\n  ")]
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(args.out, "table.txt"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(args.out, "comparison.json"), "w") as f:
        json.dump(results, f, indent=1)


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks that stop the consumers
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("real", help="measure the running broker")
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--out", required=True, help="real.json to write")
    r.add_argument("--records", default="records", help="folder for per-message CSV records")
    r.add_argument("--seconds", type=float, default=70.0, help="measured seconds of traffic per experiment")
    r.add_argument("--warmup", type=float, default=5.0, help="seconds of traffic dropped first")
    r.add_argument("--calibration-messages", type=int, default=1000)
    r.add_argument("--only", help="comma-separated experiment ids")
    r.add_argument("--broker-version", default="")
    s = sub.add_parser("sim", help="run the queuesim side of a saved real.json")
    s.add_argument("--real", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--queuesim", default=os.environ.get("QUEUESIM", "/work/main/target/release/queuesim"))
    s.add_argument("--duration", type=float, default=1000.0)
    s.add_argument("--sim-warmup", type=float, default=20.0)
    s.add_argument("--replications", type=int, default=10)
    args = parser.parse_args()
    cmd_real(args) if args.command == "real" else cmd_sim(args)


if __name__ == "__main__":
    main()
