"""The Celery app of the RabbitMQ bench (experiment 9), run by harness.py
as `celery -A celery_tasks worker ...` from this folder.

One task, `bench.work(msg_id, scheduled)`, sleeps an exponential service
time and then appends `msg_id,scheduled,start,done` (CLOCK_MONOTONIC
seconds, comparable across the processes of this machine) to a file of its
own pool process, `$BENCH_OUT_DIR/done-<pid>.csv`. The harness counts those
lines to know when the queue has drained and reads them for the latencies.

Settings come from the environment, so the same module serves both runs:
  BENCH_BROKER_URL    amqp://guest:guest@127.0.0.1:PORT//
  BENCH_OUT_DIR       folder for the per-process files
  BENCH_SERVICE_MS    mean service time in ms (default 50)
  BENCH_ACKS_LATE     "1" for task_acks_late=True, else Celery's early ack
  BENCH_PREFETCH_MULTIPLIER   worker_prefetch_multiplier (default 4)
"""

import os
import random
import time

from celery import Celery

app = Celery("celery_tasks", broker=os.environ.get("BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//"))
app.conf.update(
    task_acks_late=os.environ.get("BENCH_ACKS_LATE") == "1",
    worker_prefetch_multiplier=int(os.environ.get("BENCH_PREFETCH_MULTIPLIER", "4")),
    task_ignore_result=True,
    result_backend=None,
    broker_heartbeat=0,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    task_serializer="json",
    accept_content=["json"],
)

SERVICE_S = float(os.environ.get("BENCH_SERVICE_MS", "50")) / 1000.0

# Opened lazily in each pool process (after the fork), one file per process.
_out = None
_rng = None


def _record(line):
    global _out
    if _out is None:
        _out = open(os.path.join(os.environ["BENCH_OUT_DIR"], f"done-{os.getpid()}.csv"), "a", buffering=1)
    _out.write(line)


@app.task(name="bench.work")
def work(msg_id, scheduled):
    global _rng
    if _rng is None:
        _rng = random.Random(os.getpid() ^ time.time_ns())
    start = time.monotonic()
    time.sleep(_rng.expovariate(1.0 / SERVICE_S))
    _record(f"{msg_id},{scheduled!r},{start!r},{time.monotonic()!r}\n")
