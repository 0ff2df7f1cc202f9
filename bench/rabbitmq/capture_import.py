#!/usr/bin/env python3
"""The broker side of bench/rabbitmq/capture_import.sh: declares the
topologies that `queuesim import rabbitmq` is tested on, runs their traffic
and saves what the management API says about them (the definitions
export of RabbitMQ 3.10 leaves operator policies out: they are saved
apart, from /api/operator-policies).

    capture_import.py --amqp-port P --http-port H --out DIR [--seconds S] [--broker-version V]

Vhost `/` (the main fixture):

    web  --order.created.eu 20/s, order.cancelled.us 10/s, billing.invoice 5/s-->
    <events: topic> --order.*.eu--> [orders-eu]  args x-max-length 200, x-dead-letter-exchange dlx
                    --#----------> [audit]      1 consumer, prefetch 0
                    --billing.#--> <billing: direct> --billing.invoice--> [invoices] (quorum)
                                                     --billing.refund---> [refunds]  (priority 10, SAC)
    <dlx: fanout> --> [orders-dlq]
    worker  --15/s via the default exchange--> [tasks] args x-max-length 50,
            x-overflow reject-publish-dlx; 2 consumers, prefetch 1, 150 ms each
            (13.3/s at most: saturated, the excess dead-lettered to tasks.dead)
    [refunds] has no consumer: its messages stay (a backlog)
    <legacy: headers> --x-match=all,region=eu--> [audit]

  policies:  ttl-orders  ^orders-  priority 1  message-ttl 2000, max-length 500
             catch-all   .*        priority 0  max-length-bytes 10000000
             dlx-tasks   ^tasks$   priority 2  dead-letter-exchange "", dead-letter-routing-key
                                               tasks.dead, max-length 100
  operator:  op-limits   .*        priority 0  max-length 1000, message-ttl 60000

Vhost `shop` mirrors scenarios/rabbitmq_orders.toml: checkout publishes to
`orders` (x-message-ttl 60000, dead letters to `orders.dlq` through the
default exchange); its 6 consumers forward each order to `payments` (dead
letters to `payments.dlq`), which 4 consumers process.

Vhost `staging`: one queue `staging-jobs`, a policy, no traffic.
"""

import argparse
import base64
import json
import os
import threading
import time
import urllib.parse
import urllib.request

import pika

AUTH = "Basic " + base64.b64encode(b"guest:guest").decode()


class Api:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}/api"

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Authorization": AUTH, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            text = resp.read()
        return json.loads(text) if text else None

    def put(self, path, body):
        return self.call("PUT", path, body)

    def get(self, path):
        return self.call("GET", path)


def vh(name):
    return urllib.parse.quote(name, safe="")


def declare(api, port):
    for vhost in ("shop", "staging"):
        api.put(f"/vhosts/{vh(vhost)}", {})
        api.put(f"/permissions/{vh(vhost)}/guest", {"configure": ".*", "write": ".*", "read": ".*"})

    api.put("/policies/%2F/ttl-orders", {"pattern": "^orders-", "apply-to": "queues", "priority": 1,
                                          "definition": {"message-ttl": 2000, "max-length": 500}})
    api.put("/policies/%2F/catch-all", {"pattern": ".*", "apply-to": "queues", "priority": 0,
                                         "definition": {"max-length-bytes": 10000000}})
    api.put("/policies/%2F/dlx-tasks", {"pattern": "^tasks$", "apply-to": "queues", "priority": 2,
                                         "definition": {"dead-letter-exchange": "",
                                                        "dead-letter-routing-key": "tasks.dead",
                                                        "max-length": 100}})
    api.put("/operator-policies/%2F/op-limits", {"pattern": ".*", "apply-to": "queues", "priority": 0,
                                                  "definition": {"max-length": 1000, "message-ttl": 60000}})
    api.put("/policies/staging/staging-ttl", {"pattern": "^staging-", "apply-to": "queues", "priority": 0,
                                               "definition": {"message-ttl": 30000}})

    conn = connect(port, "/")
    ch = conn.channel()
    ch.exchange_declare("events", "topic", durable=True)
    ch.exchange_declare("billing", "direct", durable=True)
    ch.exchange_declare("dlx", "fanout", durable=True)
    ch.exchange_declare("legacy", "headers", durable=True)
    ch.queue_declare("orders-eu", durable=True,
                     arguments={"x-max-length": 200, "x-dead-letter-exchange": "dlx"})
    ch.queue_declare("orders-dlq", durable=True)
    ch.queue_declare("audit", durable=True)
    ch.queue_declare("invoices", durable=True, arguments={"x-queue-type": "quorum",
                                                          "x-overflow": "reject-publish",
                                                          "x-max-length": 10000})
    ch.queue_declare("refunds", durable=True, arguments={"x-max-priority": 10,
                                                         "x-single-active-consumer": True})
    ch.queue_declare("tasks", durable=True, arguments={"x-max-length": 50,
                                                       "x-overflow": "reject-publish-dlx"})
    ch.queue_declare("tasks.dead", durable=True)
    ch.queue_bind("orders-eu", "events", "order.*.eu")
    ch.queue_bind("audit", "events", "#")
    ch.exchange_bind("billing", "events", "billing.#")
    ch.queue_bind("invoices", "billing", "billing.invoice")
    ch.queue_bind("refunds", "billing", "billing.refund")
    ch.queue_bind("orders-dlq", "dlx", "")
    ch.queue_bind("audit", "legacy", "", arguments={"x-match": "all", "region": "eu"})
    conn.close()

    conn = connect(port, "shop")
    ch = conn.channel()
    ch.queue_declare("orders", durable=True, arguments={"x-message-ttl": 60000,
                                                        "x-dead-letter-exchange": "",
                                                        "x-dead-letter-routing-key": "orders.dlq"})
    ch.queue_declare("payments", durable=True, arguments={"x-dead-letter-exchange": "",
                                                          "x-dead-letter-routing-key": "payments.dlq"})
    ch.queue_declare("orders.dlq", durable=True)
    ch.queue_declare("payments.dlq", durable=True)
    conn.close()

    conn = connect(port, "staging")
    conn.channel().queue_declare("staging-jobs", durable=True)
    conn.close()


def connect(port, vhost):
    return pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", port, vhost, heartbeat=0))


def publisher(port, vhost, exchange, keys_rates, stop):
    """Publishes to `exchange` each (routing key, rate per second), evenly spaced."""
    conn = connect(port, vhost)
    ch = conn.channel()
    events = [(1.0 / rate, key) for key, rate in keys_rates]
    due = [time.monotonic() + gap for gap, _ in events]
    while not stop.is_set():
        i = min(range(len(due)), key=due.__getitem__)
        wait = due[i] - time.monotonic()
        if wait > 0:
            conn.sleep(wait)
        ch.basic_publish(exchange, events[i][1], b"x" * 100)
        due[i] += events[i][0]
    conn.close()


def consumer(port, vhost, queue, prefetch, service_s, stop, forward=None):
    """Consumes `queue` with `prefetch`, sleeps `service_s` per message, acks;
    with `forward`, publishes each message to that queue first."""
    conn = connect(port, vhost)
    ch = conn.channel()
    ch.basic_qos(prefetch_count=prefetch)

    def handle(channel, method, _props, body):
        time.sleep(service_s)
        if forward:
            channel.basic_publish("", forward, body)
        channel.basic_ack(method.delivery_tag)

    ch.basic_consume(queue, handle)
    while not stop.is_set():
        conn.process_data_events(time_limit=0.2)
    conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--amqp-port", type=int, required=True)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--broker-version", default="")
    args = parser.parse_args()
    api = Api(args.http_port)
    declare(api, args.amqp_port)

    stop = threading.Event()
    p = args.amqp_port
    threads = [
        threading.Thread(target=publisher, args=(p, "/", "events", [("order.created.eu", 20), ("order.cancelled.us", 10),
                                                                  ("billing.invoice", 5)], stop)),
        threading.Thread(target=publisher, args=(p, "/", "", [("tasks", 15)], stop)),
        threading.Thread(target=publisher, args=(p, "/", "billing", [("billing.refund", 2)], stop)),
        threading.Thread(target=publisher, args=(p, "shop", "", [("orders", 20)], stop)),
    ]
    threads += [threading.Thread(target=consumer, args=(p, "/", "orders-eu", 20, 0.05, stop)) for _ in range(3)]
    threads += [threading.Thread(target=consumer, args=(p, "/", "audit", 0, 0.005, stop))]
    threads += [threading.Thread(target=consumer, args=(p, "/", "invoices", 10, 0.02, stop))]
    threads += [threading.Thread(target=consumer, args=(p, "/", "tasks", 1, 0.15, stop)) for _ in range(2)]
    threads += [threading.Thread(target=consumer, args=(p, "shop", "orders", 1, 0.015, stop, "payments"))
                for _ in range(6)]
    threads += [threading.Thread(target=consumer, args=(p, "shop", "payments", 1, 0.01, stop)) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(args.seconds)
    captured = {
        "definitions.json": api.get("/definitions"),
        "queues.json": api.get("/queues"),
        "consumers.json": api.get("/consumers"),
        "operator_policies.json": api.get("/operator-policies"),
    }
    stop.set()
    for t in threads:
        t.join()
    os.makedirs(args.out, exist_ok=True)
    for name, value in captured.items():
        with open(os.path.join(args.out, name), "w") as f:
            json.dump(value, f, indent=2, sort_keys=True)
            f.write("\n")
    with open(os.path.join(args.out, "broker.txt"), "w") as f:
        f.write(f"{args.broker_version}\ncaptured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
                f"after {args.seconds:g} s of traffic\n")


if __name__ == "__main__":
    main()
