"""Sync benchmark: order updates pushed through the queue and the client, against the sandbox
store at Shopify's Standard limits, as a fraction of the rate its bucket allows.

Sets up a throw-away PostgreSQL database and a Redis database of its own, serves the sandbox
store (`manage.py sandbox`: 2,000 points, 100 restored per second) on a free port, connects it
as a shop, places one order per update in it through its control API and mirrors them (the
ingest of their REST shape: no Admin API points spent before the measurement). Then it sends one
job per order through `shopify.queue` to the `shopify` queue, each an `orderUpdate` of the
order's note through the portal's client (`bench/jobs.py`), and starts RQ workers in burst mode,
the way production runs them. It times the jobs from the first one's start to the last one's
end, asks the sandbox whether every note landed, and counts what RQ failed or still retries.

Points spent are the sum of Shopify's `actualQueryCost` over every answer the client got, what
the sandbox's bucket was charged; the bucket allowed its 2,000 points plus 100 per second of
the run. It prints a table, then one JSON object as the last line. The budget is reported,
never enforced: the exit status is 0 unless the setup itself failed. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from redis import Redis, RedisError
from rq import Queue
from run import (
    HOST,
    PYTHON,
    ROOT,
    SetupError,
    execute,
    free_port,
    interrupts_deferred,
    log_tail,
    manage,
    percentile,
    throwaway_site,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/portal_bench_sync"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"

# Reported, not enforced (DESIGN.md, "Performance budgets").
BUDGET: dict[str, float] = {"fraction_min": 0.9}

# Shopify's Standard plan, as the sandbox plays it.
BUCKET_SIZE = 2000
RESTORE_RATE = 100

DOMAIN = "northwind-demo.myshopify.com"  # the shop the sandbox plays: its webhooks say so
ACCESS_TOKEN = "shpat_bench_only_token"
CLIENT_SECRET = "bench-only-client-secret"
QUEUE = "shopify"
# Set in the benchmark's Redis database: a database holding anything else is not flushed.
OWNER_KEY = "portal-bench:owner"
RECORDS = "portal-bench:sync:done"  # where each job that returned writes what it took

BERLIN = {
    "first_name": "Erika",
    "last_name": "Mustermann",
    "address1": "Friedrichstraße 1",
    "city": "Berlin",
    "zip": "10117",
    "country": "Germany",
    "country_code": "DE",
}

# Run inside `manage.py shell`: mirror the orders from the REST shape the sandbox answered with
# (what an orders/create webhook brings), then send one job per order through the portal's queue.
SETUP_JOBS = """
import json
from pathlib import Path
from bench import jobs
from orders.models import Shop
from shopify import ingest, queue

states = json.loads(Path(%(states)r).read_text())
shop = Shop.objects.get(domain=%(domain)r)
notes = {}
for state in states:
    order = ingest.apply_order(shop, ingest.order_from_rest(state))
    notes[order.number] = "Bench update of order %%s" %% order.number
    queue.enqueue(jobs.update_note, order.pk, notes[order.number], %(records)r, queue=%(queue)r)
print("BENCH_ENQUEUED " + json.dumps(notes))
"""


# --- services the benchmark starts --------------------------------------------------------------


@contextlib.contextmanager
def own_redis(url: str, owner: str) -> Iterator[Redis]:
    """The benchmark's Redis database, emptied at both ends of the run. One that holds keys the
    benchmark did not put there (the test suite's, a running portal's) is refused, not flushed."""
    client = Redis.from_url(url)
    try:
        client.ping()
        if client.dbsize() and not client.exists(OWNER_KEY):
            raise SetupError(
                f"Redis {url} holds {client.dbsize()} keys that are not a benchmark's: "
                "name another database with BENCH_REDIS_URL"
            )
        client.flushdb()
        client.set(OWNER_KEY, owner)
    except RedisError as error:
        raise SetupError(f"Redis at {url}: {error}") from error
    try:
        yield client
    finally:
        with interrupts_deferred(), contextlib.suppress(RedisError):
            client.flushdb()
        client.close()


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def running(self) -> bool:
        return self.popen.poll() is None


class Processes:
    """Every subprocess of a run, each a `manage.py` command in its own session (so that Ctrl-C
    reaches this script only, and the whole group, RQ's work horses included, can be stopped)."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.started: list[Process] = []

    def manage(self, name: str, *args: str) -> Process:
        log = self.workdir / f"{name}.log"
        with log.open("wb") as log_file:
            popen = subprocess.Popen(
                [str(PYTHON), "manage.py", *args],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = Process(name=name, popen=popen, log=log)
        self.started.append(process)
        return process

    def stop(self, process: Process, timeout: float = 15.0) -> None:
        """SIGTERM to the command (an RQ worker finishes its job first), then SIGKILL to its
        whole group (a work horse included) if it is still there after `timeout`."""
        if not process.running():
            return
        process.popen.send_signal(signal.SIGTERM)
        try:
            process.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.popen.pid, signal.SIGKILL)
            process.popen.wait(timeout=timeout)

    def stop_all(self) -> None:
        for process in reversed(self.started):
            self.stop(process)


@contextlib.contextmanager
def processes(env: dict[str, str], workdir: Path) -> Iterator[Processes]:
    started = Processes(env, workdir)
    try:
        yield started
    finally:
        with interrupts_deferred():
            started.stop_all()


@dataclass
class SandboxStore:
    """The sandbox's control API, over HTTP."""

    url: str
    process: Process
    session: requests.Session = field(default_factory=requests.Session)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        try:
            response = self.session.request(method, self.url + path, json=body, timeout=30)
        except requests.RequestException as error:
            raise SetupError(f"sandbox {method} {path}: {error}") from error
        if response.status_code != 200:
            raise SetupError(f"sandbox {method} {path}: {response.status_code} {response.text}")
        return response.json()

    def bucket(self) -> dict[str, float]:
        return self.call("GET", "/sandbox/bucket")

    def fill_bucket(self) -> dict[str, float]:
        return self.call("POST", "/sandbox/bucket", {"available": BUCKET_SIZE})


def start_sandbox(started: Processes, port: int, timeout: float = 30.0) -> SandboxStore:
    process = started.manage(
        "sandbox",
        "sandbox",
        f"--port={port}",
        "--seed=empty",
        f"--access-token={ACCESS_TOKEN}",
        f"--client-secret={CLIENT_SECRET}",
        f"--restore-rate={RESTORE_RATE}",
        f"--bucket-size={BUCKET_SIZE}",
    )
    store = SandboxStore(url=f"http://{HOST}:{port}", process=process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.running():
            raise SetupError(f"the sandbox exited:\n{log_tail(process.log)}")
        with contextlib.suppress(requests.RequestException):
            if store.session.get(store.url + "/sandbox/bucket", timeout=2).status_code == 200:
                return store
        time.sleep(0.2)
    raise SetupError(f"the sandbox did not answer within {timeout:.0f} s:\n{log_tail(process.log)}")


def site_environment(env: dict[str, str], sandbox_port: int) -> dict[str, str]:
    """run.py's production settings, with the sandbox playing Shopify."""
    return dict(
        env,
        SANDBOX_URL=f"http://{HOST}:{sandbox_port}",
        EMAIL_URL="dummy:",  # the change emails are rendered, not sent
        LOG_LEVEL="WARNING",
    )


def connect_shop(env: dict[str, str]) -> None:
    manage(
        env,
        "add_shop",
        DOMAIN,
        f"--access-token={ACCESS_TOKEN}",
        f"--client-secret={CLIENT_SECRET}",
        "--name=Bench shop",
        "--offline",  # reading the shop's details would spend points before the measurement
    )


def place_order(store: SandboxStore, index: int, address: dict[str, str]) -> dict[str, Any]:
    """An unfulfilled, paid order placed now; its state in Shopify's REST shape."""
    return store.call(
        "POST",
        "/sandbox/orders",
        {
            "lines": [{"title": "Bench tee", "price": "25.00", "quantity": 1, "sku": "BENCH-1"}],
            "email": f"shopper{index}@example.com",
            "shipping_address": address,
        },
    )


def bench_urls(default_database: str, default_redis: str) -> tuple[str, str]:
    database_url = os.environ.get("BENCH_DATABASE_URL") or default_database
    redis_url = os.environ.get("BENCH_REDIS_URL") or default_redis
    if not PYTHON.exists():
        raise SetupError(f"{PYTHON} is needed: run `make venv` first")
    return database_url, redis_url


def marked(output: str, marker: str) -> Any:
    """The JSON a `manage.py shell` script printed after `marker`."""
    line = next((x for x in output.splitlines() if x.startswith(marker + " ")), None)
    if line is None:
        raise SetupError(f"the script printed no {marker}:\n{output}")
    return json.loads(line.removeprefix(marker + " "))


# --- the measurement --------------------------------------------------------------------------


@dataclass
class Outcome:
    updates: int
    workers: int
    records: list[dict[str, Any]]  # one per job that returned (bench/jobs.py)
    failed: int  # in RQ's failed-job registry
    retrying: int  # failed once, waiting in RQ's scheduled registry for a retry
    unfinished: int  # still queued or running when the workers stopped
    lost: list[int]  # orders whose note is not the update's in the sandbox
    initial_available: float
    bucket_after: dict[str, float]
    bucket_read_at: float  # time.time() of that reading

    @property
    def started(self) -> float:
        return min(r["started"] for r in self.records)

    @property
    def elapsed_s(self) -> float:
        if not self.records:
            return 0.0
        return max(r["finished"] for r in self.records) - self.started

    @property
    def points(self) -> float:
        return sum(r["points"] for r in self.records)

    @property
    def allowed_points(self) -> float:
        return self.initial_available + RESTORE_RATE * self.elapsed_s

    @property
    def fraction(self) -> float:
        return self.points / self.allowed_points if self.allowed_points else 0.0

    @property
    def sandbox_points(self) -> float | None:
        """The same figure from the sandbox's side: what its bucket held, plus what it restored
        since the first job began, less what it holds now. Only while it has not filled up."""
        available = self.bucket_after["currentlyAvailable"]
        if not self.records or available >= self.bucket_after["maximumAvailable"]:
            return None
        restored = RESTORE_RATE * (self.bucket_read_at - self.started)
        return self.initial_available + restored - available

    def sum(self, name: str) -> float:
        return sum(r[name] for r in self.records)

    def job_seconds(self, p: float) -> float:
        return percentile(sorted(r["finished"] - r["started"] for r in self.records), p)


def run_workers(
    started: Processes, redis: Redis, count: int, updates: int, timeout: float
) -> list[Process]:
    """Burst workers: each exits when the queue is empty. Stopped at `timeout` if still busy."""
    workers = [started.manage(f"rqworker-{i}", "rqworker", QUEUE, "--burst") for i in range(count)]
    deadline = time.monotonic() + timeout
    next_report = time.monotonic() + 10
    while any(worker.running() for worker in workers):
        if time.monotonic() > deadline:
            print(f"  timeout: workers stopped after {timeout:.0f} s", flush=True)
            break
        time.sleep(0.25)
        if time.monotonic() >= next_report:
            print(f"  {redis.llen(RECORDS)}/{updates} updates done", flush=True)
            next_report += 10
    for worker in workers:
        started.stop(worker)
    return workers


def lost_updates(store: SandboxStore, notes: dict[str, str]) -> list[int]:
    return [
        int(number)
        for number, note in notes.items()
        if store.call("GET", f"/sandbox/orders/{number}").get("note") != note
    ]


def run(args: argparse.Namespace) -> dict[str, Any]:
    database_url, redis_url = bench_urls(DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL)
    with (
        own_redis(redis_url, "bench/sync.py") as redis,
        throwaway_site(database_url, redis_url) as (base_env, workdir),
    ):
        sandbox_port = free_port()
        env = site_environment(base_env, sandbox_port)
        print("setup: migrate, sandbox store, connect the shop", flush=True)
        manage(env, "migrate", "--no-input")
        with processes(env, workdir) as started:
            store = start_sandbox(started, sandbox_port)
            connect_shop(env)
            print(f"setup: {args.updates} orders placed in the sandbox and mirrored", flush=True)
            states = [place_order(store, i, BERLIN) for i in range(args.updates)]
            states_file = workdir / "orders.json"
            states_file.write_text(json.dumps(states))
            script = SETUP_JOBS % {
                "states": str(states_file),
                "domain": DOMAIN,
                "queue": QUEUE,
                "records": RECORDS,
            }
            notes = marked(manage(env, "shell", "-c", script), "BENCH_ENQUEUED")
            # Nothing was charged so far (the control API is free); make sure the bucket is full.
            initial = store.fill_bucket()["currentlyAvailable"]
            print(
                f"measure: {len(notes)} orderUpdate jobs queued; {args.workers} burst workers "
                f"against {BUCKET_SIZE} points restored at {RESTORE_RATE}/s",
                flush=True,
            )
            workers = run_workers(started, redis, args.workers, args.updates, args.timeout)
            bucket_after = store.bucket()
            bucket_read_at = time.time()
            queue = Queue(QUEUE, connection=redis)
            outcome = Outcome(
                updates=len(notes),
                workers=args.workers,
                records=[json.loads(x) for x in redis.lrange(RECORDS, 0, -1)],
                failed=queue.failed_job_registry.count,
                retrying=queue.scheduled_job_registry.count,
                unfinished=queue.count + queue.started_job_registry.count,
                lost=lost_updates(store, notes),
                initial_available=initial,
                bucket_after=bucket_after,
                bucket_read_at=bucket_read_at,
            )
            if outcome.failed or outcome.retrying or outcome.lost:
                print(f"some updates failed; a worker's log ends with:\n{log_tail(workers[0].log)}")

    print()
    print_table(outcome)
    return summary(outcome)


# --- report ---------------------------------------------------------------------------------


def print_table(o: Outcome) -> None:
    done = len(o.records)
    rows = [
        ("updates", f"{o.updates} queued, {done} done by {o.workers} workers"),
        ("failed / retrying", f"{o.failed} failed, {o.retrying} waiting for a retry"),
        ("unfinished", f"{o.unfinished}"),
        ("lost", f"{len(o.lost)} (note not in the sandbox: {o.lost[:10]})" if o.lost else "0"),
        ("elapsed", f"{o.elapsed_s:.1f} s (first job's start to last job's end)"),
        ("updates/s", f"{done / o.elapsed_s:.2f}" if o.elapsed_s else "-"),
        ("points spent", f"{o.points:.0f} (sum of actualQueryCost)"),
        (
            "points allowed",
            f"{o.allowed_points:.0f} ({o.initial_available:.0f} + {RESTORE_RATE}/s x "
            f"{o.elapsed_s:.1f} s)",
        ),
        ("fraction", f"{o.fraction:.3f} (budget: at least {BUDGET['fraction_min']})"),
        ("job time p50/p95", f"{o.job_seconds(50):.3f} / {o.job_seconds(95):.3f} s"),
        ("THROTTLED answers", f"{o.sum('throttled'):.0f} ({o.sum('answers'):.0f} answers)"),
        ("client waits", f"{o.sum('waited_s'):.1f} s in all, for its bucket"),
        (
            "sandbox bucket",
            f"{o.bucket_after['currentlyAvailable']} available after the run; "
            + (
                f"{o.sandbox_points:.0f} points spent by its reckoning"
                if o.sandbox_points is not None
                else "full again"
            ),
        ),
    ]
    width = max(len(label) for label, _ in rows) + 2
    for label, value in rows:
        print(f"{label:<{width}}{value}")


def summary(o: Outcome) -> dict[str, Any]:
    done = len(o.records)
    lost = len(o.lost)
    meets = (
        o.fraction >= BUDGET["fraction_min"]
        and o.failed == 0
        and o.retrying == 0
        and o.unfinished == 0
        and lost == 0
        and done == o.updates
    )
    return {
        "bench": "sync",
        "updates": o.updates,
        "workers": o.workers,
        "done": done,
        "failed": o.failed,
        "retrying": o.retrying,
        "unfinished": o.unfinished,
        "lost": lost,
        "elapsed_s": round(o.elapsed_s, 2),
        "updates_per_s": round(done / o.elapsed_s, 2) if o.elapsed_s else 0.0,
        "points": round(o.points),
        "allowed_points": round(o.allowed_points),
        "fraction": round(o.fraction, 3),
        "sandbox_points": None if o.sandbox_points is None else round(o.sandbox_points),
        "job_p50_s": round(o.job_seconds(50), 3),
        "job_p95_s": round(o.job_seconds(95), 3),
        "throttled": int(o.sum("throttled")),
        "client_wait_s": round(o.sum("waited_s"), 1),
        "bucket": {"size": BUCKET_SIZE, "restore_rate": RESTORE_RATE},
        "budget": BUDGET,
        "meets_budget": meets,
    }


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=1000, help="orders, one update each")
    parser.add_argument("--workers", type=int, default=2, help="RQ workers on the shopify queue")
    parser.add_argument(
        "--timeout", type=float, default=240, help="seconds before the workers are stopped"
    )
    args = parser.parse_args(argv)
    if args.updates < 1 or args.workers < 1:
        parser.error("--updates and --workers must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    return execute(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
