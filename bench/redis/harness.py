#!/usr/bin/env python3
"""Real Redis against queuesim: the measuring side and the comparing side
of bench/redis/run.sh.

    harness.py real --port PORT --out real.json [--records DIR] [--seconds S] [--warmup S] [--pidfile FILE]
        Measures the Redis server already running on 127.0.0.1:PORT (in
        run.sh's network namespace): the capacity of a pub/sub subscriber
        that reads nothing, then each experiment of experiments() with a
        Poisson producer and consumer or subscriber processes. Writes every measurement, and the experiment
        definitions, to real.json, and one CSV of per-message records per
        experiment to --records. The PID of every process it starts goes
        to --pidfile, one a line, so that run.sh can stop them by PID.

    harness.py sim --real real.json --out DIR [--queuesim BIN]
        Writes the queuesim scenarios of each experiment (with the service
        times measured above; nothing is tuned per experiment), runs
        `queuesim run`, and prints the table real | queuesim | theory.
        Needs no server, so a saved real.json can be re-compared at any time.

Times are CLOCK_MONOTONIC seconds (time.monotonic), which every process
of this machine shares; reported latencies are in milliseconds.

Real confidence intervals are batch means: the messages published in the
measured window (after the warm-up), in publication order, are cut into
BATCHES equal batches; a metric's interval is Student's t times the
standard error of its per-batch values, around the value over all of them.
Time averages (pending entries) use BATCHES equal slices of the window.
"""

import argparse
import bisect
import collections
import csv
import json
import math
import multiprocessing
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import textwrap
import threading
import time

BATCHES = 20  # batch means of the real measurements
EVENTS_PER_BATCH = 5  # quantiles of per-disconnect values: batches of about this many disconnects
# Student's t, 97.5% quantile, by degrees of freedom (BATCHES - 1 = 19).
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
        10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110,
        18: 2.101, 19: 2.093, 20: 2.086, 25: 2.060, 30: 2.042}
TAIL_S = 3.0  # traffic published after the measured window, so that its last messages see a loaded server
DRAIN_TIMEOUT_S = 60.0  # longest wait for the last messages to be processed
QUIET_S = 2.0  # pub/sub: the subscribers are done when they have processed nothing for this long
PREFIX = "qsbench."  # every key and channel the bench uses starts with this
STREAM, GROUP, CHANNEL = PREFIX + "stream", "workers", PREFIX + "channel"
RAW_CHUNK = 2048  # the slow subscriber's recv() size: the most it holds read but not parsed


# --------------------------------------------------------------- experiments
#
# One definition serves both sides: the real run drives Redis with it, the
# sim side writes the same model as a queuesim scenario.


def experiments():
    return [
        {"id": "1", "kind": "stream",
         "title": "stream, consumer group of 4, XREADGROUP COUNT 10 BLOCK 2000, XACK after each (rho 0.75)",
         "rate": 60.0, "consumers": 4, "count": 10, "block_ms": 2000, "service_ms": 50.0},
        # 200/s rather than 60/s so that a 60 s window holds several fill,
        # disconnect and reconnect cycles; the slow subscriber needs 1.25
        # interarrival times per message (rho 1.25).
        {"id": "2", "kind": "pubsub",
         "title": "pub/sub, 1 KiB messages, output buffer hard limit 64 KiB, one fast and one slow subscriber (rho 1.25)",
         "rate": 200.0, "payload_bytes": 1024, "limit_bytes": 65536, "slow_service_ms": 6.25,
         "reconnect_s": 1.0, "rcvbuf": 4096},
    ]


# ------------------------------------------------------------- small helpers


def quantile(values, p):
    """Linear-interpolation quantile of a non-empty list."""
    xs = sorted(values)
    pos = p * (len(xs) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def t975(df):
    return T975.get(df, T975[max(k for k in T975 if k <= df)])


def interval(point, per_batch, unit, n):
    """The estimate dict: point, batch-means 95% half-width, unit, count."""
    half = None
    if len(per_batch) >= 2:
        half = t975(len(per_batch) - 1) * statistics.stdev(per_batch) / math.sqrt(len(per_batch))
    return {"value": point, "ci95": half, "unit": unit, "n": n}


def batch_estimate(values, stat, unit, min_per_batch=1):
    """Point estimate and batch-means 95% half-width of stat over `values`.

    `values` holds one entry per measured message in publication order;
    None marks a message that does not enter this metric (not received,
    say). The batches are cut on messages, not on entries, so every metric
    of an experiment uses the same batches; a metric of rare events (one
    per disconnect) takes fewer batches, holding about min_per_batch
    events each, so that a quantile is not taken of one value."""
    kept = [v for v in values if v is not None]
    if not kept:
        return {"value": None, "ci95": None, "unit": unit, "n": 0}
    batches = max(1, min(BATCHES, len(kept) // min_per_batch))
    per_batch = []
    n = len(values)
    for b in range(batches):
        chunk = [v for v in values[b * n // batches:(b + 1) * n // batches] if v is not None]
        if chunk:
            per_batch.append(stat(chunk))
    return interval(stat(kept), per_batch, unit, len(kept))


def time_average(spans, start, end, unit="messages"):
    """Time-average number of open (begin, end) spans over [start, end),
    with a batch-means interval over BATCHES equal slices of it."""
    width = (end - start) / BATCHES
    per_slice = [0.0] * BATCHES
    for a, b in spans:
        a, b = max(a, start), min(b, end)
        while a < b:  # spread the span over the slices it covers
            k = min(int((a - start) / width), BATCHES - 1)
            cut = min(b, start + (k + 1) * width)
            per_slice[k] += cut - a
            a = cut
    per_slice = [x / width for x in per_slice]
    return interval(statistics.fmean(per_slice), per_slice, unit, len(spans))


def schedule(rate, cfg, seed):
    """Poisson publication times, seconds after t0, to the end of the tail."""
    rng = random.Random(seed)
    end = cfg["warmup_s"] + cfg["seconds"] + TAIL_S
    t, plan = 0.0, []
    while True:
        t += rng.expovariate(rate)
        if t >= end:
            return plan
        plan.append(t)


def publish_all(plan, send):
    """Publishes at the scheduled times (sleeping, never spinning); send(i,
    due) returns what the server answered. Returns t0 and one row per
    message: id, scheduled time, time the call returned, the answer."""
    t0 = time.monotonic() + 0.2
    produced = []
    for i, offset in enumerate(plan):
        due = t0 + offset
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        answer = send(i, due)
        produced.append((i, due, time.monotonic(), answer))
    return t0, produced


def connect(port):
    import redis
    return redis.Redis(host="127.0.0.1", port=port)


def write_rows(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))[1:]


class Workers:
    """Worker processes of one experiment, all stopped by one event."""

    def __init__(self, pidfile):
        self.ctx = multiprocessing.get_context("spawn")
        self.counter = self.ctx.Value("q", 0)  # messages processed, all workers together
        self.stop = self.ctx.Event()
        self.pidfile = pidfile
        self.procs = []  # (process, ready event, output file)

    def start(self, target, args, out_path):
        ready = self.ctx.Event()
        proc = self.ctx.Process(target=target, args=args + (out_path, self.counter, ready, self.stop))
        proc.start()
        if self.pidfile:
            with open(self.pidfile, "a") as f:
                f.write(f"{proc.pid}\n")
        self.procs.append((proc, ready, out_path))

    def wait_ready(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        for proc, ready, _ in self.procs:
            if not ready.wait(max(0.0, deadline - time.monotonic())):
                raise RuntimeError("a worker process did not start in time")

    def wait_count(self, expected, timeout):
        """Until `expected` messages are processed; returns the count."""
        deadline = time.monotonic() + timeout
        while self.counter.value < expected and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.counter.value

    def wait_quiet(self, quiet, timeout):
        """Until nothing was processed for `quiet` seconds; returns the count."""
        deadline = time.monotonic() + timeout
        last, since = self.counter.value, time.monotonic()
        while time.monotonic() - since < quiet and time.monotonic() < deadline:
            time.sleep(0.1)
            if self.counter.value != last:
                last, since = self.counter.value, time.monotonic()
        return last

    def finish(self):
        """Stops every process (by its own PID) and returns its records."""
        self.stop.set()
        for proc, *_ in self.procs:
            proc.join(15)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
        return [read_rows(path) if os.path.exists(path) else [] for _, _, path in self.procs]


def server_errors():
    """What a worker meets when the server goes away: it then ends with one
    line, not a traceback (redis is imported only where it is used)."""
    import redis
    return (OSError, redis.exceptions.ConnectionError)


def quietly(call, *args):
    """A clean-up call to the server that must not hide the error (or the
    SIGTERM) that is being handled."""
    try:
        call(*args)
    except server_errors():
        pass


def worker_signals():
    """In a worker: Ctrl-C is run.sh's to handle (it stops the harness,
    which stops the workers); SIGTERM ends the worker through its finally."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


# ------------------------------------------------- experiment 1: the stream


def stream_consumer_proc(port, spec, name, seed, out_path, counter, ready, stop):
    """One consumer of the group: XREADGROUP COUNT c BLOCK b ">", then for
    each entry in order an Exp(service_ms) service time and its XACK.
    Records id, scheduled, fetched, started, acked per entry."""
    worker_signals()
    rng = random.Random(seed)
    r = connect(port)
    rows = []
    ready.set()
    try:
        while not stop.is_set():
            reply = r.xreadgroup(GROUP, name, {STREAM: ">"}, count=spec["count"], block=spec["block_ms"])
            fetched = time.monotonic()
            for _, entries in reply or []:
                for entry_id, fields in entries:
                    started = time.monotonic()
                    time.sleep(rng.expovariate(1000.0 / spec["service_ms"]))
                    r.xack(STREAM, GROUP, entry_id)
                    rows.append((int(fields[b"id"]), float(fields[b"sched"]), fetched, started, time.monotonic(), name))
                    with counter.get_lock():
                        counter.value += 1
    except server_errors() as e:
        print(f"consumer {name}: {e}", file=sys.stderr)
    finally:
        write_rows(out_path, ["id", "sched", "fetched", "started", "acked", "consumer"], rows)
        r.close()


def run_stream(spec, port, cfg, records, seed, pidfile):
    """Runs experiment 1; returns t0, the publications and the entries' records."""
    r = connect(port)
    r.delete(STREAM)
    r.xgroup_create(STREAM, GROUP, id="$", mkstream=True)
    workers = Workers(pidfile)
    try:
        for c in range(spec["consumers"]):
            workers.start(stream_consumer_proc, (port, spec, f"c{c}", seed * 100 + c + 1),
                          os.path.join(records, f"exp{spec['id']}-c{c}.csv"))
        workers.wait_ready()
        time.sleep(0.5)  # every consumer blocked in its first XREADGROUP
        t0, produced = publish_all(schedule(spec["rate"], cfg, seed),
                                   lambda i, due: r.xadd(STREAM, {"id": i, "sched": repr(due)}))
        seen = workers.wait_count(len(produced), DRAIN_TIMEOUT_S)
    finally:
        collected = workers.finish()
        quietly(r.delete, STREAM)
        r.close()
    entries = {int(row[0]): tuple(float(x) for x in row[1:5]) for rows in collected for row in rows}
    return {"t0": t0, "produced": produced, "entries": entries, "seen": seen}


def analyze_stream(spec, raw, cfg, records):
    """Per-entry latencies and the time-average pending entries -> metrics."""
    t0 = raw["t0"]
    start, end = t0 + cfg["warmup_s"], t0 + cfg["warmup_s"] + cfg["seconds"]
    cohort = [p for p in raw["produced"] if start <= p[1] < end]
    entries = raw["entries"]
    latency, wait = [], []
    for i, sched, _, _ in cohort:
        e = entries.get(i)
        latency.append(1000.0 * (e[3] - sched) if e else None)
        wait.append(1000.0 * (e[2] - sched) if e else None)
    write_rows(os.path.join(records, f"exp{spec['id']}.csv"), ["id", "sched_s", "fetched_s", "started_s", "acked_s"],
               [(i, f"{s - t0:.6f}", *(f"{x - t0:.6f}" for x in entries[i][1:])) if i in entries else (i, f"{s - t0:.6f}")
                for i, s, _, _ in raw["produced"]])
    mean = statistics.fmean
    metrics = {
        "mean_latency": batch_estimate(latency, mean, "ms"),
        "p50_latency": batch_estimate(latency, lambda v: quantile(v, 0.50), "ms"),
        "p95_latency": batch_estimate(latency, lambda v: quantile(v, 0.95), "ms"),
        "p99_latency": batch_estimate(latency, lambda v: quantile(v, 0.99), "ms"),
        "mean_wait": batch_estimate(wait, mean, "ms"),
        # XPENDING's count: fetched by a consumer, not yet acknowledged.
        "mean_pending": time_average([(e[1], e[3]) for e in entries.values()], start, end),
        # Entries added but not yet delivered to any consumer.
        "mean_unread": time_average([(e[0], e[1]) for e in entries.values()], start, end),
    }
    service = [e[3] - e[2] for e in entries.values()]
    sizes = collections.Counter(e[1] for e in entries.values())  # entries sharing a fetch time: one reply
    notes = {"messages": len(cohort), "missing": sum(v is None for v in latency),
             "service_mean_ms": 1000.0 * statistics.fmean(service),
             "mean_fetch_size": statistics.fmean(sizes.values()),
             "drained": f"{raw['seen']} of {len(raw['produced'])} entries acknowledged"}
    return metrics, notes


# -------------------------------------------------- experiment 2: pub/sub


class Stopped(Exception):
    """The stop event was set while a worker waited on its socket."""


class RespReader:
    """A minimal RESP2 reader on a raw socket that never holds more than
    RAW_CHUNK bytes read but not parsed, so that what the slow subscriber
    has received and not processed is (almost) all in the kernel's socket
    buffers, where it is measured, and not in a client library's buffer."""

    def __init__(self, sock, stop):
        self.sock, self.stop, self.buf = sock, stop, bytearray()

    def _fill(self):
        while True:
            try:
                data = self.sock.recv(RAW_CHUNK)
            except socket.timeout:
                if self.stop.is_set():
                    raise Stopped from None
                continue
            if not data:
                raise ConnectionResetError("connection closed by the server")
            self.buf += data
            return

    def _line(self):
        while (end := self.buf.find(b"\r\n")) < 0:
            self._fill()
        line = bytes(self.buf[:end])
        del self.buf[:end + 2]
        return line

    def _bulk(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n + 2]
        return data

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"*":
            return [self.reply() for _ in range(int(rest))]
        if kind == b"$":
            return self._bulk(int(rest))
        if kind == b":":
            return int(rest)
        if kind == b"-":
            raise RuntimeError(rest.decode())
        return rest


def subscribe_raw(port, rcvbuf, stop):
    """A raw socket subscribed to CHANNEL; SO_RCVBUF (0: the kernel's
    autotuned default) is set before connecting, so the TCP window is
    negotiated with it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(0.5)
    sock.connect(("127.0.0.1", port))
    sock.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(CHANNEL), CHANNEL.encode()))
    reader = RespReader(sock, stop)
    confirmation = reader.reply()
    if confirmation[0] != b"subscribe":
        raise RuntimeError(f"unexpected reply to SUBSCRIBE: {confirmation!r}")
    return sock, reader


def message_id(payload):
    return int(payload.split(b" ", 1)[0])


def slow_subscriber_proc(port, spec, seed, out_path, counter, ready, stop):
    """The slow subscriber, on a raw socket with a small SO_RCVBUF: each
    message takes an Exp(slow_service_ms) processing time. When Redis
    closes the connection it notices once it has read everything still in
    flight, waits reconnect_s, reconnects and subscribes again. Records
    ("message", id, received, done), ("subscribed", t) and ("closed", t)."""
    worker_signals()
    rng = random.Random(seed)
    rows = []
    try:
        while not stop.is_set():
            sock, reader = subscribe_raw(port, spec["rcvbuf"], stop)
            rows.append(("subscribed", "", time.monotonic(), ""))
            ready.set()
            try:
                while True:
                    _, _, payload = reader.reply()
                    received = time.monotonic()
                    time.sleep(rng.expovariate(1000.0 / spec["slow_service_ms"]))
                    rows.append(("message", message_id(payload), received, time.monotonic()))
                    with counter.get_lock():
                        counter.value += 1
            except ConnectionError:
                rows.append(("closed", "", time.monotonic(), ""))
            finally:
                sock.close()
            stop.wait(spec["reconnect_s"])
    except Stopped:
        pass
    except OSError as e:  # could not reconnect
        print(f"slow subscriber: {e}", file=sys.stderr)
    finally:
        write_rows(out_path, ["kind", "id", "t", "done"], rows)


def fast_subscriber_proc(port, out_path, counter, ready, stop):
    """The fast subscriber, an ordinary redis-py PubSub: records id and
    receipt time of every message, processes nothing."""
    worker_signals()
    pubsub = connect(port).pubsub(ignore_subscribe_messages=True)
    rows = []
    try:
        pubsub.subscribe(CHANNEL)
        ready.set()
        while not stop.is_set():
            m = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
            if m and m["type"] == "message":
                rows.append(("message", message_id(m["data"]), time.monotonic(), ""))
                with counter.get_lock():
                    counter.value += 1
    except server_errors() as e:
        print(f"fast subscriber: {e}", file=sys.stderr)
    finally:
        write_rows(out_path, ["kind", "id", "t", "done"], rows)
        pubsub.close()


def payload(spec, i, due):
    """A message of exactly payload_bytes: its id and scheduled time, padded."""
    return f"{i} {due!r} ".encode().ljust(spec["payload_bytes"], b".")


def set_limit(r, spec):
    r.config_set("client-output-buffer-limit", f"pubsub {spec['limit_bytes']} 0 0")


def calibrate_capacity(port, spec, rcvbuf, gap_s=0.002, most=20000):
    """A subscriber that reads nothing: messages are published gap_s apart
    until Redis disconnects it (PUBLISH counts 0 receivers), then it reads
    what still reaches it. accepted = published while it was subscribed;
    delivered = what the socket buffers held and still delivered; lost =
    what Redis's output buffer held when it closed the connection."""
    r = connect(port)
    set_limit(r, spec)
    done = threading.Event()  # set once publishing is over: a read that then waits 5 s ends the count
    sock, reader = subscribe_raw(port, rcvbuf, done)
    try:
        actual_rcvbuf = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        accepted = 0
        while accepted < most and r.publish(CHANNEL, payload(spec, accepted, 0.0)) == 1:
            accepted += 1
            time.sleep(gap_s)
        done.set()
        sock.settimeout(5.0)
        delivered = 0
        try:
            while True:
                reader.reply()
                delivered += 1
        except (ConnectionError, Stopped):
            pass
    finally:
        sock.close()
        r.close()
    return {"rcvbuf_requested": rcvbuf, "rcvbuf_kernel": actual_rcvbuf, "accepted": accepted,
            "delivered": delivered, "lost": accepted - delivered}


def wait_subscribers(r, n, timeout=10.0):
    """Until n clients are subscribed to CHANNEL."""
    deadline = time.monotonic() + timeout
    while dict(r.pubsub_numsub(CHANNEL)).get(CHANNEL.encode(), 0) < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"fewer than {n} subscribers after {timeout:g} s")
        time.sleep(0.05)


def run_pubsub(spec, port, cfg, records, seed, pidfile):
    """Runs experiment 2; returns t0, the publications (with PUBLISH's
    receiver counts) and both subscribers' records."""
    r = connect(port)
    set_limit(r, spec)
    workers = Workers(pidfile)
    try:
        workers.start(fast_subscriber_proc, (port,), os.path.join(records, f"exp{spec['id']}-fast.csv"))
        workers.start(slow_subscriber_proc, (port, spec, seed * 100 + 1), os.path.join(records, f"exp{spec['id']}-slow.csv"))
        workers.wait_ready()
        wait_subscribers(r, 2)
        t0, produced = publish_all(schedule(spec["rate"], cfg, seed),
                                   lambda i, due: r.publish(CHANNEL, payload(spec, i, due)))
        seen = workers.wait_quiet(QUIET_S, DRAIN_TIMEOUT_S)
    finally:
        fast, slow = workers.finish()
        r.close()
    return {"t0": t0, "produced": produced, "fast": fast, "slow": slow, "seen": seen}


def disconnects(produced, slow_rows):
    """Each time Redis dropped the slow subscriber, from PUBLISH's receiver
    counts (2 while it is subscribed, 1 once Redis has freed it): the last
    publication that still counted it (m: the one that overflowed its
    output buffer; Redis frees the client before its next command) and
    what stood between m and the subscriber at that instant: every message
    up to m it had not started, in Redis's output buffer (lost) or in the
    socket buffers (still delivered)."""
    received = sorted((float(r[2]), float(r[3]), int(r[1])) for r in slow_rows if r[0] == "message")
    starts = [x[0] for x in received]
    by_id = sorted(x[2] for x in received)
    closed = sorted(float(r[2]) for r in slow_rows if r[0] == "closed")
    subscribed = sorted(float(r[2]) for r in slow_rows if r[0] == "subscribed")
    found = []
    for (m, _, t_d, n), nxt in zip(produced, produced[1:]):
        if not (n == 2 and nxt[3] < 2):
            continue
        k = bisect.bisect_right(starts, t_d) - 1
        in_service = received[k][2] if k >= 0 else -1  # the message it was processing (or had last started)
        j = bisect.bisect_right(by_id, m) - 1
        last = by_id[j] if j >= 0 else -1  # the last message of this connection it received
        c = bisect.bisect_right(closed, t_d)
        s = bisect.bisect_right(subscribed, t_d)
        found.append({"id": m, "t": t_d, "waiting": m - in_service, "lost_in_redis": m - last,
                      "held_by_kernel": last - in_service,
                      "noticed_s": closed[c] - t_d if c < len(closed) else None,
                      "outage_s": subscribed[s] - t_d if s < len(subscribed) else None})
    return found


def gaps(ids, received):
    """Runs of consecutive ids (in publication order) the subscriber never
    received: (position of the first lost one, length, index of the first
    received after it, or None at the end)."""
    runs, k = [], 0
    while k < len(ids):
        if ids[k] in received:
            k += 1
            continue
        first = k
        while k < len(ids) and ids[k] not in received:
            k += 1
        runs.append((first, k - first, k if k < len(ids) else None))
    return runs


def analyze_pubsub(spec, raw, cfg, records):
    """Loss, disconnects, gaps and the effective capacity -> metrics."""
    t0, produced = raw["t0"], raw["produced"]
    start, end = t0 + cfg["warmup_s"], t0 + cfg["warmup_s"] + cfg["seconds"]
    first = next(k for k, p in enumerate(produced) if p[1] >= start)
    cohort = [p for p in produced if start <= p[1] < end]
    slow = {int(r[1]): (float(r[2]), float(r[3])) for r in raw["slow"] if r[0] == "message"}
    fast = {int(r[1]) for r in raw["fast"] if r[0] == "message"}
    found = {d["id"]: d for d in disconnects(produced, raw["slow"])}
    write_rows(os.path.join(records, f"exp{spec['id']}.csv"),
               ["id", "sched_s", "published_s", "receivers", "fast", "slow_received_s", "slow_done_s", "disconnect"],
               [(i, f"{s - t0:.6f}", f"{p - t0:.6f}", n, int(i in fast),
                 *((f"{slow[i][0] - t0:.6f}", f"{slow[i][1] - t0:.6f}") if i in slow else ("", "")), int(i in found))
                for i, s, p, n in produced])

    ids = [p[0] for p in produced]
    # Gaps of the slow subscriber, each placed at its first lost message;
    # one running past the end of the traffic has no known span.
    gap_len, gap_span = [None] * len(cohort), [None] * len(cohort)
    for pos, length, after in gaps(ids, slow):
        k = pos - first
        if 0 <= k < len(cohort):
            gap_len[k] = float(length)
            if after is not None:
                gap_span[k] = produced[after][1] - produced[pos][1]

    def at_disconnects(key):
        return [found[i][key] if i in found else None for i, *_ in cohort]

    per_min = 60.0 * len(cohort) / cfg["seconds"]  # messages per minute
    mean = statistics.fmean

    def p50(v):
        return quantile(v, 0.5)

    def p95(v):
        return quantile(v, 0.95)

    sojourn = [1000.0 * (slow[i][1] - s) if i in slow else None for i, s, _, _ in cohort]
    metrics = {
        "slow_loss_share": batch_estimate([0.0 if i in slow else 1.0 for i, *_ in cohort], mean, "share"),
        "fast_loss_share": batch_estimate([0.0 if i in fast else 1.0 for i, *_ in cohort], mean, "share"),
        "disconnects_per_min": batch_estimate([1.0 if i in found else 0.0 for i, *_ in cohort],
                                              lambda v: mean(v) * per_min, "per min"),
        "gap_messages_mean": batch_estimate(gap_len, mean, "messages"),
        "gap_messages_p50": batch_estimate(gap_len, p50, "messages", EVENTS_PER_BATCH),
        "gap_messages_p95": batch_estimate(gap_len, p95, "messages", EVENTS_PER_BATCH),
        "gap_seconds_mean": batch_estimate(gap_span, mean, "s"),
        "gap_seconds_p50": batch_estimate(gap_span, p50, "s", EVENTS_PER_BATCH),
        "gap_seconds_p95": batch_estimate(gap_span, p95, "s", EVENTS_PER_BATCH),
        "capacity_messages": batch_estimate(at_disconnects("waiting"), mean, "messages"),
        "lost_in_redis_messages": batch_estimate(at_disconnects("lost_in_redis"), mean, "messages"),
        "held_by_kernel_messages": batch_estimate(at_disconnects("held_by_kernel"), mean, "messages"),
        "outage_s": batch_estimate(at_disconnects("outage_s"), mean, "s"),
        "slow_mean_sojourn": batch_estimate(sojourn, mean, "ms"),
        "slow_p99_sojourn": batch_estimate(sojourn, lambda v: quantile(v, 0.99), "ms"),
    }
    service = [done - got for got, done in slow.values()]
    in_window = [d for d in found.values() if start <= d["t"] < end]
    waiting = [d["waiting"] for d in in_window]
    noticed = [d["noticed_s"] for d in in_window if d["noticed_s"] is not None]
    notes = {"messages": len(cohort), "disconnects": len(in_window),
             "service_mean_ms": 1000.0 * mean(service) if service else None,
             "capacity_range": [min(waiting), max(waiting)] if waiting else None,
             # disconnect -> the subscriber reads the end of the connection
             "noticed_mean_s": mean(noticed) if noticed else None,
             "receivers": {str(n): sum(1 for p in cohort if p[3] == n) for n in sorted({p[3] for p in cohort})},
             "drained": f"slow received {len(slow)}, fast {len(fast)} of {len(produced)} published"}
    return metrics, notes


# ---------------------------------------------------------------- real side


def cmd_real(args):
    os.makedirs(args.records, exist_ok=True)
    cfg = {"seconds": args.seconds, "warmup_s": args.warmup, "batches": BATCHES, "tail_s": TAIL_S}
    out = {"meta": {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "server": args.server_version,
                    "network": args.network, "cpus": os.cpu_count(), "loadavg_at_start": os.getloadavg()},
           "config": cfg, "experiments": []}
    started = time.monotonic()
    chosen = [s for s in experiments() if not args.only or s["id"] in args.only.split(",")]
    out["calibration"] = {}
    for spec in (s for s in chosen if s["kind"] == "pubsub"):
        print("pub/sub capacity of a subscriber that reads nothing (messages of "
              f"{spec['payload_bytes']} B, hard limit {spec['limit_bytes']} B):", flush=True)
        for label, rcvbuf in (("small_rcvbuf", spec["rcvbuf"]), ("default_rcvbuf", 0)):
            c = out["calibration"][label] = calibrate_capacity(args.port, spec, rcvbuf)
            print(f"  SO_RCVBUF {rcvbuf or 'default'} (kernel {c['rcvbuf_kernel']} B): accepted {c['accepted']}, "
                  f"delivered after the disconnect {c['delivered']}, lost in Redis's buffer {c['lost']}", flush=True)
    for spec in chosen:
        t = time.monotonic()
        print(f"experiment {spec['id']}: {spec['title']} ...", flush=True)
        entry = {"spec": spec}
        try:
            run, analyze = (run_stream, analyze_stream) if spec["kind"] == "stream" else (run_pubsub, analyze_pubsub)
            raw = run(spec, args.port, cfg, args.records, 1000 + int(spec["id"]), args.pidfile)
            entry["metrics"], entry["notes"] = analyze(spec, raw, cfg, args.records)
            shown = ", ".join(f"{k} {fmt(m['value'], m['ci95'], m['unit'])}" for k, m in list(entry["metrics"].items())[:4])
            print(f"  {entry['notes']['messages']} messages; {shown}; {entry['notes']['drained']}; "
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


def mmc_latency(lam, c, s, p=None):
    """M/M/c sojourn (wait + Exp service of mean s), ms: the mean, or quantile p."""
    a = lam * s
    pw = erlang_c(c, a)
    r = c / s - lam  # rate of the conditional waiting time
    mu = 1 / s
    if p is None:
        return pw / r + s

    def tail(t):  # P(W + S > t); r = mu makes W + S Erlang-2
        both = math.exp(-mu * t) * (1 + mu * t) if abs(r - mu) < 1e-12 else (r * math.exp(-mu * t) - mu * math.exp(-r * t)) / (r - mu)
        return (1 - pw) * math.exp(-mu * t) + pw * both

    lo, hi = 0.0, 1.0
    while tail(hi) > 1 - p:
        hi *= 2
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if tail(mid) > 1 - p else (lo, mid)
    return (lo + hi) / 2


def theory(spec, metric):
    """(value, model) where a queueing result applies; values in ms, messages or shares."""
    if spec["kind"] == "stream":
        lam, c, s = spec["rate"] / 1000.0, spec["consumers"], spec["service_ms"]  # per ms, ms
        label = f"M/M/{c} (COUNT 1)"
        a = lam * s
        quant = {"mean_latency": None, "p50_latency": 0.5, "p95_latency": 0.95, "p99_latency": 0.99}
        if metric in quant:
            return mmc_latency(lam, c, s, quant[metric]), label
        if metric == "mean_wait":
            return erlang_c(c, a) / (c / s - lam), label
        if metric == "mean_pending":  # COUNT 1: pending = in service
            return a, label
        if metric == "mean_unread":
            return erlang_c(c, a) * a / (c - a), label
    if spec["kind"] == "pubsub" and metric == "fast_loss_share":
        return 0.0, "never fills"
    return None, None


# ------------------------------------------------------------ queuesim side


def simulation_lines(name, title, sim):
    return [f'name = "{name}"', f'description = "{title}"', "",
            "[simulation]", f'duration = "{sim["duration"]:g}s"', f'warmup = "{sim["warmup"]:g}s"',
            f'replications = {sim["replications"]}', f'seed = {sim["seed"]}', ""]


def stream_toml(spec, notes, sim):
    """Experiment 1: a queue read by a group of pulling consumers."""
    lines = [f'# Generated by bench/redis/harness.py: experiment {spec["id"]}, {spec["title"]}.',
             f'# Service: the mean measured from start to XACK, {notes["service_mean_ms"]:.3f} ms '
             f'(Exp({spec["service_ms"]:g} ms) sleeps and the XACK round trip).']
    lines += simulation_lines(f"redis_bench_{spec['id']}", spec["title"], sim)
    lines += ["[[producers]]", 'name = "app"', 'to = "stream"', f'rate = "{spec["rate"]:g}/s"', "",
              "[[queues]]", 'name = "stream"', "[queues.consumers]", f'count = {spec["consumers"]}',
              f'poll = {{ max_records = {spec["count"]}, max_wait = "{spec["block_ms"]}ms" }}'
              f'    # XREADGROUP COUNT {spec["count"]} BLOCK {spec["block_ms"]}',
              f'service = {{ dist = "exponential", mean = "{notes["service_mean_ms"]:.4f}ms" }}', ""]
    return "\n".join(lines)


def pubsub_toml(spec, notes, sim, stem, why, capacity_bytes, prefetch=None):
    """Experiment 2: a fanout to two subscribers' output buffers, each a
    queue that disconnects its consumer when it holds more than
    capacity_bytes. `prefetch` (the slow subscriber only) = (window, why):
    messages pushed out of the queue to the consumer, which it still
    processes after a disconnect (the socket buffers)."""
    lines = [f'# Generated by bench/redis/harness.py: experiment {spec["id"]}, {spec["title"]}.',
             f'# Slow service: the mean measured from receipt to done, {notes["service_mean_ms"]:.4f} ms '
             f'(Exp({spec["slow_service_ms"]:g} ms) sleeps and their overshoot).']
    lines += simulation_lines(f"redis_bench_{stem}", spec["title"], sim)
    lines += ["[[producers]]", 'name = "publisher"', 'to = "channel"', f'rate = "{spec["rate"]:g}/s"',
              f'size = {{ dist = "constant", value = "{spec["payload_bytes"]}B" }}', "",
              "[[exchanges]]", 'name = "channel"', 'kind = "fanout"', 'routes = [{ to = "fast" }, { to = "slow" }]', ""]
    services = {"fast": '{ dist = "constant", value = "50us" }',  # reads and drops: never falls behind
                "slow": f'{{ dist = "exponential", mean = "{notes["service_mean_ms"]:.4f}ms" }}'}
    for name, service in services.items():
        lines += ["[[queues]]", f'name = "{name}"', 'overflow = "disconnect"',
                  f'capacity_bytes = "{capacity_bytes}B"    # {why}',
                  f'reconnect = "{spec["reconnect_s"]:g}s"', "[queues.consumers]", "count = 1"]
        if name == "slow" and prefetch is not None:
            lines.append(f"prefetch = {prefetch[0]}    # {prefetch[1]}")
        lines += [f"service = {service}", ""]
    return "\n".join(lines)


def scenarios(entry, sim):
    """(variant label, file stem, TOML text) of every queuesim run of one experiment."""
    spec, notes, metrics = entry["spec"], entry["notes"], entry["metrics"]
    stem = f"exp{spec['id']}"
    if spec["kind"] == "stream":
        return [("", stem, stream_toml(spec, notes, sim))]
    limit = spec["limit_bytes"]
    limit_why = "client-output-buffer-limit pubsub hard limit"
    out = [(f"queuesim A: capacity_bytes {limit} = the configured limit alone", stem + "-configured",
            pubsub_toml(spec, notes, sim, stem + "-configured", limit_why, limit))]
    c = metrics["capacity_messages"]["value"]
    if c is not None:
        # The disconnect comes when the waiting bytes pass the capacity:
        # half a message under the mean count makes that mean count trip it.
        capacity = round((c - 0.5) * spec["payload_bytes"])
        why = f"effective capacity: {c:.1f} messages waiting at the real disconnects"
        out.append((f"queuesim B: capacity_bytes {capacity} = the measured effective capacity ({c:.1f} msgs) alone",
                    stem + "-effective", pubsub_toml(spec, notes, sim, stem + "-effective", why, capacity)))
    held = metrics.get("held_by_kernel_messages", {}).get("value")
    if held is not None:
        # The socket buffers as a prefetch window: what Redis has already
        # written to the kernel has left its output buffer (the limit no
        # longer counts it) and is still delivered after the disconnect.
        window = math.floor(held + 0.5)
        why = f"socket buffers: {held:.1f} messages held by the kernel at the real disconnects (mean)"
        out.append((f"queuesim C: capacity_bytes {limit} = the configured limit + prefetch {window} = the "
                    f"measured socket buffers", stem + "-prefetch",
                    pubsub_toml(spec, notes, sim, stem + "-prefetch", limit_why, limit, (window, why))))
    return out


def read_csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def number(row, key):
    v = (row or {}).get(key, "")
    return float(v) if v not in ("", None) else None


def estimate(row, key, scale=1.0):
    v = number(row, key)
    return None if v is None else (scale * v, scale * (number(row, key + "_ci95") or 0.0))


def loss_columns(row):
    """nodes.csv columns that count messages lost at a queue: `dropped`,
    and any column about lost messages a newer queuesim adds."""
    return ["dropped"] + [k for k in row if "lost" in k and not k.endswith("_ci95")]


def disconnect_column(row):
    """The nodes.csv column that counts disconnects, once queuesim reports one."""
    return next((k for k in row if "disconnect" in k and "lost" not in k and not k.endswith("_ci95")), None)


def sim_value(spec, metric, summary, nodes, sim):
    """(value, ci95) of a real metric in queuesim's output, or None when
    queuesim reports nothing comparable. Shares are ratios of means; their
    interval is the numerator's (the denominator varies far less)."""
    if spec["kind"] == "stream":
        node = nodes.get("stream")
        if metric in ("mean_latency", "p50_latency", "p95_latency", "p99_latency"):
            return estimate(summary, metric, 1000.0)
        return {"mean_wait": estimate(node, "mean_wait", 1000.0), "mean_pending": estimate(node, "mean_unacked"),
                "mean_unread": estimate(node, "mean_in_queue")}.get(metric)
    if metric in ("slow_loss_share", "fast_loss_share"):
        node = nodes.get(metric.split("_")[0])
        arrivals = number(node, "arrivals")
        parts = [estimate(node, k) for k in loss_columns(node or {})]
        if not arrivals or any(p is None for p in parts):
            return None
        return sum(p[0] for p in parts) / arrivals, sum(p[1] for p in parts) / arrivals
    if metric == "disconnects_per_min":
        column = disconnect_column(nodes.get("slow") or {})
        e = column and estimate(nodes["slow"], column, 60.0 / sim["duration"])
        return e or None
    if metric == "gap_messages_mean":
        # Each disconnect loses one run of consecutive messages (what was
        # waiting, then every arrival until the subscriber is back), so the
        # mean gap is dropped / disconnects. Its interval treats the two
        # means as independent: they are positively correlated, so it is
        # wider than the delta method's.
        node = nodes.get("slow") or {}
        column = disconnect_column(node)
        lost, cuts = estimate(node, "dropped"), column and estimate(node, column)
        if not lost or not cuts or not lost[0] or not cuts[0]:
            return None
        gap = lost[0] / cuts[0]
        return gap, gap * math.hypot(lost[1] / lost[0], cuts[1] / cuts[0])
    if metric in ("slow_mean_sojourn", "slow_p99_sojourn"):
        return estimate(nodes.get("slow"), metric[5:], 1000.0)
    return None


def run_queuesim(binary, toml_path, out_dir):
    """Runs one scenario; returns (summary row, nodes by name) or an error text."""
    try:
        p = subprocess.run([binary, "run", toml_path, "--out", out_dir, "--quiet"],
                           capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"{type(e).__name__}: {e}"
    if p.returncode != 0:
        return p.stderr.strip() or p.stdout.strip() or f"exit status {p.returncode}"
    try:
        summary = read_csv_rows(os.path.join(out_dir, "summary.csv"))[0]
        nodes = {r["node"]: r for r in read_csv_rows(os.path.join(out_dir, "nodes.csv"))}
    except (OSError, IndexError, KeyError) as e:
        return f"unreadable output in {out_dir}: {type(e).__name__}: {e}"
    return summary, nodes


def fmt(value, ci, unit):
    if value is None:
        return "-"
    digits = 4 if unit == "share" else (2 if abs(value) < 100 else 1)
    text = f"{value:.{digits}f}"
    return text + (f" ± {ci:.{digits}f}" if ci is not None else " (no CI)")


LABELS = {"mean_latency": "mean latency publish->ack ms", "p50_latency": "p50 latency ms",
          "p95_latency": "p95 latency ms", "p99_latency": "p99 latency ms",
          "mean_wait": "mean wait publish->start ms", "mean_pending": "mean pending entries (XPENDING)",
          "mean_unread": "mean entries not yet read",
          "slow_loss_share": "slow: loss share", "fast_loss_share": "fast: loss share",
          "disconnects_per_min": "slow: disconnects per minute",
          "gap_messages_mean": "slow: gap length, mean msgs", "gap_messages_p50": "slow: gap length, p50 msgs",
          "gap_messages_p95": "slow: gap length, p95 msgs", "gap_seconds_mean": "slow: gap span, mean s",
          "gap_seconds_p50": "slow: gap span, p50 s", "gap_seconds_p95": "slow: gap span, p95 s",
          "capacity_messages": "slow: waiting at a disconnect (effective capacity) msgs",
          "lost_in_redis_messages": "  of which in Redis's output buffer (lost) msgs",
          "held_by_kernel_messages": "  of which in socket buffers (delivered) msgs",
          "outage_s": "slow: disconnect -> subscribed again s",
          "slow_mean_sojourn": "slow: mean publish->processed ms", "slow_p99_sojourn": "slow: p99 publish->processed ms"}


def table_rows(spec, variant, metrics, outcome, sim):
    """The table's rows of one queuesim run (without the experiment
    column), and the results for comparison.json."""
    rows, results = [], []
    for metric, r in metrics.items():
        if r["value"] is None:  # nothing measured (no disconnect, say)
            continue
        s = None if isinstance(outcome, str) else sim_value(spec, metric, *outcome, sim)
        th, model = theory(spec, metric)
        verdict = []
        if r["ci95"] is not None:
            if s is not None:
                ok = abs(r["value"] - s[0]) <= math.hypot(r["ci95"], s[1])
                verdict.append("sim " + ("yes" if ok else "NO"))
            if th is not None:
                verdict.append("theory " + ("yes" if abs(r["value"] - th) <= r["ci95"] else "NO"))
        sim_text = "error (see below)" if isinstance(outcome, str) else (fmt(*s, r["unit"]) if s is not None else "n/a")
        th_text = "-" if th is None else (f"{th:.4f}" if r["unit"] == "share" else f"{th:.2f}") + f" [{model}]"
        rows.append([LABELS.get(metric, metric), fmt(r["value"], r["ci95"], r["unit"]), sim_text, th_text,
                     ", ".join(verdict) or "-"])
        results.append({"experiment": spec["id"], "variant": variant, "metric": metric, "real": r,
                        "queuesim": None if s is None else {"value": s[0], "ci95": s[1]},
                        "theory": th, "theory_model": model})
    return rows, results


def header_lines(real, sim):
    lines = [f"server: {real['meta']['server']}; network: {real['meta']['network']}",
             f"real: {real['config']['seconds']:g} s measured per experiment after {real['config']['warmup_s']:g} s "
             f"warm-up, Poisson publisher, {BATCHES} batch means; "
             f"queuesim: {sim['replications']} replications of {sim['duration']:g} s after {sim['warmup']:g} s"]
    for c in real.get("calibration", {}).values():
        lines.append(f"pub/sub subscriber reading nothing, SO_RCVBUF {c['rcvbuf_requested'] or 'default'} "
                     f"(kernel {c['rcvbuf_kernel']} B): {c['accepted']} messages accepted before the disconnect, "
                     f"{c['delivered']} of them still delivered from the socket buffers, {c['lost']} lost in "
                     f"Redis's output buffer")
    return lines + [""]


def footer_lines(real, columns):
    lines = ["", "inside CI?: sim yes = |real - queuesim| <= the half-width of their difference "
             "(sqrt(ci_real^2 + ci_sim^2)); theory yes = theory inside the real interval.",
             "'n/a' = queuesim reports no comparable number (gap quantiles and spans, effective capacity, outages).",
             "Experiment 1: latency = scheduled XADD -> XACK; M/M/4 (COUNT 1) is the same group taking one entry per "
             "read, for reference: what COUNT 10 costs.",
             "Experiment 2: waiting at a disconnect = messages published up to the last PUBLISH that still counted the "
             "slow subscriber, not yet started by it; a gap = consecutive messages it never received, its span = from "
             "the first of them to the next message it received.",
             f"queuesim loss share = ({' + '.join(columns['loss'])}) / arrivals of the subscriber's queue; "
             f"disconnects per minute from nodes.csv column {columns['disconnect'] or '(none yet)'}; "
             f"queuesim mean gap length = dropped / {columns['disconnect'] or 'disconnects'} of the slow queue "
             "(its CI from both half-widths as if independent).",
             "Experiment 2 variants: A = capacity_bytes the configured limit alone; B = capacity_bytes the measured "
             "effective capacity alone; C = the configured limit plus prefetch = the mean socket-held messages at "
             "the real disconnects (pushed to the consumer, out of the limit's count, still processed after a "
             "disconnect; the reconnect delay starts once they are done)."]
    lines += ["", "per experiment: measured messages and notes:"]
    for entry in real["experiments"]:
        if "notes" in entry:
            lines.append(f"  {entry['spec']['id']}: " + json.dumps(entry["notes"]))
    return lines


def print_table(blocks, lines_before, lines_after, path):
    """Prints and saves the table: one block of rows per queuesim run, its
    title wrapped down the experiment column."""
    header = ["experiment", "metric", "real (95% CI)", "queuesim (95% CI)", "theory", "inside CI?"]
    table = []
    for title, rows in blocks:
        wrapped = textwrap.wrap(title, 44)
        rows = rows + [[""] * 5] * (len(wrapped) - len(rows))
        table.append([[wrapped[k] if k < len(wrapped) else ""] + row for k, row in enumerate(rows)])
    widths = [max(len(str(row[i])) for row in sum(table, [header])) for i in range(len(header))]
    sep = "-+-".join("-" * w for w in widths)
    lines = lines_before + [" | ".join(h.ljust(w) for h, w in zip(header, widths))]
    for block in table:
        lines.append(sep)
        lines += [" | ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in block]
    text = "\n".join(lines + lines_after)
    print(text)
    with open(path, "w") as f:
        f.write(text + "\n")


def cmd_sim(args):
    with open(args.real) as f:
        real = json.load(f)
    os.makedirs(args.out, exist_ok=True)
    sim = {"duration": args.duration, "warmup": args.sim_warmup, "replications": args.replications, "seed": 1}
    blocks, errors, results = [], [], []
    columns = {"loss": ["dropped"], "disconnect": None}
    for entry in real["experiments"]:
        spec = entry["spec"]
        if "error" in entry:
            blocks.append((f'{spec["id"]} {spec["title"]}', [["(real run failed)", entry["error"], "", "", ""]]))
            continue
        for variant, stem, text in scenarios(entry, sim):
            toml_path = os.path.join(args.out, stem + ".toml")
            with open(toml_path, "w") as f:
                f.write(text)
            outcome = run_queuesim(args.queuesim, toml_path, os.path.join(args.out, stem))
            if isinstance(outcome, str):
                errors.append((stem, toml_path, outcome))
            elif spec["kind"] == "pubsub" and "slow" in outcome[1]:
                columns = {"loss": loss_columns(outcome[1]["slow"]), "disconnect": disconnect_column(outcome[1]["slow"])}
            rows, found = table_rows(spec, variant, entry["metrics"], outcome, sim)
            blocks.append((f'{spec["id"]} {spec["title"]}' + (f" [{variant}]" if variant else ""), rows))
            results += found
    after = footer_lines(real, columns)
    for stem, path, err in errors:
        after += ["", f"queuesim failed on {stem} ({path}):", "  " + err.replace("\n", "\n  ")]
    print_table(blocks, header_lines(real, sim), after, os.path.join(args.out, "table.txt"))
    with open(os.path.join(args.out, "comparison.json"), "w") as f:
        json.dump(results, f, indent=1)
    return 1 if errors else 0


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks that stop the workers
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("real", help="measure the running server")
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--out", required=True, help="real.json to write")
    r.add_argument("--records", default="records", help="folder for per-message CSV records")
    r.add_argument("--seconds", type=float, default=60.0, help="measured seconds of traffic per experiment")
    r.add_argument("--warmup", type=float, default=5.0, help="seconds of traffic dropped first")
    r.add_argument("--only", help="comma-separated experiment ids")
    r.add_argument("--pidfile", help="file to append the PID of every process started to")
    r.add_argument("--server-version", default="")
    r.add_argument("--network", default="", help="a description of the network the test ran on")
    s = sub.add_parser("sim", help="run the queuesim side of a saved real.json")
    s.add_argument("--real", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--queuesim", default=os.environ.get("QUEUESIM", "/work/main/target/release/queuesim"))
    s.add_argument("--duration", type=float, default=600.0)
    s.add_argument("--sim-warmup", type=float, default=20.0)
    s.add_argument("--replications", type=int, default=10)
    args = parser.parse_args()
    sys.exit(cmd_real(args) if args.command == "real" else cmd_sim(args))


if __name__ == "__main__":
    main()
