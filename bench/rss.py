"""The memory one request costs a real server process: peak RSS during it minus RSS before.

Import after django.setup() (bench/scale.py's configure). `measure(token, path)` serves the
current database with one gunicorn worker (bench/_common.Server: 1 worker, 1 thread), warms it
with a small request (`warm_path`), reads the worker's VmRSS, resets its VmHWM (`echo 5 >
/proc/PID/clear_refs`), requests `path` and reads the answer to the end, then reads VmHWM.
Linux only (/proc).
"""

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import _common
import requests

MB = 1024 * 1024


@dataclass
class Rss:
    idle_mb: float = 0.0
    peak_mb: float = 0.0
    after_mb: float = 0.0
    seconds: float = 0.0
    bytes: int = 0
    error: str = ""

    @property
    def growth_mb(self) -> float:
        return self.peak_mb - self.idle_mb

    def summary(self) -> str:
        if self.error:
            return self.error
        return (
            f"grew {self.growth_mb:.0f} MB (idle {self.idle_mb:.0f} MB, peak {self.peak_mb:.0f} "
            f"MB, {self.after_mb:.0f} MB after); {self.bytes / MB:.1f} MB answered over HTTP "
            f"in {self.seconds:.2f} s"
        )


def status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def worker_pid(master: int, timeout: float = 10.0) -> int:
    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("gunicorn started no worker")


def server_env() -> dict:
    """The benchmark's settings for the server, with the database this process uses now."""
    from django.db import connection

    env = dict(os.environ)
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{connection.settings_dict['NAME']}"
    env.update(
        ENVADMIN_BACKEND="local", DJANGO_DEBUG="false", DJANGO_ALLOWED_HOSTS="127.0.0.1",
        PYTHONUNBUFFERED="1",
    )  # fmt: skip
    return env


def measure(token: str, path: str, warm_path: str) -> Rss:
    from django.db import connection

    env = server_env()
    connection.close()
    result = Rss()
    headers = {"Authorization": f"Bearer {token}"}
    with tempfile.TemporaryDirectory(prefix="envadmin-rss-") as logdir:
        server = _common.Server("rss", env, workers=1, logdir=Path(logdir), threads=1)
        try:
            server.wait_ready(timeout=60)
            pid = worker_pid(server.process.pid)
            # A small request through the same code warms it (imports, caches) without leaving
            # the allocator holding what a large answer took.
            warm = requests.get(server.url + warm_path, headers=headers, timeout=600)
            warm.raise_for_status()
            result.idle_mb = status_kb(pid, "VmRSS") / 1024
            Path(f"/proc/{pid}/clear_refs").write_text("5")
            start = time.perf_counter()
            with requests.get(server.url + path, headers=headers, stream=True, timeout=600) as r:
                r.raise_for_status()
                for chunk in r.iter_content(MB):
                    result.bytes += len(chunk)
            result.seconds = time.perf_counter() - start
            result.peak_mb = status_kb(pid, "VmHWM") / 1024
            result.after_mb = status_kb(pid, "VmRSS") / 1024
        except (OSError, RuntimeError, KeyError, requests.RequestException) as error:
            result.error = f"not measured: {error}"
        finally:
            server.stop()
    return result
