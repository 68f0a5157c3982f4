"""Stoplight Prism serving Run:ai's contract files, for proxy mode against answers envadmin did
not write: the contract's examples (static mode) or random schema-valid answers (dynamic mode,
one seed per Prism process, so a failure can be replayed with its seed).

Prism is installed by scripts/ensure-prism into .prism/ (pinned there). Prism serves one
document per process, so the contract files envadmin forwards to are merged into one, in a tmp
dir; the token operation loses the contract's global bearer requirement, which Run:ai does not
enforce on it. Prism checks every request against the contract and logs each violation.

The policy contract is left out: Prism 5.16 cannot serve it (its examples end in
SCHEMA_TOO_COMPLEX, its random answers take 5 to 15 s each, its request checks several
seconds), so the policy paths answer 404 here and the pages show that refusal.
"""

import contextlib
import json
import re
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRISM = ROOT / ".prism" / "node_modules" / ".bin" / "prism"
CONTRACT = ROOT / "envadmin" / "contract" / "runai-api"
# The contract files of the paths envadmin forwards to in proxy mode.
SERVED = ("token", "environment", "org-unit")
# Generous: a busy 2-core host (CI running other suites) slows its start a lot.
STARTUP_SECONDS = 240
VIOLATION = re.compile(r"\[VALIDATOR\].*✖\s+error\s+(Violation: request\..*)")
VIOLATION_HEADER = "sl-violations"


def merged_contract(directory: Path) -> Path:
    merged: dict = {"paths": {}, "components": {}}
    for name in SERVED:
        document = json.loads((CONTRACT / f"{name}.openapi.json").read_text())
        for key, value in document.items():
            if key not in ("paths", "components"):
                merged.setdefault(key, value)
        merged["paths"].update(document["paths"])
        for section, items in document.get("components", {}).items():
            merged["components"].setdefault(section, {}).update(items)
    merged["paths"]["/api/v1/token"]["post"]["security"] = []
    path = directory / "runai-contract.json"
    path.write_text(json.dumps(merged))
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Prism:
    """One Prism process: static when seed is None, else dynamic with that seed."""

    seed: int | None
    contract: Path
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mode(self) -> str:
        return "static" if self.seed is None else f"dynamic seed {self.seed}"

    def start(self) -> "Prism":
        # Warnings and errors only: every request violation is an error line.
        command = [str(PRISM), "mock", "-p", str(self.port), "-h", "127.0.0.1", "-v", "warn",
                   str(self.contract)]  # fmt: skip
        if self.seed is not None:
            command[2:2] = ["-d", "--seed", str(self.seed)]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        return self

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Prism ({self.mode}) exited:\n{self.log_text()[-2000:]}")
            with socket.socket() as probe:  # its "listening" line is below the log level
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"Prism ({self.mode}) did not listen within {STARTUP_SECONDS} s")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def violations(self) -> list[str]:
        """The requests Prism found against the contract (it answers them with a 4xx)."""
        return VIOLATION.findall(self.log_text())

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


class Pool:
    """Prism processes started a few at a time ahead of use, since each takes a while to
    parse the contract: `take()` hands them out in order, each listening."""

    def __init__(self, contract: Path, logs: Path, seeds, ahead: int = 2):
        self.waiting = [
            Prism(seed, contract, logs / f"prism-{seed or 'static'}.log") for seed in seeds
        ]
        self.ahead = ahead
        self.started: list[Prism] = []

    def _top_up(self):
        while (
            self.waiting and len([p for p in self.started if p.process.poll() is None]) < self.ahead
        ):
            self.started.append(self.waiting.pop(0).start())

    def __iter__(self):
        self._top_up()
        while self.started:
            prism = self.started.pop(0)
            try:
                prism.wait_until_up()
                self._top_up()
                yield prism
            finally:
                prism.stop()
            self._top_up()

    def close(self):
        for prism in self.started + self.waiting:
            prism.stop()


def prism_available() -> bool:
    return PRISM.exists()


@contextlib.contextmanager
def pool(tmp: Path, seeds):
    contract = merged_contract(tmp)
    prisms = Pool(contract, tmp, seeds)
    try:
        yield prisms
    finally:
        prisms.close()
