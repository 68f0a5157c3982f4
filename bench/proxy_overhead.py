"""Benchmark: the proxy's overhead, a list and a get through B (proxy mode) against direct to A.

Starts two real servers on loopback, as the end-to-end test does: A in local mode with the demo
snapshot, B in proxy mode (ENVADMIN_BACKEND=runai) whose RUNAI_URL points at a small TCP relay in
front of A. The relay counts the connections B opens to A, which shows whether B's pooled
requests session reuses them. Then it times, in the same run and interleaved, sequential
requests direct to A and through B, and prints medians, p95s and the ratio B/A.

    .venv/bin/python bench/proxy_overhead.py [--repeat 50] [--warmup 5]

Both servers run gunicorn's gthread worker: the default sync worker answers every request with
`Connection: close`, so no client of it (B included) could ever reuse a connection. B runs one
worker process, so one pooled session serves all of B's requests.
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

import _common
import requests
from _common import HOST, Server

DEADLINE = 60.0  # seconds for the whole run; every step below is bounded
STARTED = time.monotonic()
ENVIRONMENTS = "/api/v1/asset/environment"


def remaining() -> float:
    left = DEADLINE - (time.monotonic() - STARTED)
    if left <= 0:
        raise SystemExit(f"gave up: the run took longer than {DEADLINE:g} s")
    return left


def base_env(database: Path, **extra: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("RUNAI_") and key not in ("ENVADMIN_BACKEND", "DATABASE_URL")
    }
    env.update(
        DATABASE_URL=f"sqlite:///{database}",
        DJANGO_ALLOWED_HOSTS=f"{HOST},localhost",
        DJANGO_DEBUG="false",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def manage(env: dict, *args: str) -> str:
    return _common.manage(env, *args, timeout=min(60.0, remaining()))


class Relay:
    """127.0.0.1:<port> -> upstream, byte for byte; counts the upstream connections it opens."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.listener = socket.create_server((HOST, 0))
        self.listener.settimeout(0.2)  # so the accept loop notices stop()
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def start(self) -> "Relay":
        self._thread.start()
        return self

    def count(self) -> int:
        with self._lock:
            return self.connections

    def _accept(self):
        while not self._stopped.is_set():
            try:
                downstream, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            downstream.settimeout(None)
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                downstream.close()
                continue
            upstream.settimeout(None)
            for sock in (downstream, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.connections += 1
                self._sockets += [downstream, upstream]
            for source, sink in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            try:
                sink.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def stop(self):
        self._stopped.set()
        self._thread.join(timeout=2)
        self.listener.close()
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()


def fetch(session: requests.Session, url: str, timeout: float) -> tuple[float, object]:
    start = time.perf_counter()
    response = session.get(url, timeout=timeout)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET {url} -> {response.status_code}: {response.text[:500]}")
    return elapsed, response.json()


def measure(sessions, urls, relay, repeat, warmup, timeout):
    """Interleaved sequential GETs (A, B, A, B, ...), so drift hits both the same way.

    (times direct, times through B, same JSON both ways, upstream connections opened by B
    during the measured requests).
    """
    times = ([], [])
    bodies = [None, None]
    opened_at = None
    for i in range(warmup + repeat):
        remaining()
        if i == warmup:
            opened_at = relay.count()
        for side in (0, 1):
            elapsed, bodies[side] = fetch(sessions[side], urls[side], timeout)
            if i >= warmup:
                times[side].append(elapsed)
    return times[0], times[1], bodies[0] == bodies[1], relay.count() - opened_at


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50, help="measured requests per target")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured requests first")
    parser.add_argument("--timeout", type=float, default=10, help="seconds, per HTTP call")
    args = parser.parse_args()
    if args.repeat < 2:
        parser.error("--repeat must be at least 2")

    workdir = Path(tempfile.mkdtemp(prefix="envadmin-proxy-bench-"))
    servers: list[Server] = []
    relay = None
    sessions: list[requests.Session] = []
    try:
        env_a = base_env(workdir / "a.sqlite3", ENVADMIN_BACKEND="local")
        manage(env_a, "migrate", "--noinput")
        manage(env_a, "load_snapshot", "envadmin/demo/demo.yaml")
        account = json.loads(
            manage(
                env_a,
                "create_service_account",
                "bench",
                "--role",
                "System administrator",
                "--scope",
                "tenant",
            )  # fmt: skip
        )
        a = Server("A", env_a, workers=2, logdir=workdir)
        servers.append(a)
        a.wait_ready(min(30.0, remaining()))

        relay = Relay((HOST, a.port)).start()
        env_b = base_env(
            workdir / "b.sqlite3",
            ENVADMIN_BACKEND="runai",
            RUNAI_URL=f"http://{HOST}:{relay.port}",
        )
        manage(env_b, "migrate", "--noinput")
        b = Server("B", env_b, workers=1, logdir=workdir)
        servers.append(b)
        b.wait_ready(min(30.0, remaining()))

        answer = requests.post(
            a.url + "/api/v1/token",
            json={
                "grantType": "client_credentials",
                "clientID": account["clientId"],
                "clientSecret": account["clientSecret"],
            },
            timeout=args.timeout,
        )
        if answer.status_code != 200:
            raise SystemExit(f"token: HTTP {answer.status_code}: {answer.text[:500]}")
        token = answer.json()["accessToken"]
        for _ in (a, b):
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {token}"
            sessions.append(session)

        list_path = ENVIRONMENTS + "?usageInfo=true&projectId=1"
        _, listing = fetch(sessions[0], a.url + list_path, args.timeout)
        entries = listing["entries"]
        if not entries:
            raise SystemExit("the demo list for project 1 is empty: nothing to get")
        get_path = f"{ENVIRONMENTS}/{entries[0]['meta']['id']}"

        before = relay.count()  # 0: B's readiness probe sent no token, so forwarded nothing
        results = {}
        for label, path in (("list", list_path), ("get", get_path)):
            results[label] = measure(
                sessions, [a.url + path, b.url + path], relay, args.repeat, args.warmup,
                args.timeout,
            )  # fmt: skip
        opened_total = relay.count() - before
        opened_measured = sum(result[3] for result in results.values())
        forwarded = 2 * (args.repeat + args.warmup)

        print(
            f"proxy overhead: {args.repeat} sequential requests per target after "
            f"{args.warmup} warm-up, interleaved; A local (gunicorn -w 2), "
            f"B proxy -> relay -> A (gunicorn -w 1)"
        )
        print(f"list = GET {list_path} ({len(entries)} entries); get = GET {get_path}")
        print(f"{'':5} {'A med ms':>9} {'A p95 ms':>9} {'B med ms':>9} {'B p95 ms':>9} "
              f"{'B/A med':>8} {'+ms med':>8} {'same JSON':>10}")  # fmt: skip
        for label, (direct, proxied, same, _) in results.items():
            med_a, med_b = statistics.median(direct), statistics.median(proxied)
            print(
                f"{label:5} {med_a:>9.2f} {p95(direct):>9.2f} {med_b:>9.2f} {p95(proxied):>9.2f} "
                f"{med_b / med_a:>8.2f} {med_b - med_a:>8.2f} {'yes' if same else 'NO':>10}"
            )
        print(
            f"upstream connections B opened to A (counted by the relay): {opened_measured} "
            f"during the {2 * args.repeat} measured requests, {opened_total} in all for "
            f"{forwarded} forwarded"
            + (" -> reused" if opened_total < forwarded / 2 else " -> NOT reused")
        )
        print(f"total run: {time.monotonic() - STARTED:.1f} s")
    finally:
        for session in sessions:
            session.close()
        for server in reversed(servers):
            server.stop()
        if relay is not None:
            relay.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
