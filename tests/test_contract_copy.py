"""The project's copy of Run:ai's contract must be the team's reference copy, byte for byte."""

import json
from pathlib import Path

import pytest

from tests.contract import PROJECT_COPY

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "runai-api"


def test_the_copy_holds_every_contract_file_and_each_is_valid_json():
    files = sorted(PROJECT_COPY.glob("*.openapi.json"))
    assert {f.name.split(".")[0] for f in files} >= {"environment", "token", "org-unit", "policy"}
    for path in files:
        assert json.loads(path.read_text())["openapi"].startswith("3."), path.name


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="no ../shared/runai-api beside the clone")
def test_the_copy_does_not_drift_from_the_reference():
    reference = {p.name: p.read_bytes() for p in REFERENCE.glob("*.json")}
    copy = {p.name: p.read_bytes() for p in PROJECT_COPY.glob("*.json")}
    assert sorted(copy) == sorted(reference), "files added or missing in the project's copy"
    drifted = [name for name in reference if copy[name] != reference[name]]
    assert not drifted, f"differ from ../shared/runai-api: {drifted}"
