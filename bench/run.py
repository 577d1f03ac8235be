"""Order-page benchmark: the shopper's order page against a trivial view, on one machine.

Sets up a throw-away PostgreSQL database with the demo store, serves it with gunicorn the way
production does (DEBUG=0, collected static files, persistent DB connections, Redis cache), then
loads three URLs in turn with the same number of keep-alive clients:

- trivial:        GET /healthz, the same middleware stack with no work: the baseline;
- order_page:     the page of demo order #1001 (2 lines, 1 shipment, 4 tracking events);
- order_page_big: the page of demo order #1018 (3 shipments), the biggest demo order.

It prints a table, then one JSON object as the last line. The budget is reported, never
enforced: the exit status is 0 unless the setup itself failed. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = VENV_BIN / "python"
GUNICORN = VENV_BIN / "gunicorn"

HOST = "127.0.0.1"  # every request of this benchmark stays on the loopback interface
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/portal_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"

# Reported, not enforced: the order page should keep at least half the trivial view's
# throughput, and answer 95 % of requests within 50 ms, with no errors.
BUDGET: dict[str, float] = {"ratio_min": 0.5, "p95_ms_max": 50}

# Above this share of the machine's CPU used by others during a measurement, say so.
OTHER_CPU_WARNING_PCT = 10.0

# What each figure measures: (name in the JSON, label in the table, demo order number or None).
TARGETS: tuple[tuple[str, str, int | None], ...] = (
    ("trivial", "/healthz", None),
    ("order_page", "order #1001", 1001),
    ("order_page_big", "order #1018", 1018),
)

# Run inside `manage.py shell`: the URL of each target, plus what one request to it costs in SQL
# queries and bytes (through Django's test client, not the network). The load below measures
# the warm order page (served from the page cache); the probe also times the cold one, rendered
# from the database after the cache was emptied, so that both costs are on record.
PROBE = """
import json
import time
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from orders import access
from orders.models import Order

targets = json.loads(%r)
client = Client(SERVER_NAME="127.0.0.1")
found = {}
for name, number in targets.items():
    if number is None:
        path = "/healthz"
    else:
        path = "/o/%%s/" %% access.link_token(Order.objects.get(number=number))
    client.get(path)  # the first request pays for connecting and for loading templates
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    found[name] = {
        "path": path,
        "status": response.status_code,
        "bytes": len(response.content),
        "sql_queries": len(queries.captured_queries),
    }
    if number is not None:
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        found[name]["cold_sql_queries"] = len(queries.captured_queries)
        started, rounds = time.perf_counter(), 50
        for _ in range(rounds):
            cache.clear()
            client.get(path)
        found[name]["cold_ms"] = (time.perf_counter() - started) / rounds * 1000
print("BENCH_PROBE " + json.dumps(found))
"""

# wrk's own error count only covers statuses >= 400: count every non-200 in Lua instead, per
# thread, and print one parseable line when done. Latencies are in microseconds.
WRK_SCRIPT = """
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non200 = 0
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non200")
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH_WRK {\\"requests\\": %d, \\"duration_us\\": %d, \\"non200\\": %d, " ..
    "\\"connect\\": %d, \\"read\\": %d, \\"write\\": %d, \\"timeout\\": %d, " ..
    "\\"p50_us\\": %d, \\"p95_us\\": %d, \\"p99_us\\": %d}\\n",
    summary.requests, summary.duration, bad, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


class SetupError(Exception):
    """The benchmark could not be set up or run: exit non-zero with this message."""


@dataclass
class Measurement:
    requests: int  # answered, whatever the status
    errors: int
    non200: int  # answers other than 200, among the errors; the rest are socket errors
    duration_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    # Filled in by `measure`: the server's CPU time per request (all its processes), and the
    # share of the machine's CPU that went to anything but the server, the load generator and
    # the services it uses (another process or the hypervisor): above a few %, the figures are
    # low.
    cpu_ms_per_request: float = 0.0
    other_cpu_pct: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0


@dataclass
class Target:
    name: str
    label: str
    order: int | None
    path: str = ""
    status: int = 0
    bytes: int = 0
    sql_queries: int = 0
    cold_sql_queries: int | None = None
    cold_ms: float | None = None
    result: Measurement | None = None

    def as_json(self) -> dict[str, Any]:
        assert self.result is not None
        data: dict[str, Any] = {"path": "/healthz"} if self.order is None else {"order": self.order}
        data.update(
            rps=round(self.result.rps, 1),
            p50_ms=round(self.result.p50_ms, 2),
            p95_ms=round(self.result.p95_ms, 2),
            p99_ms=round(self.result.p99_ms, 2),
            requests=self.result.requests,
            errors=self.result.errors,
            sql_queries=self.sql_queries,
            bytes=self.bytes,
            server_cpu_ms_per_request=round(self.result.cpu_ms_per_request, 2),
            other_cpu_pct=round(self.result.other_cpu_pct, 1),
        )
        if self.cold_ms is not None:
            data.update(cold_sql_queries=self.cold_sql_queries, cold_ms=round(self.cold_ms, 2))
        return data


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    description: str


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """A second Ctrl-C must not cut the cleanup short (each step of it is bounded in time)."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# --- setup ----------------------------------------------------------------------------------


def bench_environment(database_url: str, redis_url: str, static_root: Path) -> dict[str, str]:
    """Production settings, except plain http on loopback."""
    env = dict(os.environ)
    env.update(
        DEBUG="0",
        SECRET_KEY="bench-only-secret-key-not-for-production-0123456789abcdef",
        SHOPIFY_CREDENTIALS_KEY="YmVuY2gtb25seS1rZXktYmVuY2gtb25seS1rZXktMTI=",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=database_url,
        # The production default, stated so that a leftover DATABASE_CONN_MAX_AGE=0 (as the test
        # suite uses) cannot make every request open a new PostgreSQL connection.
        DATABASE_CONN_MAX_AGE="60",
        REDIS_URL=redis_url,
        # Its own key space: the test suite shares Redis db 15 and clears it.
        CACHE_KEY_PREFIX="portal-bench",
        STATIC_ROOT=str(static_root),
        PYTHONUNBUFFERED="1",
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)  # manage.py and portal.wsgi name theirs
    return env


def database_name(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise SetupError(f"BENCH_DATABASE_URL={url!r} is not a postgres:// URL")
    name = parts.path.lstrip("/")
    # The database is dropped at both ends of the run: refuse a name that is not obviously ours.
    if "bench" not in name:
        raise SetupError(f"refusing to drop and recreate {name!r}: its name must contain 'bench'")
    return name


def recreate_database(url: str, *, create: bool) -> None:
    """Drop the bench database if it exists, then create it again unless `create` is False."""
    import psycopg
    from psycopg import sql

    name = database_name(url)
    maintenance = urlsplit(url)._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            if create:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as error:
        raise SetupError(f"PostgreSQL at {maintenance}: {error}") from error


def manage(env: dict[str, str], *args: str) -> str:
    command = [str(PYTHON), "manage.py", *args]
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )
    except subprocess.TimeoutExpired as error:
        raise SetupError(f"manage.py {args[0]} took longer than 10 minutes") from error
    if done.returncode != 0:
        raise SetupError(
            f"manage.py {args[0]} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return done.stdout


def prepare_site(env: dict[str, str], workdir: Path, targets: list[Target]) -> None:
    print("setup: migrate, load_demo, collectstatic", flush=True)
    manage(env, "migrate", "--no-input")
    # The demo store's orders come from the sandbox store, through the Admin API as from Shopify;
    # the server runs without it, as in production: the order page does not call Shopify.
    with sandbox_store(env, workdir) as sandbox_url:
        manage(dict(env, SANDBOX_URL=sandbox_url), "load_demo")
    manage(env, "collectstatic", "--no-input")
    wanted = json.dumps({target.name: target.order for target in targets})
    output = manage(env, "shell", "-c", PROBE % wanted)
    line = next((x for x in output.splitlines() if x.startswith("BENCH_PROBE ")), None)
    if line is None:
        raise SetupError(f"the probe printed no result:\n{output}")
    found = json.loads(line.removeprefix("BENCH_PROBE "))
    for target in targets:
        target.path = found[target.name]["path"]
        target.status = found[target.name]["status"]
        target.bytes = found[target.name]["bytes"]
        target.sql_queries = found[target.name]["sql_queries"]
        target.cold_sql_queries = found[target.name].get("cold_sql_queries")
        target.cold_ms = found[target.name].get("cold_ms")


@contextlib.contextmanager
def sandbox_store(env: dict[str, str], workdir: Path, timeout: float = 30.0) -> Iterator[str]:
    """`manage.py sandbox` on a free loopback port until the block ends, however it ends."""
    port = free_port()
    log = workdir / "sandbox.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [str(PYTHON), "manage.py", "sandbox", f"--port={port}", "--seed=empty"],
            cwd=ROOT,
            env=dict(env, SANDBOX_ENABLED="1"),  # the command exists only then
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise SetupError(f"the sandbox store exited:\n{log_tail(log)}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if get(port, "/sandbox/bucket", timeout=2)[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise SetupError(f"the sandbox store did not answer:\n{log_tail(log)}")
            time.sleep(0.2)
        yield f"http://{HOST}:{port}"
    finally:
        with interrupts_deferred():
            stop_process(process)


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workdir: Path, args: argparse.Namespace) -> Iterator[Server]:
    """Serve the site on a free loopback port until the block ends, however it ends."""
    port = free_port()
    log = workdir / "gunicorn.log"
    # gthread, 2 processes x 2 threads, each process taking at most its share of the clients:
    # - not the sync worker: it closes the connection after every response, so it cannot serve
    #   keep-alive clients at all;
    # - one process per core: the order page is CPU-bound (~11 ms of server CPU per request,
    #   nearly all of it Python under the GIL), so more processes or threads only add
    #   switching; the second thread lets a process render one page while another waits on
    #   PostgreSQL;
    # - --worker-connections = clients / workers: keep-alive connections stay with the process
    #   that accepted them, and the kernel hands them out unevenly (8/0 happened); one process
    #   with every client halves the throughput (measured: 77 against 150-170 req/s). The cap
    #   makes the split even, so that runs compare. It also caps idle keep-alive connections at
    #   worker_connections - threads per process: above that gunicorn closes one, and the
    #   client reconnects (a few % of the trivial view's requests, none of the order page's).
    # Measured alternatives (order #1001, req/s): 2x4 uncapped 77-170, 3x3 94-170, sync x3 124,
    # sync x5 156, 2x1 capped 165-170, 3x1 capped 160-171, 2x2 capped 168-172.
    # (At least threads + 1, or gunicorn would keep no connection alive at all.)
    connections = max(math.ceil(args.clients / args.workers), args.threads + 1)
    command = [
        str(GUNICORN),
        "portal.wsgi:application",
        f"--bind={HOST}:{port}",
        f"--worker-class={args.worker_class}",
        f"--workers={args.workers}",
        f"--threads={args.threads}",
        f"--worker-connections={connections}",
        "--keep-alive=5",
        "--graceful-timeout=5",
        "--timeout=30",
        "--no-control-socket",  # gunicorn's default socket path is shared by every instance
        "--log-level=warning",
        "--error-logfile=-",
    ]
    description = f"gunicorn {args.worker_class}, {args.workers} workers"
    if args.worker_class == "gthread":
        description += f" x {args.threads} threads, at most {connections} connections each"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us, and we stop it in order
        )
    server = Server(process=process, port=port, log=log, description=description)
    try:
        wait_until_ready(server)
        yield server
    finally:
        with interrupts_deferred():
            stop(server)


def wait_until_ready(server: Server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SetupError(
                f"gunicorn exited ({server.process.returncode}):\n{log_tail(server.log)}"
            )
        with contextlib.suppress(OSError, http.client.HTTPException):
            status, _body = get(server.port, "/healthz", timeout=2)
            if status == 200:
                return
        time.sleep(0.2)
    raise SetupError(f"/healthz did not answer 200 within {timeout:.0f} s:\n{log_tail(server.log)}")


def stop(server: Server) -> None:
    stop_process(server.process)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # graceful: finish the requests in flight, then exit
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        # Its own session (start_new_session), so its group holds it and its children only
        # (gunicorn's workers).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


# --- load generators ------------------------------------------------------------------------


def find_wrk() -> str | None:
    """wrk's path; as root, install Debian's package first if it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    print("wrk is missing: apt-get install -y wrk", flush=True)
    apt_env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "wrk"]):
        try:
            done = subprocess.run(command, env=apt_env, capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            print(f"  {' '.join(command)} timed out", flush=True)
            return None
        if done.returncode != 0:
            print(f"  {' '.join(command)} failed:\n{done.stderr.strip()}", flush=True)
            return None
    return shutil.which("wrk")


def run_wrk(
    wrk: str, script: Path, port: int, path: str, clients: int, seconds: int
) -> Measurement:
    threads = max(1, min(2, clients))  # 2 cores, shared with the server
    command = [
        wrk,
        f"--threads={threads}",
        f"--connections={clients}",
        f"--duration={seconds}s",
        "--timeout=5s",
        f"--script={script}",
        f"http://{HOST}:{port}{path}",
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30)
    except subprocess.TimeoutExpired as error:
        raise SetupError(f"wrk did not finish within {seconds + 30} s") from error
    match = re.search(r"^BENCH_WRK (\{.*\})$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or match is None:
        raise SetupError(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    data = json.loads(match.group(1))
    socket_errors = data["connect"] + data["read"] + data["write"] + data["timeout"]
    return Measurement(
        requests=data["requests"],
        errors=data["non200"] + socket_errors,
        non200=data["non200"],
        duration_s=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# What the Python client sends, given the client's index: method, body, headers.
PythonRequest = Callable[[int], tuple[str, bytes | None, dict[str, str]]]


def plain_get(_client: int) -> tuple[str, bytes | None, dict[str, str]]:
    return "GET", None, {}


def run_python(
    port: int, path: str, clients: int, seconds: int, request: PythonRequest = plain_get
) -> Measurement:
    """Closed loop, like wrk: each thread keeps one connection open and sends the next request
    as soon as the previous answer is read. Bounded by `seconds` plus one request timeout."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    non200 = [0] * clients
    start = time.perf_counter()
    deadline = start + seconds

    def client(index: int) -> None:
        conn: http.client.HTTPConnection | None = None
        mine = latencies[index]
        while time.perf_counter() < deadline:
            if conn is None:
                conn = http.client.HTTPConnection(HOST, port, timeout=5)
            method, body, headers = request(index)
            sent = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                conn.close()
                conn = None
                continue
            mine.append(time.perf_counter() - sent)
            if response.status != 200:
                errors[index] += 1
                non200[index] += 1
            if response.will_close:
                conn.close()
                conn = None
        if conn is not None:
            conn.close()

    workers = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=seconds + 30)
    elapsed = time.perf_counter() - start
    ordered = sorted(x * 1000 for per_client in latencies for x in per_client)
    return Measurement(
        requests=len(ordered),
        errors=sum(errors),
        non200=sum(non200),
        duration_s=elapsed,
        p50_ms=percentile(ordered, 50),
        p95_ms=percentile(ordered, 95),
        p99_ms=percentile(ordered, 99),
    )


# --- CPU accounting -------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class CpuSample:
    at: float  # monotonic seconds
    busy: float  # CPU seconds the whole machine spent not idle, steal included
    server: float  # gunicorn's processes (its own session)
    bench: float  # the services' processes, this script and its reaped children (wrk)


# Processes (by name prefix) that serve the server during a measurement, so that their CPU does
# not count as taken by others.
SERVICES: tuple[str, ...] = ("postgres",)


def cpu_sample(server_session: int, services: tuple[str, ...] = SERVICES) -> CpuSample:
    """Linux only: /proc. A process that starts and ends between two samples (wrk) is not in
    /proc at either; it is in this process's children's rusage instead."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    busy = sum(ticks) - ticks[3] - ticks[4]  # all but idle and iowait
    server = serving = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()  # from field 3 (state) on
        used = int(fields[11]) + int(fields[12])  # utime + stime
        if int(fields[3]) == server_session:
            server += used
        elif name.startswith(services):
            serving += used
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    mine = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    return CpuSample(
        at=time.monotonic(),
        busy=busy / CLOCK_TICKS,
        server=server / CLOCK_TICKS,
        bench=serving / CLOCK_TICKS + mine,
    )


def measure(
    server: Server, load: Callable[[], Measurement], services: tuple[str, ...] = SERVICES
) -> Measurement:
    before = cpu_sample(server.process.pid, services)
    result = load()
    after = cpu_sample(server.process.pid, services)
    server_cpu = after.server - before.server
    other = (after.busy - before.busy) - server_cpu - (after.bench - before.bench)
    capacity = (after.at - before.at) * (os.cpu_count() or 1)
    result.cpu_ms_per_request = server_cpu * 1000 / result.requests if result.requests else 0.0
    result.other_cpu_pct = max(0.0, 100 * other / capacity) if capacity > 0 else 0.0
    return result


# --- report ---------------------------------------------------------------------------------


def print_table(targets: list[Target]) -> None:
    header = (
        f"{'target':<16}{'requests':>10}{'errors':>8}{'req/s':>10}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'SQL':>5}{'bytes':>7}"
        f"{'CPU ms/req':>12}{'other CPU':>11}"
    )
    print(header)
    print("-" * len(header))
    for target in targets:
        r = target.result
        assert r is not None
        print(
            f"{target.label:<16}{r.requests:>10}{r.errors:>8}{r.rps:>10.1f}"
            f"{r.p50_ms:>9.2f}{r.p95_ms:>9.2f}{r.p99_ms:>9.2f}"
            f"{target.sql_queries:>5}{target.bytes:>7}"
            f"{r.cpu_ms_per_request:>12.2f}{r.other_cpu_pct:>10.1f}%"
        )
    for target in targets:
        if target.cold_ms is not None:
            print(
                f"{target.label}: warm page {target.sql_queries} SQL query; cold page (cache"
                f" emptied) {target.cold_sql_queries} SQL queries, {target.cold_ms:.2f} ms"
                " in-process"
            )


def summary(targets: list[Target], args: argparse.Namespace, generator: str) -> dict[str, Any]:
    by_name = {target.name: target for target in targets}
    trivial = by_name["trivial"].result
    page = by_name["order_page"].result
    assert trivial is not None and page is not None
    ratio = page.rps / trivial.rps if trivial.rps > 0 else 0.0
    no_errors = all(target.result is not None and target.result.errors == 0 for target in targets)
    within = ratio >= BUDGET["ratio_min"] and page.p95_ms <= BUDGET["p95_ms_max"] and no_errors
    result: dict[str, Any] = {
        "benchmark": "order_page",
        "clients": args.clients,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "load_generator": generator,
        "server": {
            "worker_class": args.worker_class,
            "workers": args.workers,
            "threads": args.threads,
        },
    }
    result.update({target.name: target.as_json() for target in targets})
    result.update(
        ratio_order_page_rps_to_trivial_rps=round(ratio, 3),
        budget=BUDGET,
        within_budget=within,
    )
    return result


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None, doc: str | None = __doc__) -> argparse.Namespace:
    """The options both benchmarks share; `doc` is the module docstring of the one running."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per target")
    parser.add_argument("--warmup", type=int, default=2, help="seconds before each measurement")
    parser.add_argument("--clients", type=int, default=8, help="concurrent keep-alive clients")
    parser.add_argument(
        "--load-generator",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="auto: wrk if installed (installing it as root), else the Python one",
    )
    parser.add_argument("--worker-class", choices=("gthread", "sync"), default="gthread")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per gthread process")
    args = parser.parse_args(argv)
    for name in ("duration", "clients", "workers", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    if args.worker_class == "sync":
        args.threads = 1
    return args


def bench_urls() -> tuple[str, str]:
    """The database and Redis to use, checked before anything is touched."""
    database_url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    database_name(database_url)  # refuse a bad name before touching anything
    if not PYTHON.exists() or not GUNICORN.exists():
        raise SetupError(f"{PYTHON} and {GUNICORN} are needed: run `make venv` first")
    return database_url, redis_url


def choose_wrk(args: argparse.Namespace) -> str | None:
    """wrk's path, or None for the Python load generator."""
    wrk = None if args.load_generator == "python" else find_wrk()
    if wrk is None and args.load_generator == "wrk":
        raise SetupError("wrk is not installed and could not be installed")
    return wrk


@contextlib.contextmanager
def throwaway_site(database_url: str, redis_url: str) -> Iterator[tuple[dict[str, str], Path]]:
    """The server's environment and a temporary folder, with the bench database created empty;
    the database and the folder are gone when the block ends, however it ends."""
    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    try:
        env = bench_environment(database_url, redis_url, workdir / "static")
        db_name = database_name(database_url)
        print(f"setup: database {db_name} (dropped, created), redis {redis_url}", flush=True)
        recreate_database(database_url, create=True)
        yield env, workdir
    finally:
        with interrupts_deferred():
            with contextlib.suppress(SetupError):
                recreate_database(database_url, create=False)
            shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace) -> dict[str, Any]:
    database_url, redis_url = bench_urls()
    wrk = choose_wrk(args)
    generator = "wrk" if wrk else "python"
    targets = [Target(name=name, label=label, order=order) for name, label, order in TARGETS]

    with throwaway_site(database_url, redis_url) as (env, workdir):
        script = workdir / "report.lua"
        script.write_text(WRK_SCRIPT)

        def load(port: int, path: str, seconds: int) -> Measurement:
            if wrk:
                return run_wrk(wrk, script, port, path, args.clients, seconds)
            return run_python(port, path, args.clients, seconds)

        prepare_site(env, workdir, targets)
        for target in targets:
            if target.status != 200:
                print(f"warning: {target.label} answers {target.status}, not 200", flush=True)

        with gunicorn(env, workdir, args) as server:
            print(f"server: {server.description}, on http://{HOST}:{server.port}", flush=True)
            print(
                f"load generator: {generator}, {args.clients} keep-alive clients, "
                f"{args.warmup} s warm-up then {args.duration} s per target",
                flush=True,
            )
            if not wrk:
                print("  (the Python client shares the 2 cores and its GIL: wrk reads higher)")
            for target in targets:
                if args.warmup:
                    load(server.port, target.path, args.warmup)
                result = measure(server, partial(load, server.port, target.path, args.duration))
                target.result = result
                print(f"  {target.label}: {result.rps:.1f} req/s", flush=True)
                warn_if_other_cpu(result)
            if any(target.result and target.result.errors for target in targets):
                print(f"some requests failed; the server's log ends with:\n{log_tail(server.log)}")

    print()
    print_table(targets)
    return summary(targets, args, generator)


def warn_if_other_cpu(result: Measurement) -> None:
    if result.other_cpu_pct > OTHER_CPU_WARNING_PCT:
        print(
            f"  warning: {result.other_cpu_pct:.0f} % of the CPU went elsewhere "
            "(another process, or the hypervisor): these figures are low",
            flush=True,
        )


def execute(bench: Callable[[argparse.Namespace], dict[str, Any]], args: argparse.Namespace) -> int:
    """Run a benchmark and print its summary as the last line; clean up on Ctrl-C or `kill`."""

    def terminate(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)  # clean up on `kill` as on Ctrl-C
    try:
        result = bench(args)
    except KeyboardInterrupt:
        print("\ninterrupted: server stopped, bench database dropped (if made)", file=sys.stderr)
        return 130
    except SetupError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    return execute(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
