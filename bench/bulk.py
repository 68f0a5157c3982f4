"""Benchmark of issue 17: a bulk set-image of 1,000 environments in a 10,000-environment tenant.

    .venv/bin/python bench/bulk.py [--size 10000] [--items 1000] [--output bench/bulk-results.md]

Builds the data set of bench/dataset.py (as bench/scale.py does: a fresh SQLite file, or the
DATABASE_URL database flushed first), then through Django's full WSGI stack, as the API's
service account (System administrator at tenant), POSTs /api/envadmin/v1/bulk with
`{"action": "set-image", "image": ":bench", "items": [1,000 ids]}`: once as a dry run, then for
real. The ids are the first `--items` environments by name, each with the updateCount it has
as its ifMatch. Each run is timed once (the real one can only happen once), with its SQL query
count; the real run is then checked: every item 202, exactly those images changed, one update
revision each (and, the data set having none, a revision of the version before). Results go to
--output in Markdown with the machine and the date.
"""

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import scale

ROOT = Path(__file__).resolve().parents[1]
TAG = ":bench"


def timed_post(client, body: dict) -> tuple[float, int, dict]:
    from django.db import connection

    # Counted by a wrapper: CaptureQueriesContext keeps only the last 9,000 queries.
    count = 0

    def counted(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counted):
        start = time.perf_counter()
        response = client.post("/api/envadmin/v1/bulk", body, content_type="application/json")
        elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise SystemExit(f"bulk answered {response.status_code}: {response.content[:500]!r}")
    return elapsed, count, response.json()


def run(size: int, count: int, external: bool, workdir: Path) -> dict:
    from django.test import Client

    from envadmin.audit.models import Revision
    from envadmin.inventory.models import Environment

    data, built = scale.build(size, external, workdir)
    chosen = list(Environment.objects.order_by("name").values_list("id", "update_count", "image"))
    chosen = chosen[:count]
    items = [{"id": str(pk), "ifMatch": version} for pk, version, _ in chosen]
    body = {"action": "set-image", "image": TAG, "items": items}
    api = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {data.api_token}")

    revisions = Revision.objects.count()
    dry_time, dry_queries, dry = timed_post(api, {**body, "dryRun": True})
    assert Revision.objects.count() == revisions, "a dry run wrote revisions"
    real_time, real_queries, real = timed_post(api, body)

    statuses = [r["status"] for r in real["results"]]
    now = dict(
        Environment.objects.filter(pk__in=[pk for pk, _, _ in chosen]).values_list("pk", "image")
    )
    unchanged = [str(pk) for pk, _, image in chosen if image.endswith(TAG) or now[pk] == image]
    others = Environment.objects.exclude(pk__in=[pk for pk, _, _ in chosen])
    checks = {
        "every item 202": statuses.count(202) == len(items),
        "every chosen image retagged": not unchanged,
        "no other environment retagged": not others.filter(image__endswith=TAG).exists(),
        "one new update revision per item": (
            Revision.objects.filter(action="update").count() == len(items)
        ),
        "the dry run answered as the real one": [r["status"] for r in dry["results"]] == statuses,
    }
    return {
        "built": built, "items": len(items), "size": size,
        "dry": (dry_time, dry_queries), "real": (real_time, real_queries), "checks": checks,
    }  # fmt: skip


def write_markdown(path: Path, result: dict, info: dict, started: datetime) -> None:
    lines = [
        "# Bulk set-image benchmark (issue 17)",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC by `bench/bulk.py` ({info.pop('envadmin')}).",
        "",
        f"A `set-image` of `{TAG}` (tag only: each image keeps its repository) over "
        f"{result['items']:,} environments, each with its ifMatch, in a data set of "
        f"{result['size']:,} environments (bench/dataset.py, built in {result['built']:.1f} s), "
        "through Django's WSGI stack as a System administrator's service account. One timed "
        "request each: the real run can only happen once.",
        "",
        "| request | time s | per item ms | SQL queries |",
        "|---|--:|--:|--:|",
    ]
    for key, label in (("dry", "dry run"), ("real", "apply")):
        seconds, queries = result[key]
        lines.append(
            f"| {label} | {seconds:.2f} | {seconds / result['items'] * 1e3:.1f} | {queries:,} |"
        )
    lines += ["", "Checks:", ""]
    lines += [f"- {'PASS' if ok else 'FAIL'} {name}" for name, ok in result["checks"].items()]
    lines += ["", "Machine:", ""] + [f"- {key}: {value}" for key, value in info.items()]
    path.write_text("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "bulk-results.md")
    args = parser.parse_args()
    started = datetime.now(UTC)
    with scale.session() as (external, workdir):
        from django.db import connection

        result = run(args.size, args.items, external, workdir)
        info = scale.machine(connection.vendor)
    for key in ("dry", "real"):
        seconds, queries = result[key]
        print(f"{key}: {seconds:.2f} s for {result['items']:,} items, {queries:,} queries")
    for name, ok in result["checks"].items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    write_markdown(args.output, result, info, started)
    print(f"wrote {args.output}")
    if not all(result["checks"].values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
