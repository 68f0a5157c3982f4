"""Helpers shared by the benchmarks: the machine header, manage.py, a gunicorn on loopback.

The scripts in bench/ run as `python bench/<name>.py`, so bench/ is on sys.path and they
`import _common`. Nothing here needs Django to be set up.
"""

import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"


# --- the machine and versions header of every report ------------------------------------------


def host_info() -> dict:
    """Platform, CPU, memory, Python and Django versions, load average now."""
    import django

    return {
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpus": f"{os.cpu_count()} ({len(os.sched_getaffinity(0))} usable)"
        if hasattr(os, "sched_getaffinity")
        else str(os.cpu_count()),
        "memory": memory(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "load average at the end (1, 5, 15 min)": " ".join(f"{v:.2f}" for v in os.getloadavg()),
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def commit() -> str:
    """The commit measured, flagged when envadmin/ or templates/ hold uncommitted changes."""

    def git(*args):
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "envadmin", "templates")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if dirty:
        return f"commit {head} with uncommitted changes in envadmin/ or templates/"
    return f"commit {head}"


def tree_cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a live process and its live children (a gunicorn master
    and its workers), from /proc; 0 where /proc is not there."""
    ticks, total = os.sysconf("SC_CLK_TCK"), 0.0
    for entry in Path("/proc").iterdir() if Path("/proc/self/stat").exists() else ():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if entry.name == str(pid) or fields[1] == str(pid):  # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


# --- processes ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def manage(env: dict, *args: str, timeout: float = 60.0) -> str:
    """Run `manage.py args` with `env`; its stdout, or exit with its stderr."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {args[0]} failed:\n{done.stderr[-2000:]}")
    return done.stdout


class Server:
    """A gunicorn serving envadmin on a free loopback port.

    gthread workers: the default sync worker answers every request with `Connection: close`,
    so no client could ever reuse a connection.
    """

    def __init__(
        self, name: str, env: dict, workers: int, logdir: Path, threads: int = 2, root: Path = ROOT
    ):
        self.name = name
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log = logdir / f"{name}.log"
        command = [
            sys.executable, "-m", "gunicorn", "envadmin.wsgi:application",
            "-w", str(workers), "-k", "gthread", "--threads", str(threads), "--keep-alive", "30",
            "--graceful-timeout", "3", "--bind", f"{HOST}:{self.port}",
        ]  # fmt: skip
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_ready(self, timeout: float = 30.0, path: str = "/api/v1/asset/environment"):
        """Until it answers HTTP at all (a 401 without a token will do)."""
        limit = time.monotonic() + timeout
        while time.monotonic() < limit:
            if self.process.poll() is not None:
                raise SystemExit(f"server {self.name} exited:\n{self.log.read_text()[-2000:]}")
            try:
                requests.get(self.url + path, timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise SystemExit(f"server {self.name} did not answer:\n{self.log.read_text()[-2000:]}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=8)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
