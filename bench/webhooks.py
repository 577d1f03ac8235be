"""Webhook intake benchmark: signed `orders/updated` deliveries acknowledged per second.

Sets up a throw-away PostgreSQL database with one connected shop (`manage.py add_shop`), serves
it with gunicorn exactly as bench/run.py does (same settings, workers and threads), and POSTs
Shopify's real sample of `orders/updated` (read from ../shared) to /shopify/webhooks with the
same number of keep-alive clients. The body is signed once with the shop's client secret (the
signature covers the body only); each request has its own X-Shopify-Webhook-Id, so that every
one is verified, recorded and enqueued, none skipped as a duplicate. No RQ worker runs: this
measures intake only, and the jobs stay in Redis to be counted.

After the run it checks in the database that every acknowledged delivery was recorded, and
counts the jobs queued. It prints a table, then one JSON object as the last line. The budget is
reported, never enforced: the exit status is 0 unless the setup itself failed. See
bench/README.md.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from run import (
    HOST,
    ROOT,
    SERVICES,
    WRK_SCRIPT,
    Measurement,
    PythonRequest,
    SetupError,
    bench_urls,
    choose_wrk,
    execute,
    gunicorn,
    interrupts_deferred,
    log_tail,
    manage,
    measure,
    parse_args,
    run_python,
    run_wrk,
    throwaway_site,
    warn_if_other_cpu,
)

# Reported, not enforced (DESIGN.md, "Performance budgets").
BUDGET: dict[str, float] = {"rps_min": 300, "p99_ms_max": 100}

SAMPLE = ROOT.parent / "shared" / "shopify" / "webhooks" / "orders" / "updated.json"
TOPIC = "orders/updated"
API_VERSION = "2026-07"
SHOP_DOMAIN = "bench-shop.myshopify.com"
CLIENT_SECRET = "bench-only-client-secret"
QUEUE = "webhooks"  # django-rq's queue that the intake view sends its jobs to
# Redis serves every request here (the job is sent after commit): its CPU is the server's.
SERVICES_USED = (*SERVICES, "redis-server")

# Run inside `manage.py shell`: one delivery through Django's test client (what it costs in SQL
# queries, as Django counts them: BEGIN, SAVEPOINT and COMMIT included), then the mean time of
# many, in-process and one at a time: the view's own cost (wall and this process's CPU), without
# the network, gunicorn, the load generator or other requests competing for the cores.
PROBE = """
import json
import time
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

spec = json.loads(%r)
with open(spec["body"], "rb") as file:
    body = file.read()
client = Client(SERVER_NAME="127.0.0.1")
path = reverse("shopify:webhooks")

def deliver(number):
    webhook_id = "probe-%%d" %% number
    headers = dict(spec["headers"], **{
        "X-Shopify-Webhook-Id": webhook_id, "X-Shopify-Event-Id": "event-" + webhook_id,
    })
    return client.post(path, body, content_type="application/json", headers=headers)

deliver(0)  # the first request pays for connecting
with CaptureQueriesContext(connection) as queries:
    response = deliver(1)
sql_queries = len(queries.captured_queries)  # now: the next request empties the log
started, cpu, rounds = time.perf_counter(), time.process_time(), 100
for number in range(2, rounds + 2):
    deliver(number)
cpu, wall = time.process_time() - cpu, time.perf_counter() - started
found = {
    "path": path,
    "status": response.status_code,
    "answer": response.content.decode(errors="replace")[:200],
    "sql_queries": sql_queries,
    "in_process_ms": wall / rounds * 1000,
    "in_process_cpu_ms": cpu / rounds * 1000,
}
print("BENCH_PROBE " + json.dumps(found))
"""

# Appended to run.py's WRK_SCRIPT, which counts every non-200 answer and reports: it keeps that
# script's setup, init and done, and adds a request() that gives every delivery its own webhook
# id, "<phase>-<thread>-<n>" (the phase keeps the warm-up's ids apart from the measurement's).
DELIVERY_SCRIPT = """
local report_setup, report_init = setup, init
local thread_count = 0

wrk.method = "POST"
do
  local file = assert(io.open(%(body)s, "rb"))
  wrk.body = file:read("*a")
  file:close()
end
for name, value in pairs(%(headers)s) do
  wrk.headers[name] = value
end

function setup(thread)
  report_setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_number", thread_count)
end

function init(args)
  report_init(args)
  sent = 0
end

function request()
  sent = sent + 1
  local id = string.format("%(phase)s-%%d-%%d", thread_number or 0, sent)
  wrk.headers["X-Shopify-Webhook-Id"] = id
  wrk.headers["X-Shopify-Event-Id"] = "event-" .. id
  return wrk.format()
end
"""


@dataclass
class Probe:
    path: str
    status: int
    answer: str
    sql_queries: int
    in_process_ms: float
    in_process_cpu_ms: float


@dataclass
class Intake:
    """What the server kept of the measured deliveries."""

    acknowledged: int  # answered 200, as the load generator saw it
    recorded: int  # WebhookDelivery rows with the measurement's ids
    jobs_queued: int  # jobs waiting in the webhooks queue afterwards
    workers: int  # RQ workers listening on that queue: none, unless someone else runs one

    def per_second(self, result: Measurement) -> float:
        return self.acknowledged / result.duration_s if result.duration_s > 0 else 0.0

    @property
    def lost(self) -> int:
        return max(0, self.acknowledged - self.recorded)

    @property
    def answered_late(self) -> int:
        """Recorded but not seen acknowledged: wrk stops reading when its time is up, and the
        server finishes what was in flight then, at most one request per connection."""
        return max(0, self.recorded - self.acknowledged)


# --- deliveries ------------------------------------------------------------------------------


def read_sample() -> bytes:
    if not SAMPLE.is_file():
        raise SetupError(
            f"missing real Shopify material: {SAMPLE} (Shopify's sample of {TOPIC}, read from "
            "../shared next to the project, never copied into it)"
        )
    return SAMPLE.read_bytes()


def sign(body: bytes, secret: str) -> str:
    """Shopify's webhook signature: base64(HMAC-SHA256(client secret, raw body)). Made here as
    Shopify makes it, not with shopify/signatures.py, which is what the server checks with."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def delivery_headers(signature: str) -> dict[str, str]:
    """Every header of a delivery but its ids, which each request has its own of."""
    triggered_at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": TOPIC,
        "X-Shopify-Shop-Domain": SHOP_DOMAIN,
        "X-Shopify-API-Version": API_VERSION,
        "X-Shopify-Triggered-At": triggered_at,
        "X-Shopify-Hmac-Sha256": signature,
    }


def lua_table(headers: dict[str, str]) -> str:
    # JSON strings of plain ASCII are valid Lua strings.
    return "{" + ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()) + "}"


def wrk_script(workdir: Path, phase: str, body_file: Path, headers: dict[str, str]) -> Path:
    deliveries = DELIVERY_SCRIPT % {
        "body": json.dumps(str(body_file)),
        "headers": lua_table(headers),
        "phase": phase,
    }
    script = workdir / f"{phase}.lua"
    script.write_text(WRK_SCRIPT + deliveries)
    return script


def python_deliveries(
    phase: str, clients: int, body: bytes, headers: dict[str, str]
) -> PythonRequest:
    """The Python client's deliveries: the same as the Lua script's."""
    counters = [itertools.count(1) for _ in range(clients)]

    def delivery(client: int) -> tuple[str, bytes | None, dict[str, str]]:
        webhook_id = f"{phase}-py{client}-{next(counters[client])}"
        ids = {"X-Shopify-Webhook-Id": webhook_id, "X-Shopify-Event-Id": f"event-{webhook_id}"}
        return "POST", body, headers | ids

    return delivery


# --- the site ---------------------------------------------------------------------------------


def prepare_site(env: dict[str, str], body_file: Path, headers: dict[str, str]) -> Probe:
    print("setup: migrate, collectstatic, add_shop (offline), probe", flush=True)
    manage(env, "migrate", "--no-input")
    manage(env, "collectstatic", "--no-input")
    manage(
        env,
        "add_shop",
        SHOP_DOMAIN,
        "--access-token=shpat_bench_only",
        f"--client-secret={CLIENT_SECRET}",
        "--name=Bench",
        "--offline",
    )
    spec = json.dumps({"body": str(body_file), "headers": headers})
    output = manage(env, "shell", "-c", PROBE % spec)
    line = next((x for x in output.splitlines() if x.startswith("BENCH_PROBE ")), None)
    if line is None:
        raise SetupError(f"the probe printed no result:\n{output}")
    probe = Probe(**json.loads(line.removeprefix("BENCH_PROBE ")))
    if probe.status != 200:
        # Every delivery of the load would be refused the same way: not worth measuring.
        raise SetupError(f"a signed delivery was answered {probe.status}: {probe.answer!r}")
    return probe


@contextlib.contextmanager
def redis_errors() -> Iterator[None]:
    from redis.exceptions import RedisError

    try:
        yield
    except RedisError as error:
        raise SetupError(f"Redis: {error}") from error


class Backlog:
    """The webhooks queue in Redis, and the deliveries table in PostgreSQL, seen from outside
    the server: counted, never processed."""

    def __init__(self, database_url: str, redis_url: str) -> None:
        import redis
        from rq import Queue

        self.database_url = database_url
        self.connection = redis.Redis.from_url(redis_url)
        self.queue = Queue(QUEUE, connection=self.connection)

    def empty(self) -> int:
        """Empty the queue (its jobs too); how many jobs it held."""
        with redis_errors():
            count = self.queue.count
            self.queue.empty()
        return count

    def jobs(self) -> int:
        with redis_errors():
            return self.queue.count

    def workers(self) -> int:
        """RQ workers listening on the queue: with one, jobs would be processed meanwhile."""
        from rq import Worker

        with redis_errors():
            return len(Worker.all(queue=self.queue))

    def recorded(self, phase: str) -> int:
        import psycopg

        # WebhookDelivery's table; the ids of one phase all start with its name.
        query = "SELECT count(*) FROM shopify_webhookdelivery WHERE webhook_id LIKE %s"
        try:
            with psycopg.connect(self.database_url, connect_timeout=10) as conn:
                row = conn.execute(query, (f"{phase}-%",)).fetchone()
        except psycopg.Error as error:
            raise SetupError(f"counting the recorded deliveries: {error}") from error
        return int(row[0]) if row else 0

    def settled(self, phase: str, timeout: float = 10.0) -> int:
        """The phase's rows once the server has finished what was in flight when the load
        generator stopped: the count no longer moves."""
        deadline = time.monotonic() + timeout
        count = self.recorded(phase)
        while time.monotonic() < deadline:
            time.sleep(0.5)
            again = self.recorded(phase)
            if again == count:
                break
            count = again
        return count


# --- report ----------------------------------------------------------------------------------


def print_table(result: Measurement, intake: Intake, probe: Probe, body_bytes: int) -> None:
    header = (
        f"{'target':<16}{'requests':>10}{'errors':>8}{'200s/s':>10}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'SQL':>5}{'bytes':>7}"
        f"{'CPU ms/req':>12}{'other CPU':>11}"
    )
    print(header)
    print("-" * len(header))
    print(
        f"{TOPIC:<16}{result.requests:>10}{result.errors:>8}{intake.per_second(result):>10.1f}"
        f"{result.p50_ms:>9.2f}{result.p95_ms:>9.2f}{result.p99_ms:>9.2f}"
        f"{probe.sql_queries:>5}{body_bytes:>7}"
        f"{result.cpu_ms_per_request:>12.2f}{result.other_cpu_pct:>10.1f}%"
    )
    print(
        f"acknowledged (200) {intake.acknowledged}, recorded (WebhookDelivery rows)"
        f" {intake.recorded}, lost {intake.lost}"
    )
    if intake.answered_late:
        print(
            f"  {intake.answered_late} recorded but not seen acknowledged: in flight when the"
            " load generator stopped reading (at most one per connection)"
        )
    if intake.workers:
        ran = f"{intake.workers} RQ worker(s) listened: not intake only"
    else:
        ran = "no RQ worker ran: intake only (verify, record, enqueue, answer)"
    print(f"jobs queued in Redis ({QUEUE}): {intake.jobs_queued}; {ran}")
    if intake.jobs_queued != intake.recorded:
        # The view sends one job per recorded delivery; Redis does not lose them by itself.
        print(
            f"  warning: {intake.recorded} deliveries recorded but {intake.jobs_queued} jobs"
            " queued: something else used the queue meanwhile (an RQ worker, or the test suite,"
            " whose fixtures empty its Redis database: give the bench a REDIS_URL of its own)"
        )
    print(
        f"one delivery in-process, alone (Django's test client): {probe.in_process_ms:.2f} ms,"
        f" of which {probe.in_process_cpu_ms:.2f} ms CPU; {probe.sql_queries} SQL queries"
    )


def summary(
    result: Measurement,
    intake: Intake,
    probe: Probe,
    *,
    args: argparse.Namespace,
    generator: str,
    body_bytes: int,
) -> dict[str, Any]:
    rps = intake.per_second(result)
    meets = (
        rps >= BUDGET["rps_min"]
        and result.p99_ms < BUDGET["p99_ms_max"]
        and result.errors == 0
        and intake.lost == 0
    )
    return {
        "bench": "webhook_intake",
        "topic": TOPIC,
        "body_bytes": body_bytes,
        "clients": args.clients,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "load_generator": generator,
        "server": {
            "worker_class": args.worker_class,
            "workers": args.workers,
            "threads": args.threads,
        },
        "rps": round(rps, 1),
        "p50_ms": round(result.p50_ms, 2),
        "p95_ms": round(result.p95_ms, 2),
        "p99_ms": round(result.p99_ms, 2),
        "requests": result.requests,
        "errors": result.errors,
        "acknowledged": intake.acknowledged,
        "recorded": intake.recorded,
        "lost": intake.lost,
        "answered_late": intake.answered_late,
        "jobs_queued": intake.jobs_queued,
        "rq_workers": intake.workers,
        "sql_queries": probe.sql_queries,
        "in_process_ms": round(probe.in_process_ms, 2),
        "in_process_cpu_ms": round(probe.in_process_cpu_ms, 2),
        "server_cpu_ms_per_request": round(result.cpu_ms_per_request, 2),
        "other_cpu_pct": round(result.other_cpu_pct, 1),
        "budget": BUDGET,
        "meets_budget": meets,
    }


# --- main -------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    database_url, redis_url = bench_urls()
    body = read_sample()
    headers = delivery_headers(sign(body, CLIENT_SECRET))
    wrk = choose_wrk(args)
    generator = "wrk" if wrk else "python"

    with throwaway_site(database_url, redis_url) as (env, workdir):
        body_file = workdir / "body.json"
        body_file.write_bytes(body)

        def load(port: int, path: str, phase: str, seconds: int) -> Measurement:
            if wrk:
                script = wrk_script(workdir, phase, body_file, headers)
                return run_wrk(wrk, script, port, path, args.clients, seconds)
            request = python_deliveries(phase, args.clients, body, headers)
            return run_python(port, path, args.clients, seconds, request)

        backlog = Backlog(database_url, redis_url)
        try:
            left = backlog.empty()
            if left:
                print(f"setup: emptied the {QUEUE} queue of {left} jobs found in it", flush=True)
            probe = prepare_site(env, body_file, headers)
            workers = backlog.workers()
            if workers:
                print(
                    f"warning: {workers} RQ worker(s) listen on the {QUEUE} queue of {redis_url}:"
                    " they take jobs during the measurement, which is then not of intake only",
                    flush=True,
                )
            with gunicorn(env, workdir, args) as server:
                print(f"server: {server.description}, on http://{HOST}:{server.port}", flush=True)
                print(
                    f"load generator: {generator}, {args.clients} keep-alive clients, "
                    f"{args.warmup} s warm-up then {args.duration} s of signed {TOPIC} deliveries "
                    f"({len(body)} bytes), each with its own webhook id; no RQ worker runs",
                    flush=True,
                )
                if not wrk:
                    print("  (the Python client shares the 2 cores and its GIL: wrk reads higher)")
                if args.warmup:
                    load(server.port, probe.path, "warmup", args.warmup)
                    backlog.settled("warmup")
                backlog.empty()  # the probe's and the warm-up's jobs
                result = measure(
                    server,
                    partial(load, server.port, probe.path, "measure", args.duration),
                    SERVICES_USED,
                )
                intake = Intake(
                    acknowledged=result.requests - result.non200,
                    recorded=backlog.settled("measure"),
                    jobs_queued=backlog.jobs(),
                    workers=workers,
                )
                print(f"  {TOPIC}: {intake.per_second(result):.1f} acknowledged/s", flush=True)
                warn_if_other_cpu(result)
                if result.errors:
                    print(
                        f"some requests failed; the server's log ends with:\n{log_tail(server.log)}"
                    )
        finally:
            # Also on an error or Ctrl-C: leave no job behind for a worker to trip on later.
            with interrupts_deferred(), contextlib.suppress(SetupError):
                backlog.empty()

    print()
    print_table(result, intake, probe, len(body))
    return summary(result, intake, probe, args=args, generator=generator, body_bytes=len(body))


def main(argv: list[str] | None = None) -> int:
    return execute(run, parse_args(argv, __doc__))


if __name__ == "__main__":
    sys.exit(main())
