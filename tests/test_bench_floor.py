"""bench/floor.py's pieces on a tiny data set, so the harness cannot rot silently: every heavy
endpoint answers, gets a floor over the same rows, and lands in the results file."""

import os
import sys
from argparse import Namespace
from pathlib import Path

import orjson
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import dataset  # noqa: E402
import floor  # noqa: E402
import rss  # noqa: E402
import scale  # noqa: E402

SIZE = 50


@pytest.fixture
def data(db, monkeypatch):
    # The hygiene report judges every project apart: 4 of them keep this test fast.
    monkeypatch.setattr(dataset, "CLUSTERS", 2)
    monkeypatch.setattr(dataset, "DEPARTMENTS", 2)
    monkeypatch.setattr(dataset, "PROJECTS", 4)
    return dataset.build(SIZE)


def test_every_endpoint_is_measured_against_a_floor_and_reported(data, tmp_path):
    clients = floor.clients(data)
    lines = floor.measure(clients, floor.HEAVY, Namespace(repeat=1, cap=600.0), skip={})

    assert set(lines) == {heavy.key for heavy in floor.HEAVY}
    for key, line in lines.items():
        assert not line.endpoint.error, (key, line.endpoint.error)
        assert len(line.endpoint.times) == 1 and len(line.floor.times) == 1, key
        assert line.floor.median > 0 and line.bytes > 0 and line.rows > 0, key
    # Each floor selects the rows its answer covers.
    assert lines["api-all"].rows == SIZE
    project = clients["api"].get(f"/api/v1/asset/environment?projectId=1&{floor.COMPLY}")
    assert lines["api-list"].rows == len(project.json()["entries"]) < SIZE
    assert lines["matrix"].rows == lines["api-list"].rows

    pages = [p for p in scale.probes(data.project, "") if p.key in floor.PAGE_PROBES]
    run = {
        "data": data,
        "built": 1.0,
        "lines": lines,
        "pages": scale.measure(clients, pages, 1),
        "rss": None,
        "queries": {heavy.key: floor.floor_query(heavy) for heavy in floor.HEAVY},
    }
    runs = {SIZE: run}
    checks = floor.acceptance(runs)
    assert [v for v, line, _ in checks if line.startswith("1.")] == ["NOT RUN"] * 6
    assert {v for v, line, _ in checks if line.startswith("2.")} <= {"PASS", "FAIL"}
    args = Namespace(repeat=1)
    output = tmp_path / "floor-results.md"
    info = {"envadmin": "commit test"}
    floor.write_markdown(output, args, runs, checks, info, floor.datetime.now(floor.UTC), 1.0)
    text = output.read_text()
    for heavy in floor.HEAVY:
        assert text.count(f"| {heavy.label} | {SIZE} |") == 1, heavy.label
        assert f"- {heavy.label}: `" in text  # how its floor is defined
    assert "SELECT" in text and "orjson.dumps" in text


def test_floor_writes_the_answer_it_was_given():
    heavy = next(h for h in floor.HEAVY if h.writer == "yaml")
    payload = floor.answer_payload(heavy, b"- name: a\n  spec: {image: x}\n")
    assert orjson.loads(floor.write(heavy, payload)) == [{"name": "a", "spec": {"image": "x"}}]
    page = next(h for h in floor.HEAVY if h.writer == "html")
    assert floor.write(page, floor.answer_payload(page, "<p>é</p>".encode())) == "<p>é</p>".encode()


def test_too_slow_skips_what_a_smaller_size_predicts_over_the_limit():
    slow, quick = floor.Line(), floor.Line()
    slow.endpoint.times, quick.endpoint.times = [40.0], [0.5]
    skip = floor.too_slow({1000: {"lines": {"hygiene": slow, "api-all": quick}}}, 10000, 300)
    assert list(skip) == ["hygiene"] and skip["hygiene"].startswith("not run")


def test_rss_reads_this_process():
    assert rss.status_kb(os.getpid(), "VmRSS") > 0


def test_line_2_is_read_from_the_sizes_alternating_when_measured(tmp_path):
    """Sizes measured minutes apart drift with the machine: line 2 reads the alternating
    measure, and the results file shows it."""

    def pages(page, partial, admin):
        times = {"page": page, "partial": partial, "admin": admin}
        return {key: scale.Result(times=[value], answered="50/50") for key, value in times.items()}

    def run(size, alternating=None):
        return {"data": None, "built": 1.0, "lines": {}, "rss": None, "queries": {},
                "pages": pages(0.010, 0.010, 0.100) if size == 1000 else pages(0.050, 0.050, 0.1),
                "alternating": alternating}  # fmt: skip

    apart = {1000: run(1000), 2000: run(2000)}
    line_2 = [v for v, line, _ in floor.acceptance(apart) if line.startswith("2.")]
    assert line_2 == ["FAIL", "PASS", "FAIL", "PASS"]  # 5x their 1,000 times

    alternating = {"small": pages(0.040, 0.040, 0.1), "large": pages(0.044, 0.050, 0.1)}
    turns = {1000: run(1000), 2000: run(2000, alternating)}
    checks = [(v, line) for v, line, _ in floor.acceptance(turns) if line.startswith("2.")]
    assert [v for v, _ in checks] == ["PASS", "PASS", "FAIL", "PASS"]  # 1.1x and 1.25x
    assert all(line.endswith("sizes alternating") for _, line in checks)
    assert len(floor.alternating_rows(turns)) == 6
    assert floor.alternating_rows(apart) == []
