"""Benchmark of issue 19: each heavy endpoint of envadmin against its floor.

    .venv/bin/python bench/floor.py [--sizes 1000 10000] [--repeat 5] [--memory-size N]
                                    [--output bench/floor-results.md]

`make bench` runs 1,000 and 10,000; the acceptance of issue 19 speaks of 100,000:
`.venv/bin/python bench/floor.py --sizes 1000 10000 100000` (slower: see the results file).

For each size it builds the data set of bench/dataset.py in a fresh database (bench/scale.py's
`build`: a temporary SQLite file, or DATABASE_URL flushed), then measures through Django's WSGI
stack, one warm-up and --repeat interleaved rounds, each round timing every endpoint and right
after it that endpoint's floor:

  api-all   GET /api/v1/asset/environment?usageInfo=true&complyToProject=1&complyToWorkloadType=
            Workspace (the whole tenant; a service account, System administrator at tenant)
  api-list  the same with projectId=1
  matrix    GET /compliance?project=1 (a superuser, System administrator at tenant)
  impact    POST /api/envadmin/v1/policy-impact, the tenant's Workspace change of bench/impact.py
  export    GET /environments/?format=yaml (the list's Export YAML, every environment the list
            holds, at most CSV_ROW_LIMIT of them, as the product caps it)
  hygiene   GET /api/envadmin/v1/hygiene

The floor of an endpoint is what any server must at least do for that answer: one SELECT of
the environment rows the answer covers (a raw cursor, the columns the answer is made of, every
row fetched), then writing the answer's bytes: orjson.dumps of the endpoint's own answer
(parsed from the warm-up, outside the timing) for JSON; for the HTML page, encoding the page's
own text to UTF-8 (no templating at all); for the YAML export, orjson.dumps of the exported
documents (JSON is YAML 1.2: an equivalent file, written the cheapest way known).

Then bench/scale.py's list page, HTMX partial and Django admin changelist probes (issue 19,
line 2). The smallest size's SQLite file is kept; after the largest size, those probes are
timed again with the two databases taking turns round by round, and line 2 is read from that
(sizes measured minutes apart on a shared machine differ by its drift as much as by their
size). At the largest size the memory of the whole-tenant list in a separate gunicorn
process (line 3): the worker's peak RSS during one request minus its RSS before it.
Everything is printed and written to --output with PASS/FAIL per acceptance line.
"""

import argparse
import gc
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import _common
import impact
import rss as rss_probe
import scale

ROOT = Path(__file__).resolve().parents[1]
LIST_TARGET, OTHER_TARGET, MEMORY_LIMIT_MB = 3.0, 5.0, 256
TARGET_SIZES = (10_000, 100_000)  # line 1 of issue 19 is about these sizes
COMPLY = "usageInfo=true&complyToProject=1&complyToWorkloadType=Workspace"
# Columns of an environment each answer is made of (model field names).
DOCUMENT = [
    "id", "name", "description", "scope", "scope_key", "cluster", "department", "project",
    "supports_workspace", "supports_training", "supports_inference", "supports_distributed",
    "dist_framework", "auto_delete", "private", "spec", "created_by", "created_at",
    "updated_by", "updated_at", "update_count",
]  # fmt: skip
VERDICT = [
    "id", "name", "scope_key", "spec", "supports_workspace", "supports_training",
    "supports_inference", "supports_distributed",
]  # fmt: skip


@dataclass
class Heavy:
    key: str
    label: str
    client: str  # "api", "ui" or "export" (a UI client without "review as")
    path: str
    columns: list[str]
    rows: str  # "all", "project" (the rows project 1 can see) or "export" (capped, by name)
    writer: str  # "json", "html" or "yaml"
    body: dict | None = None  # a POST's JSON body


HEAVY = [
    Heavy("api-all", "API list, whole tenant", "api", f"/api/v1/asset/environment?{COMPLY}",
          DOCUMENT, "all", "json"),
    Heavy("api-list", "API list, project 1", "api",
          f"/api/v1/asset/environment?projectId=1&{COMPLY}", DOCUMENT, "project", "json"),
    Heavy("matrix", "Compliance matrix, project 1", "ui", "/compliance?project=1", VERDICT,
          "project", "html"),
    Heavy("impact", "Policy impact, tenant change", "api", impact.URL, VERDICT, "all", "json",
          {"workloadType": "Workspace", **impact.CHANGES["tenant"]}),
    Heavy("export", "Export YAML, whole list", "export", "/environments/?format=yaml", DOCUMENT,
          "export", "yaml"),
    Heavy("hygiene", "Hygiene report", "api", "/api/envadmin/v1/hygiene", VERDICT, "all", "json"),
]  # fmt: skip
PAGE_PROBES = ("page", "partial", "admin")  # bench/scale.py's, for line 2


@dataclass
class Line:
    endpoint: scale.Result = field(default_factory=scale.Result)
    floor: scale.Result = field(default_factory=scale.Result)
    bytes: int = 0
    rows: int = 0
    note: str = ""  # why it has fewer rounds than asked, or none


def floor_query(heavy: Heavy) -> tuple[str, list]:
    """The one SELECT of `heavy`'s floor: its columns, over the rows its answer covers."""
    from envadmin.contract.choices import CSV_ROW_LIMIT
    from envadmin.inventory.models import Environment, Project

    meta = Environment._meta
    columns = ", ".join(meta.get_field(name).column for name in heavy.columns)
    sql, params = f"SELECT {columns} FROM {meta.db_table}", []
    if heavy.rows == "project":
        project = Project.objects.select_related("department").get(id=1)
        params = [
            "tenant",
            f"cluster:{project.department.cluster_id}",
            f"department:{project.department_id}",
            f"project:{project.id}",
        ]
        sql += " WHERE scope_key IN (%s, %s, %s, %s)"
    elif heavy.rows == "export":
        sql += f" ORDER BY name LIMIT {CSV_ROW_LIMIT}"
    return sql, params


def answer_payload(heavy: Heavy, body: bytes):
    """What the floor writes, prebuilt from the endpoint's own answer."""
    import orjson
    import yaml

    if heavy.writer == "json":
        return orjson.loads(body)
    if heavy.writer == "html":
        return body.decode()
    return yaml.load(body, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def write(heavy: Heavy, payload) -> bytes:
    import orjson

    return payload.encode() if heavy.writer == "html" else orjson.dumps(payload)


def timed_floor(heavy: Heavy, sql: str, params: list, payload) -> tuple[float, int]:
    from django.db import connection

    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    written = write(heavy, payload)
    elapsed = time.perf_counter() - start
    del written
    return elapsed, len(rows)


def timed_request(client, heavy: Heavy) -> tuple[float, int, bytes]:
    """Time to the last byte: a streamed answer does its work while it is read."""
    start = time.perf_counter()
    if heavy.body is None:
        response = client.get(heavy.path)
    else:
        response = client.post(heavy.path, json.dumps(heavy.body), content_type="application/json")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    elapsed = time.perf_counter() - start
    return elapsed, response.status_code, body


def measure(clients: dict, heavies: list[Heavy], args, skip: dict) -> dict[str, Line]:
    """A warm-up, then `repeat` rounds; in each, every endpoint then its floor, so a burst of
    load on the shared machine hits an endpoint and its floor alike. An endpoint whose warm-up
    takes over `args.cap` seconds keeps that one run as its only time; one in `skip` (key: why)
    is not requested at all."""
    lines = {heavy.key: Line(note=skip.get(heavy.key, "")) for heavy in heavies}
    measured = [heavy for heavy in heavies if heavy.key not in skip]
    queries = {heavy.key: floor_query(heavy) for heavy in measured}
    payloads = {}
    for round_ in range(args.repeat + 1):
        for heavy in measured:
            line = lines[heavy.key]
            if line.endpoint.error:
                continue
            if round_ and line.note:  # over the cap: its warm-up is its one run
                continue
            elapsed, status, body = timed_request(clients[heavy.client], heavy)
            if status != 200:
                line.endpoint.error = f"HTTP {status}: {body[:200]!r}"
                continue
            if not round_:
                payloads[heavy.key] = answer_payload(heavy, body)
                line.bytes = len(body)
                if elapsed > args.cap:
                    line.endpoint.times.append(elapsed)
                    line.note = f"1 run: over the --cap of {args.cap:g} s"
            else:
                line.endpoint.times.append(elapsed)
            body = None
            gc.collect()  # drop the answer outside the timing, as a server would
            seconds, line.rows = timed_floor(heavy, *queries[heavy.key], payloads[heavy.key])
            if round_ or line.note:
                line.floor.times.append(seconds)
            gc.collect()
    return lines


def too_slow(runs: dict, size: int, limit: float) -> dict[str, str]:
    """The endpoints whose time at a smaller size, grown linearly, predicts over `limit` s
    (key: why they are not run at `size`)."""
    skip = {}
    for smaller, run in runs.items():
        for key, line in run["lines"].items():
            if key in skip or not line.endpoint.times:
                if line.note.startswith("not run"):
                    skip.setdefault(key, line.note)
                continue
            predicted = line.endpoint.median * size / smaller
            if predicted > limit:
                skip[key] = (
                    f"not run: {line.endpoint.median:.0f} s at {smaller:,} predicts "
                    f"{predicted:.0f} s (--skip-over {limit:g})"
                )
    return skip


def clients(data) -> dict:
    from django.test import Client

    both = scale.clients(data)
    export = Client(HTTP_HOST="127.0.0.1")
    export.force_login(data.ui_user)
    return {**both, "export": export}


def run_size(
    size: int,
    args,
    external: bool,
    workdir: Path,
    memory: bool,
    skip: dict,
    keep: bool = False,
    alternate_with: dict | None = None,
) -> dict:
    """Every measure at `size`. `keep`: leave its database for a later size's alternating
    measure of line 2; `alternate_with`: that kept run, to measure line 2 again against."""
    from django.db import connection

    data, built = scale.build(size, external, workdir)
    print(f"  {size:,}: built in {built:.1f} s; measuring ...", flush=True)
    path = connection.settings_dict["NAME"]
    started = time.perf_counter()
    both = clients(data)
    lines = measure(both, HEAVY, args, skip)
    queries = {heavy.key: floor_query(heavy) for heavy in HEAVY}
    pages = [p for p in scale.probes(data.project, data.environment_id) if p.key in PAGE_PROBES]
    pages = scale.measure(both, pages, args.repeat)
    rss = None
    if memory:
        print(f"  {size:,}: memory of the whole-tenant list in gunicorn ...", flush=True)
        rss = rss_probe.measure(
            data.api_token,
            f"/api/v1/asset/environment?{COMPLY}",
            f"/api/v1/asset/environment/{data.environment_id}?{COMPLY}",
        )
    run = {"data": data, "built": built, "lines": lines, "pages": pages, "rss": rss,
           "queries": queries, "clients": both, "path": path, "alternating": None}  # fmt: skip
    if alternate_with is not None:
        print(f"  {size:,}: list page, partial and admin, alternating with the smallest "
              "size ...", flush=True)  # fmt: skip
        run["alternating"] = alternating_pages(alternate_with, run, args.repeat)
    if not keep:
        scale.drop(size, external, workdir)
    run["seconds"] = time.perf_counter() - started
    return run


ALTERNATING_ROUNDS = 3  # per --repeat: each round times every probe twice at each size


def alternating_pages(small: dict, large: dict, repeat: int) -> dict:
    """Line 2 again, the two sizes alternating round by round (the database switched between
    their files, a warm-up after each switch): measured minutes apart, one size after the
    other, a drift of the shared machine would read as a ratio. {"small"/"large": {probe key:
    Result}}."""
    from django.db import connection

    results = {side: {key: scale.Result() for key in PAGE_PROBES} for side in ("small", "large")}
    large_path = connection.settings_dict["NAME"]
    for _ in range(repeat * ALTERNATING_ROUNDS):
        for side, run in (("small", small), ("large", large)):
            connection.close()
            connection.settings_dict["NAME"] = run["path"]
            data = run["data"]
            pages = [p for p in scale.probes(data.project, data.environment_id)
                     if p.key in PAGE_PROBES]  # fmt: skip
            for key, result in scale.measure(run["clients"], pages, 2).items():
                kept = results[side][key]
                kept.times += result.times
                kept.answered, kept.error = result.answered, kept.error or result.error
    connection.close()
    connection.settings_dict["NAME"] = large_path
    return results


# --- report ------------------------------------------------------------------------------------


def result_rows(runs: dict) -> list[list[str]]:
    rows = []
    for heavy in HEAVY:
        for size, run in runs.items():
            line = run["lines"][heavy.key]
            if line.endpoint.error or not line.endpoint.times:
                why = "error" if line.endpoint.error else line.note
                rows.append([heavy.label, f"{size:,}", why, "", "", "", "", "", ""])
                continue
            ratio = scale.ratio(line.endpoint.median, line.floor.median)
            rows.append([
                heavy.label, f"{size:,}", scale.ms(line.endpoint.median),
                scale.ms(line.endpoint.p95), scale.ms(line.floor.median),
                scale.ms(line.floor.p95), scale.fmt_ratio(ratio), f"{line.bytes:,}",
                f"{line.rows:,}" + (f" ({line.note})" if line.note else ""),
            ])  # fmt: skip
    return rows


HEAD = ["endpoint", "size", "median ms", "p95 ms", "floor median ms", "floor p95 ms",
        "ratio", "answer bytes", "floor rows"]  # fmt: skip


def page_rows(runs: dict) -> list[list[str]]:
    rows = []
    for key in PAGE_PROBES:
        for size, run in runs.items():
            rows.append(page_row(key, size, run["pages"][key]))
    return rows


def alternating_rows(runs: dict) -> list[list[str]]:
    sizes = list(runs)
    alternating = runs[sizes[-1]].get("alternating")
    if alternating is None:
        return []
    return [
        page_row(key, size, alternating[side][key])
        for key in PAGE_PROBES
        for side, size in (("small", sizes[0]), ("large", sizes[-1]))
    ]


def page_row(key: str, size: int, result) -> list[str]:
    label = next(p.label for p in scale.probes(1, "") if p.key == key)
    median, p95 = scale.ms(result.median), scale.ms(result.p95)
    return [label, f"{size:,}", median, p95, result.error or result.answered]


def acceptance(runs: dict) -> list[tuple[str, str, str]]:
    """(verdict, line, figures): PASS, FAIL, or NOT RUN when a size it needs was not measured."""
    checks = []
    sizes = list(runs)
    for key, target, at in (("api-all", LIST_TARGET, TARGET_SIZES),
                            ("api-list", OTHER_TARGET, TARGET_SIZES),
                            ("matrix", OTHER_TARGET, TARGET_SIZES)):  # fmt: skip
        label = next(h.label for h in HEAVY if h.key == key)
        for size in at:
            name = f"1. {label} at {size:,} within {target:g}x of its floor"
            if size not in runs:
                checks.append(("NOT RUN", name, f"run with --sizes ... {size}"))
                continue
            line = runs[size]["lines"][key]
            if line.endpoint.error or not line.endpoint.times:
                why = "FAIL" if line.endpoint.error else "NOT RUN"
                checks.append((why, name, line.endpoint.error or line.note))
                continue
            value = scale.ratio(line.endpoint.median, line.floor.median)
            figures = f"{scale.fmt_ratio(value)}x ({scale.ms(line.endpoint.median)} vs " \
                      f"{scale.ms(line.floor.median)} ms)"  # fmt: skip
            checks.append((verdict(value <= target), name, figures))
    small, large = sizes[0], sizes[-1]
    pages_small, pages_large = runs[small]["pages"], runs[large]["pages"]
    note = "" if large >= 100_000 else " (issue 19 asks at 100,000)"
    alternating, how = runs[large].get("alternating"), ""
    if alternating is not None:  # the fairer measure, when there is one
        pages_small, pages_large = alternating["small"], alternating["large"]
        how = ", sizes alternating"
    for key, name in (("page", "list page"), ("partial", "HTMX partial")):
        value = scale.ratio(pages_large[key].median, pages_small[key].median)
        checks.append((verdict(value <= scale.SMALL_TARGET and large > small),
                       f"2. {name} at {large:,} <= {scale.SMALL_TARGET}x its time at {small:,}"
                       f"{note}{how}", f"{scale.fmt_ratio(value)}x"))  # fmt: skip
        value = scale.ratio(pages_large[key].median, pages_large["admin"].median)
        checks.append((verdict(value <= 1.0), f"2. {name} at {large:,} below the admin "
                       f"changelist{note}{how}", f"{scale.fmt_ratio(value)}x ("
                       f"{scale.ms(pages_large[key].median)} vs "
                       f"{scale.ms(pages_large['admin'].median)} ms)"))  # fmt: skip
    rss = runs[large]["rss"]
    name = f"3. whole-tenant list at {large:,}: peak RSS over idle <= {MEMORY_LIMIT_MB} MB{note}"
    if rss is None:
        checks.append(("NOT RUN", name, "--memory-size 0"))
    elif rss.error:
        checks.append(("FAIL", name, rss.error))
    else:
        checks.append((verdict(rss.growth_mb <= MEMORY_LIMIT_MB), name, rss.summary()))
    return checks


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def definitions(queries: dict) -> list[str]:
    out = []
    for heavy in HEAVY:
        sql, params = queries[heavy.key]
        writer = {
            "json": "orjson.dumps of the endpoint's answer",
            "html": "the page's own text encoded to UTF-8 (str.encode)",
            "yaml": "orjson.dumps of the exported documents (JSON is YAML 1.2)",
        }[heavy.writer]
        request = f"POST {heavy.path} {json.dumps(heavy.body)}" if heavy.body else \
            f"GET {heavy.path}"  # fmt: skip
        out.append(f"- {heavy.label}: `{request}`; floor: `{sql}` {params or ''}, "
                   f"fetchall, then {writer}.")  # fmt: skip
    return out


def write_markdown(path: Path, args, runs, checks, info, started, elapsed):
    sizes = list(runs)
    command = f"bench/floor.py --sizes {' '.join(map(str, sizes))} --repeat {args.repeat}"
    lines = [
        "# Heavy endpoints against their floor (issue 19)",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC by `.venv/bin/python {command}` in "
        f"{elapsed:.0f} s, on {info['envadmin']}. `make bench` runs 1,000 and 10,000; for "
        "100,000: `.venv/bin/python bench/floor.py --sizes 1000 10000 100000`.",
        "",
        *scale.machine_section(info),
        "## Data set",
        "",
        "bench/dataset.py: 1 tenant, 3 clusters, 20 departments, 200 projects, environments over "
        "every level, 5 workloads and 0.2 templates per environment, a policy on every node for "
        "each workload type. Built in "
        + ", ".join(f"{runs[s]['built']:.1f} s at {s:,}" for s in sizes)
        + ".",
        "",
        "## Endpoints and floors",
        "",
        f"Median and p95 (nearest rank: with fewer than 20 rounds, the slowest) of {args.repeat} "
        "rounds after a warm-up, in ms, through Django's WSGI stack (test client, time to the "
        "last byte); in each round every endpoint is followed by its floor. Ratio: endpoint "
        "median / floor median. Answer bytes: the endpoint's body.",
        "",
        scale.markdown_table(HEAD, result_rows(runs)),
        "",
        "## List page, partial and admin (bench/scale.py's probes)",
        "",
        scale.markdown_table(["page", "size", "median ms", "p95 ms", "rows"], page_rows(runs)),
        "",
        *alternating_section(runs),
        "## Memory",
        "",
        *memory_lines(runs),
        "",
        "## Acceptance (issue 19)",
        "",
        *[f"- {v} {line}: {figures}" for v, line, figures in checks],
        "",
        "## How each floor is defined",
        "",
        "The floor is what any server must at least do for the answer: one SELECT of the "
        "environment rows the answer covers (Django's raw cursor, the columns the answer is made "
        "of, every row fetched), then writing the answer's bytes with the cheapest writer, the "
        "answer itself prebuilt from the warm-up outside the timing.",
        "",
        *definitions(runs[sizes[-1]]["queries"]),
        "",
    ]
    path.write_text("\n".join(lines))


def alternating_section(runs: dict) -> list[str]:
    rows = alternating_rows(runs)
    if not rows:
        return []
    sizes = list(runs)
    return [
        f"### The same, {sizes[0]:,} and {sizes[-1]:,} alternating (line 2 is read here)",
        "",
        f"After the last size, the two databases take turns: {ALTERNATING_ROUNDS} rounds per "
        "--repeat, each a warm-up of every probe then two timed requests of each, at one size "
        "then the other. Measured one size after the other, minutes apart, a drift of the "
        "shared machine would read as a ratio.",
        "",
        scale.markdown_table(["page", "size", "median ms", "p95 ms", "rows"], rows),
        "",
    ]


def memory_lines(runs: dict) -> list[str]:
    out = []
    for size, run in runs.items():
        if run["rss"] is not None:
            out.append(f"- whole-tenant list at {size:,}: {run['rss'].summary()}")
    if not out:
        return ["Not measured (--memory-size 0)."]
    return [
        "One gunicorn worker (1 worker, 1 thread, gthread) on the same database; a GET of one "
        "environment with the same parameters warms it up; its RSS (VmRSS) is read, VmHWM reset "
        "(`echo 5 > /proc/PID/clear_refs`), the whole-tenant list requested and read to the "
        "end, then VmHWM read: growth = peak - idle.",
        "",
        *out,
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--memory-size", type=int, help="measure memory at this size (default: the largest)"
    )
    # The hygiene report judged every project apart: minutes a request at 10,000 (issue 19).
    parser.add_argument(
        "--cap",
        type=float,
        default=30.0,
        help="s: an endpoint whose warm-up takes longer is timed once",
    )
    parser.add_argument("--skip-over", type=float, default=600.0,
                        help="s: skip an endpoint whose time at a smaller size, grown "
                        "linearly, predicts more")  # fmt: skip
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "floor-results.md")
    args = parser.parse_args()
    args.sizes = sorted(set(args.sizes))
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    memory_at = args.sizes[-1] if args.memory_size is None else args.memory_size
    started, clock = datetime.now(UTC), time.perf_counter()
    measured = _common.commit()  # the code as it starts, whatever is committed meanwhile
    with scale.session() as (external, workdir):
        from django.db import connection

        print(f"database: {connection.vendor}; sizes: {args.sizes}; repeat: {args.repeat}")
        runs = {}
        # The smallest size's database is kept, for line 2 measured again with the largest.
        smallest, largest = args.sizes[0], args.sizes[-1]
        alternate = smallest != largest and not external
        for size in args.sizes:
            skip = too_slow(runs, size, args.skip_over)
            keep = alternate and size == smallest
            partner = runs[smallest] if alternate and size == largest else None
            runs[size] = run_size(
                size, args, external, workdir, size == memory_at, skip, keep, partner
            )
        if alternate:
            scale.drop(smallest, external, workdir)
        info = {**scale.machine(connection.vendor), "envadmin": measured}
        text = scale.text_table(HEAD, result_rows(runs))
        checks = acceptance(runs)
        elapsed = time.perf_counter() - clock
        write_markdown(args.output, args, runs, checks, info, started, elapsed)
    print()
    print(text)
    for line in memory_lines(runs)[2:]:
        print(line[2:])
    for v, line, figures in checks:
        print(f"{v:7} {line}: {figures}")
    print(f"wrote {args.output} ({elapsed:.0f} s in all)")
    return runs


if __name__ == "__main__":
    main()
