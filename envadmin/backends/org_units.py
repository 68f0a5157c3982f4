"""The org units a caller sees, read to the end and bounded whatever the control plane answers.

An org-unit list answers {key: [...], "next": offset} while more pages remain. `next` is
followed only while it moves forward past the offset just read and the page held something,
for at most settings.RUNAI_MAX_PAGES pages and settings.RUNAI_PAGING_SECONDS: one odd answer
(a `next` that repeats, goes back or is not a number) must not hold a page until the worker is
killed. When reading stops early, `problem` says why, naming the upstream path, and the items
read so far are kept. Units without the id and name the pages need are left out, and said so.
"""

import time
from dataclasses import dataclass, field

from django.conf import settings

PAGE_LIMIT = 500


@dataclass
class AllPages:
    items: list[dict] = field(default_factory=list)
    problem: str = ""  # empty when the list was read to its end


def read_all_pages(list_page, caller, key: str, deadline: float | None = None) -> AllPages:
    """Every item of `list_page(caller, params)` (e.g. backend.list_departments) under `key`,
    until time.monotonic() passes `deadline` (default: RUNAI_PAGING_SECONDS from now)."""
    path = f"GET /api/v1/org-unit/{key}"
    result = AllPages()
    if deadline is None:
        deadline = time.monotonic() + settings.RUNAI_PAGING_SECONDS
    offset = 0
    for number in range(1, settings.RUNAI_MAX_PAGES + 1):
        page = list_page(caller, {"offset": offset, "limit": PAGE_LIMIT})
        items = page.get(key) if isinstance(page, dict) else None
        if not isinstance(items, list):
            result.problem = f"{path}: the answer has no list '{key}'."
            return result
        objects = [item for item in items if isinstance(item, dict)]
        if len(objects) < len(items):
            result.problem = f"{path}: '{key}' holds entries that are not objects (left out)."
        result.items += objects
        following = page.get("next")
        if following is None:
            return result
        if isinstance(following, bool) or not isinstance(following, int) or following <= offset:
            result.problem = (
                f"{path}: 'next' is {following!r} after offset {offset}, not further on; "
                "stopped there."
            )
            return result
        if not items:
            result.problem = (
                f"{path}: an empty page at offset {offset} still names a 'next'; stopped there."
            )
            return result
        if time.monotonic() > deadline:
            result.problem = (
                f"{path}: not finished within {settings.RUNAI_PAGING_SECONDS:g} s "
                f"({number} pages); stopped there."
            )
            return result
        offset = following
    result.problem = f"{path}: more than {settings.RUNAI_MAX_PAGES} pages; stopped there."
    return result


@dataclass
class OrgUnits:
    """Clusters by uuid, departments by str(id), projects by int(id), and what was left out."""

    clusters: dict[str, dict] = field(default_factory=dict)
    departments: dict[str, dict] = field(default_factory=dict)
    projects: dict[int, dict] = field(default_factory=dict)
    # What in the answers could not be used, naming the upstream path and field.
    problems: list[str] = field(default_factory=list)

    def keep(self, unit, path: str, id_field: str, id_fits) -> bool:
        """Whether a unit has the id and name the pages need; if not, says so once per path."""
        if not isinstance(unit, dict):
            return self._note(f"{path}: entries that are not objects are left out.")
        for name, fits in ((id_field, id_fits), ("name", _text)):
            if not fits(unit.get(name)):
                return self._note(
                    f"{path}: entries whose '{name}' is missing or not usable are left out."
                )
        return True

    def _note(self, problem: str) -> bool:
        if problem not in self.problems:
            self.problems.append(problem)
        return False


def read_org_units(backend, caller) -> OrgUnits:
    """Every cluster, department and project `caller` may see, as far as they can be used."""
    units = OrgUnits()
    # One budget for both lists: a page waits for org units at most this long in all.
    deadline = time.monotonic() + settings.RUNAI_PAGING_SECONDS
    clusters = backend.list_clusters(caller, {})
    if not isinstance(clusters, list):
        units.problems.append("GET /api/v1/clusters: the answer is not a list.")
        clusters = []
    for cluster in clusters:
        if units.keep(cluster, "GET /api/v1/clusters", "uuid", _text):
            units.clusters[cluster["uuid"]] = cluster
    departments = read_all_pages(backend.list_departments, caller, "departments", deadline)
    projects = read_all_pages(backend.list_projects, caller, "projects", deadline)
    units.problems += [pages.problem for pages in (departments, projects) if pages.problem]
    for unit in departments.items:
        if units.keep(unit, "GET /api/v1/org-unit/departments", "id", _id):
            units.departments[str(unit["id"])] = unit
    for unit in projects.items:
        # Projects are numbered: the pickers and the API's projectId take integers.
        if units.keep(unit, "GET /api/v1/org-unit/projects", "id", _whole_number):
            units.projects[int(unit["id"])] = unit
    return units


def _text(value) -> bool:
    return isinstance(value, str) and value != ""


def _id(value) -> bool:
    return _text(value) or (isinstance(value, int) and not isinstance(value, bool))


def _whole_number(value) -> bool:
    """A project id: an int, or a string of digits (Run:ai sends both)."""
    if isinstance(value, str):
        return value.isascii() and value.isdigit()
    return isinstance(value, int) and not isinstance(value, bool)
