"""The gitops engine's parts that need no server: the file's bounds and stable output, the HTTP
target's paging, and that the command line loads without Django."""

import random
import subprocess
import sys

import pytest
import yaml

from envadmin.gitops import engine, files
from envadmin.gitops.http import MAX_PAGES, HttpTarget


def entry(name, scope="project", **placement):
    meta = {"name": name, "scope": scope, **placement}
    return {"meta": meta, "spec": {"image": "python:3.12", "command": "run"}, "ids": {"id": name}}


def test_written_files_are_ordered_by_placement_then_name_with_sorted_keys():
    entries = [
        entry("b", projectName="team-a"), entry("A", projectName="team-a"),
        entry("t", "tenant"), entry("z", "department", departmentName="d"),
        entry("c", projectName="team-0"),
    ]  # fmt: skip
    text = files.write(entries)
    assert text == files.write(random.sample(entries, len(entries)))
    names = [e["meta"]["name"] for e in yaml.safe_load(text)["environments"]]
    assert names == ["t", "z", "c", "A", "b"]
    assert "# id: A" in text
    assert text.index("command: run") < text.index("image: python")  # keys sorted
    assert len(files.read(text).entries) == 5  # what is written reads back


def test_more_entries_than_the_bound_are_refused_before_any_is_checked():
    many = {"environments": [{"meta": {}} for _ in range(files.MAX_ENTRIES + 1)]}
    with pytest.raises(files.FileError) as refused:
        files.read(yaml.safe_dump(many))
    assert refused.value.problems == ["environments: at most 5000 entries."]


def test_deep_nesting_is_refused():
    deep = "environments: " + "[" * 100 + "]" * 100
    with pytest.raises(files.FileError, match="nested deeper than 64 levels"):
        files.read(deep)


def test_prune_placements_are_checked_too():
    with pytest.raises(files.FileError) as refused:
        files.read("environments: []\nprune: [{scope: project}, {scope: galaxy}, 3]\n")
    assert refused.value.problems == [
        "prune[0]: projectName or projectId: required for scope 'project'.",
        "prune[1]: scope: must be one of tenant, cluster, department, project.",
        "prune[2]: must be a mapping like {scope: project, projectName: a}.",
    ]


class Pages:
    """A session whose project list answers `next` as the test says."""

    def __init__(self, next_of):
        self.next_of = next_of
        self.offsets = []

    def request(self, method, url, params=None, **kwargs):
        class Answer:
            status_code = 200
            content = b"{}"

        answer = Answer()
        if url.endswith("/token"):
            answer.json = lambda: {"accessToken": "t"}
        else:
            offset = params["offset"]
            self.offsets.append(offset)
            page = {"projects": [{"id": offset}], "next": self.next_of(offset)}
            answer.json = lambda: page
        return answer


def test_paging_follows_next_only_while_it_moves_forward():
    session = Pages(lambda offset: {0: 500, 500: 1000, 1000: 500}.get(offset))
    target = HttpTarget("http://runai.test", "id", "secret", session=session)
    assert [p["id"] for p in target.projects()] == [0, 500, 1000]
    assert session.offsets == [0, 500, 1000]  # a `next` going back ends the list


def test_paging_stops_at_the_page_cap():
    session = Pages(lambda offset: offset + 1)
    target = HttpTarget("http://runai.test", "id", "secret", session=session)
    with pytest.raises(engine.Refused, match="more than 1000 pages"):
        target.projects()
    assert len(session.offsets) == MAX_PAGES


def test_the_command_line_loads_without_django():
    code = (
        "import sys, envadmin.cli.main, envadmin.gitops.http; "
        "sys.exit(any(m.split('.')[0] in ('django', 'rest_framework') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
