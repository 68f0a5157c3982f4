"""Benchmark of issue 7: envadmin at 1,000 and 10,000 environments, against its targets.

    .venv/bin/python bench/scale.py [--sizes 1000 10000] [--repeat 11] [--output bench/results.md]

For each size it builds the data set of bench/dataset.py (1 tenant, 3 clusters, 20 departments,
200 projects, N environments over every level, 5 workloads and 0.2 templates per environment,
policies on every node for all four workload types) in a fresh database: a new temporary SQLite
file per size by default (copied from one migrated file), or, when DATABASE_URL is set, that
database, flushed first (PostgreSQL is then ANALYZEd after the build, as autovacuum would).

Then it measures, through Django's full WSGI stack (django.test.Client, HTTP_HOST 127.0.0.1),
one warm-up request of each of the following, then --repeat rounds of one timed request of each
(interleaved, so a burst of load from elsewhere on the machine hits every line alike):

  api-list     GET /api/v1/asset/environment?projectId=P&usageInfo=true&complyToProject=P
               &complyToWorkloadType=Workspace (every entry; bearer token of a service account)
  api-all      the same without projectId: every environment of the tenant (acceptance line 3
               speaks of "10,000 entries"; a project sees about a tenth of them)
  api-get      GET /api/v1/asset/environment/<id>?usageInfo=true&complyToProject=P&...
  page         GET /environments/?per_page=50, full page, in "review as" mode (project P,
               Workspace; set once by POST /environments/review-as, then one GET to flush its
               flash message), signed in with force_login as a superuser who is System
               administrator at tenant
  partial      GET /environments/?per_page=50&isWorkspace=true with HX-Request: true
  matrix       GET /compliance?project=P
  admin        GET /admin/inventory/environment/ (Django's changelist of the same model, same
               data, same user). EnvironmentAdmin.list_per_page is 100 in envadmin; this harness
               sets it to 50 at runtime (the benchmark may not edit envadmin/) so the admin shows
               the same page size as the list page.

Each line gets the median and p95 (nearest rank: the slowest run when --repeat < 20) in ms, the
SQL queries of a request (CaptureQueriesContext) and the entries or rows it answered, per size,
with the ratio of the largest size to the smallest. Then each acceptance line of issue 7 is
checked and printed PASS or FAIL, and everything is written to --output in Markdown with the
machine, the versions and the date.
"""

import argparse
import gc
import math
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import _common

ROOT = Path(__file__).resolve().parents[1]
SMALL_TARGET = 1.2  # list page and partial: time at the large size / time at the small size
API_LIST_LIMIT_S = 2.0


def configure() -> tuple[bool, Path]:
    """Settings for a production-like run, before django.setup()."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "envadmin.settings")
    os.environ["ENVADMIN_BACKEND"] = "local"  # the benchmark measures envadmin's own database
    os.environ["DJANGO_DEBUG"] = "false"
    workdir = Path(tempfile.mkdtemp(prefix="envadmin-scale-"))
    external = bool(os.environ.get("DATABASE_URL"))
    if not external:
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'migrated.sqlite3'}"
    import warnings

    import django

    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    from django.conf import settings

    if "127.0.0.1" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS.append("127.0.0.1")
    return external, workdir


@dataclass
class Probe:
    key: str
    label: str
    client: str  # "api" or "ui"
    path: str
    headers: dict = field(default_factory=dict)


@dataclass
class Result:
    times: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    answered: str = ""
    note: str = ""
    error: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else math.nan

    @property
    def p95(self) -> float:
        if not self.times:
            return math.nan
        ordered = sorted(self.times)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]

    @property
    def query_label(self) -> str:
        if self.error:
            return "-"
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}-{high}"


def probes(project: int, environment_id: str) -> list[Probe]:
    comply = f"usageInfo=true&complyToProject={project}&complyToWorkloadType=Workspace"
    return [
        Probe("api-list", f"API list, project {project}", "api",
              f"/api/v1/asset/environment?projectId={project}&{comply}"),
        Probe("api-all", "API list, whole tenant", "api", f"/api/v1/asset/environment?{comply}"),
        Probe("api-get", "API get", "api", f"/api/v1/asset/environment/{environment_id}?{comply}"),
        Probe("page", "List page (review as)", "ui", "/environments/?per_page=50"),
        Probe("partial", "HTMX partial, filtered", "ui",
              "/environments/?per_page=50&isWorkspace=true", {"HX-Request": "true"}),
        Probe("matrix", f"Compliance matrix, project {project}", "ui",
              f"/compliance?project={project}"),
        Probe("admin", "Django admin changelist", "ui", "/admin/inventory/environment/"),
    ]  # fmt: skip


# A compliance badge of any state: "na" too (the environment does not support the reviewed
# workload type). At 10,000 the first 50 names are all "ddp-*" (distributed only): the page
# judged them all, but without "na" here the probe read as if it showed no compliance.
BADGE = re.compile(r'class="badge (?:ok|bad|info|na)"')


def answered(probe: Probe, response) -> tuple[str, str]:
    """(entries or rows the response holds, a note), read from the body."""
    if probe.client == "api":
        body = response.json()
        if "entries" in body:
            return str(len(body["entries"])), ""
        return "1", f"usedBy {sum(len(v) for v in (body.get('usedBy') or {}).values())}"
    html = response.content.decode()
    if probe.key == "admin":
        rows = html.count('name="_selected_action"')
        total = re.search(r'class="paginator".*?(\d+) environments?', html, re.DOTALL)
        return f"{rows}/{total.group(1) if total else '?'}", ""
    rows = html.count("<tr data-name=")
    if probe.key == "matrix":
        return str(rows), ""
    total = re.search(r'id="env-count">\s*([\d,]+)', html)
    return f"{rows}/{total.group(1) if total else '?'}", f"{len(BADGE.findall(html))} badges"


def measure(clients: dict, measured: list[Probe], repeat: int) -> dict[str, Result]:
    """One warm-up request of every probe, then `repeat` rounds of one request of each: the
    rounds interleave the probes, so a burst of load on the machine hits them all alike."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    results = {probe.key: Result() for probe in measured}
    for round_ in range(repeat + 1):
        for probe in measured:
            result = results[probe.key]
            if result.error:
                continue
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                response = clients[probe.client].get(probe.path, headers=probe.headers)
                elapsed = time.perf_counter() - start
            if response.status_code != 200:
                result.error = f"HTTP {response.status_code}: {response.content[:200]!r}"
                result.times, result.queries = [], []
                continue
            if round_:  # round 0 is the warm-up
                result.times.append(elapsed)
                result.queries.append(len(captured))
            else:
                result.answered, result.note = answered(probe, response)
            # The test client keeps each response alive, with its whole document (a 10,000
            # entry list is half a million objects). A server drops it once sent; here it would
            # make the next probe pay a garbage collection over it. Drop and collect it outside
            # the timed part, for every probe alike.
            response = captured = None
            gc.collect()
    return results


def fresh_database(size: int, external: bool, workdir: Path):
    from django.core.management import call_command
    from django.db import connection

    if external:
        call_command("flush", interactive=False, verbosity=0)
        return
    connection.close()
    path = workdir / f"bench-{size}.sqlite3"
    shutil.copyfile(workdir / "migrated.sqlite3", path)
    connection.settings_dict["NAME"] = str(path)


def build(size: int, external: bool, workdir: Path):
    """bench/dataset.py's data at `size` in a fresh database: (the Dataset, seconds taken)."""
    import dataset
    from django.db import connection

    fresh_database(size, external, workdir)
    start = time.perf_counter()
    data = dataset.build(size)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return data, time.perf_counter() - start


def drop(size: int, external: bool, workdir: Path):
    """Remove the temporary SQLite file of `size` (an external database is flushed per size)."""
    from django.db import connection

    if not external:
        connection.close()
        (workdir / f"bench-{size}.sqlite3").unlink(missing_ok=True)


def clients(data) -> dict:
    """Test clients: "api" with the service account's token, "ui" signed in as the superuser,
    reviewing as the data set's project for Workspace (its one-off flash message cleared)."""
    from django.test import Client

    from envadmin.inventory.admin import EnvironmentAdmin

    # Documented above: envadmin's admin pages 100 rows; compare at the list page's 50.
    EnvironmentAdmin.list_per_page = 50
    api = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {data.api_token}")
    ui = Client(HTTP_HOST="127.0.0.1")
    ui.force_login(data.ui_user)
    response = ui.post(
        "/environments/review-as", {"project": data.project, "workload_type": "Workspace"}
    )
    assert response.status_code == 302, f"review-as answered {response.status_code}"
    ui.get("/environments/?per_page=50")  # shows, and so clears, the one-off flash message
    return {"api": api, "ui": ui}


@contextmanager
def session():
    """configure() and migrate; on the way out, flush an external database (when all went
    well), close the connection and remove the temporary files. Yields (external, workdir)."""
    external, workdir = configure()
    from django.core.management import call_command
    from django.db import connection

    try:
        call_command("migrate", verbosity=0)
        yield external, workdir
        if external:
            call_command("flush", interactive=False, verbosity=0)
    finally:
        connection.close()
        shutil.rmtree(workdir, ignore_errors=True)


def run_size(size: int, repeat: int, external: bool, workdir: Path) -> dict:
    data, built = build(size, external, workdir)
    results = measure(clients(data), probes(data.project, data.environment_id), repeat)
    drop(size, external, workdir)
    return {"data": data, "built": built, "results": results}


# --- report ----------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1e3:.0f}"


def ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(a) and not math.isnan(b) else math.nan


def fmt_ratio(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}"


def table_rows(runs: dict, labels: dict) -> list[list[str]]:
    sizes = list(runs)
    rows = []
    for key, label in labels.items():
        row = [label]
        for size in sizes:
            r = runs[size]["results"][key]
            row += [ms(r.median), ms(r.p95), r.query_label, r.answered or "error"]
        if len(sizes) > 1:
            first, last = runs[sizes[0]]["results"][key], runs[sizes[-1]]["results"][key]
            row.append(fmt_ratio(ratio(last.median, first.median)))
        rows.append(row)
    return rows


def short(size: int) -> str:
    return f"{size // 1000}k" if size >= 1000 and size % 1000 == 0 else str(size)


def headers(sizes: list[int]) -> list[str]:
    cells = ["measurement"]
    for size in sizes:
        cells += [f"{short(size)} median ms", "p95", "queries", "entries/rows"]
    if len(sizes) > 1:
        cells.append(f"{short(sizes[-1])}/{short(sizes[0])}")
    return cells


def text_table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = []
    for row in [head, *rows]:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def markdown_table(head: list[str], rows: list[list[str]]) -> str:
    rule = "|".join(["---"] + ["--:"] * (len(head) - 1))
    lines = ["| " + " | ".join(head) + " |", f"|{rule}|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def admin_ratios(runs: dict) -> list[str]:
    lines = []
    for size, run in runs.items():
        res = run["results"]
        page = fmt_ratio(ratio(res["page"].median, res["admin"].median))
        partial = fmt_ratio(ratio(res["partial"].median, res["admin"].median))
        lines.append(f"at {size:,}: list page / admin {page}, partial / admin {partial}")
    return lines


def acceptance(runs: dict) -> list[tuple[str, bool, str]]:
    """(line, passed, figures) for each acceptance line of issue 7 the harness can check."""
    sizes = list(runs)
    small, large = runs[sizes[0]]["results"], runs[sizes[-1]]["results"]
    s, big = f"{sizes[0]:,}", f"{sizes[-1]:,}"
    growth = sizes[-1] / sizes[0]
    checks = []
    differing = [
        f"{key} {'/'.join(runs[n]['results'][key].query_label for n in sizes)}"
        for key in small
        if len({runs[n]["results"][key].query_label for n in sizes}) > 1
        or any(runs[n]["results"][key].error for n in sizes)
    ]
    checks.append(
        (
            f"1. queries per request equal at {' and '.join(f'{n:,}' for n in sizes)}",
            not differing,
            "differ: " + ", ".join(differing) if differing else "all equal",
        )
    )
    for key, name in (("page", "list page"), ("partial", "HTMX partial")):
        value = ratio(large[key].median, small[key].median)
        checks.append(
            (
                f"2. {name} at {big} <= {SMALL_TARGET}x its time at {s}",
                value <= SMALL_TARGET,
                f"{fmt_ratio(value)}x",
            )
        )
        value = ratio(large[key].median, large["admin"].median)
        checks.append(
            (
                f"2. {name} at {big} <= 1.0x the admin changelist",
                value <= 1.0,
                f"{fmt_ratio(value)}x ({ms(large[key].median)} vs {ms(large['admin'].median)} ms)",
            )
        )
    for key, name in (("api-list", "API list, project"), ("api-all", "API list, whole tenant")):
        seconds = large[key].median
        checks.append(
            (
                f"3. {name} at {big} < {API_LIST_LIMIT_S:g} s",
                seconds < API_LIST_LIMIT_S,
                f"{seconds:.2f} s, {large[key].answered} entries",
            )
        )
        value = ratio(large[key].median, small[key].median)
        checks.append(
            (
                f"3. {name} grows no worse than linearly",
                value <= growth,
                f"{fmt_ratio(value)}x for {growth:g}x the data",
            )
        )
    return checks


def machine(vendor: str) -> dict:
    from django.db import connection

    info = _common.host_info()
    if vendor == "sqlite":
        import sqlite3

        info["database"] = f"SQLite {sqlite3.sqlite_version} (temporary file per size)"
    else:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version" if vendor == "postgresql" else "SELECT 1")
            version = cursor.fetchone()[0]
        info["database"] = f"{vendor} {version} (DATABASE_URL, flushed per size)"
    info["envadmin"] = _common.commit()
    return info


def machine_section(info: dict) -> list[str]:
    """The Markdown section every report carries: the machine, the versions, the commit."""
    return ["## Machine", "", *[f"- {key}: {value}" for key, value in info.items()], ""]


def write_markdown(path: Path, args, runs, head, rows, checks, info, started, elapsed):
    sizes = list(runs)
    command = "bench/scale.py " + " ".join(
        ["--sizes", *map(str, args.sizes), "--repeat", str(args.repeat)]
    )
    lines = [
        "# envadmin at scale (issue 7)",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC by `.venv/bin/python {command}` "
        f"(run by `make bench`), in {elapsed:.0f} s.",
        "",
        *machine_section(info),
        "## Data set",
        "",
        "1 tenant, 3 clusters, 20 departments, 200 projects; environments over every level, "
        "5 workloads and 0.2 templates per environment, a policy on every node for each of the "
        "four workload types (rules on distinct fields along every branch); see bench/dataset.py.",
        "",
        "| size | environments (tenant / cluster / department / project) | workloads | templates "
        "| policies | build s |",
        "|--:|--:|--:|--:|--:|--:|",
    ]
    for size in sizes:
        c, built = runs[size]["data"].counts, runs[size]["built"]
        levels = " / ".join(f"{n:,}" for n in c["per level"].values())
        lines.append(
            f"| {size:,} | {c['environments']:,} ({levels}) | {c['workloads']:,} "
            f"| {c['templates']:,} | {c['policies']:,} | {built:.1f} |"
        )
    warnings = sorted({w for run in runs.values() for w in run["data"].warnings})
    lines += [f"\nWARNING: {w}" for w in warnings]
    project = runs[sizes[0]]["data"].project
    lines += [
        "",
        "## Results",
        "",
        f"Medians and p95 of {args.repeat} interleaved rounds after one warm-up, in ms, "
        "through the WSGI stack (Django test client); queries per request; entries (API) or "
        "rows shown / total (pages). "
        f"Project {project}, workload type Workspace.",
        "",
        markdown_table(head, rows),
        "",
        *[f"- {line}" for line in admin_ratios(runs)],
        "",
        "## Acceptance (issue 7)",
        "",
        *[f"- {'PASS' if ok else 'FAIL'} {line}: {figures}" for line, ok, figures in checks],
        "- line 4 (this file holds the table; the README quotes its headline figures): the "
        "harness writes this file; the README is up to whoever updates it.",
        "",
        "## Method",
        "",
        "- Requests: "
        + "; ".join(f"{p.label}: `GET {p.path}`" for p in probes(project, "<id>"))
        + ". The partial carries `HX-Request: true`.",
        "- API calls carry a service account's bearer token (System administrator at tenant). "
        "Pages: a Django superuser who is System administrator at tenant, signed in with "
        '`force_login`; "review as" is set once with `POST /environments/review-as` and its '
        "flash message cleared by one GET before measuring.",
        "- The admin changelist is `EnvironmentAdmin` of envadmin/inventory/admin.py with "
        "`list_per_page` set to 50 at runtime by the harness (envadmin's own value is 100).",
        "- p95 is the nearest rank: with fewer than 20 runs, the slowest run.",
        "",
    ]
    path.write_text("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    # Medians of 11 rounds: on this shared machine single timings move by a fifth or more.
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results.md")
    args = parser.parse_args()
    args.sizes = sorted(set(args.sizes))
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    started = datetime.now(UTC)
    clock = time.perf_counter()
    with session() as (external, workdir):
        from django.db import connection

        vendor = connection.vendor
        print(f"database: {vendor}; sizes: {args.sizes}; repeat: {args.repeat} after a warm-up")
        runs = {}
        for size in args.sizes:
            runs[size] = run_size(size, args.repeat, external, workdir)
            data = runs[size]["data"]
            for warning in data.warnings:
                print(f"  WARNING: {warning}")
            print(
                f"  {size:,}: built in {runs[size]['built']:.1f} s ({data.counts['workloads']:,} "
                f"workloads, {data.counts['templates']:,} templates, "
                f"{data.counts['policies']} policies)"
            )
        info = machine(vendor)

    labels = {p.key: p.label for p in probes(runs[args.sizes[0]]["data"].project, "")}
    head, rows = headers(args.sizes), table_rows(runs, labels)
    print()
    print(text_table(head, rows))
    for line in admin_ratios(runs):
        print(line)
    for size, run in runs.items():
        for key, result in run["results"].items():
            if result.error:
                print(f"ERROR at {size:,}, {labels[key]}: {result.error}")
            elif result.note and key in ("page", "partial") and result.note.startswith("0 "):
                print(f"warning at {size:,}, {labels[key]}: no compliance badge in the page")
    checks = acceptance(runs) if len(args.sizes) > 1 else []
    for line, ok, figures in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {line}: {figures}")
    elapsed = time.perf_counter() - clock
    write_markdown(args.output, args, runs, head, rows, checks, info, started, elapsed)
    print(f"wrote {args.output} ({elapsed:.0f} s in all)")


if __name__ == "__main__":
    main()
