"""`make test` sets up the browser, or stops at once with one line saying what to install."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def fake_bin(tmp_path, uid: str, with_apt: bool) -> Path:
    """A folder of stand-ins put first on PATH: `id` answers `uid`; apt-get records its calls."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    if with_apt:
        (folder / "apt-get").write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/apt-calls\n')
    for script in folder.iterdir():
        script.chmod(0o755)
    return folder


def run_make(tmp_path, folder: Path, chromium: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PATH": f"{folder}:{os.environ['PATH']}",
        "CHROMIUM": chromium,
        # A pytest that ran would print its session header; none must appear.
        "PYTEST_ARGS": "--collect-only -q tests/test_make_test_setup.py",
    }
    return subprocess.run(
        ["make", "--no-print-directory", "test"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_without_chromium_and_without_root_make_test_stops_with_one_line(tmp_path):
    result = run_make(tmp_path, fake_bin(tmp_path, "1000", with_apt=True), "/nonexistent/chromium")
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    message = [line for line in errors if line.startswith("make test:")]
    assert len(message) == 1, result.stderr
    assert "apt-get install chromium" in message[0]
    assert "/nonexistent/chromium" in message[0]
    assert "test_make_test_setup" not in result.stdout  # pytest never started
    assert not (tmp_path / "apt-calls").exists()  # no install tried without root


def test_as_root_make_test_installs_chromium_with_apt_before_running(tmp_path):
    # The stand-in apt-get installs nothing, so the script must notice and still stop clearly.
    result = run_make(tmp_path, fake_bin(tmp_path, "0", with_apt=True), "/nonexistent/chromium")
    calls = (tmp_path / "apt-calls").read_text()
    assert "install" in calls and "chromium" in calls
    assert result.returncode != 0
    assert "test_make_test_setup" not in result.stdout


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs /usr/bin/chromium")
def test_with_chromium_make_test_runs_pytest(tmp_path):
    result = run_make(tmp_path, fake_bin(tmp_path, "1000", with_apt=False), "/usr/bin/chromium")
    assert result.returncode == 0, result.stderr
    assert "test_make_test_setup" in result.stdout


def test_without_npm_ensure_prism_says_so_in_one_line_and_lets_the_suite_run(tmp_path):
    folder = fake_bin(tmp_path, "1000", with_apt=False)  # not root: no apt-get tried
    env = {**os.environ, "PATH": f"{folder}:/usr/bin/env-only-missing", "PRISM_DIR": str(tmp_path)}
    result = subprocess.run(
        ["/bin/bash", str(ROOT / "scripts" / "ensure-prism")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0  # the Prism tests skip; nothing else is held up
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "npm not found" in lines[0], result.stderr
