"""Benchmark of issue 15: the impact of a policy change at 10,000 environments and 200 projects.

    .venv/bin/python bench/impact.py [--size 10000] [--repeat 5] [--output bench/impact-results.md]

Builds the data set of bench/dataset.py (as bench/scale.py does: a temporary SQLite file, or
DATABASE_URL flushed first), then times POST /api/envadmin/v1/policy-impact through Django's
WSGI stack (django.test.Client, a System administrator's bearer token) for two Workspace
policy changes, one warm-up and --repeat timed requests each, interleaved:

  tenant       the tenant's policy with imagePullPolicy narrowed to IfNotPresent (every project
               judged against every environment it can see)
  department   department d1's policy with another workingDir default (its 10 projects)

The data set gives every project the same policy document, so the tenant's 200 projects fall
into 20 groups (one per department) that share their judges (envadmin/compliance/impact.py).
A last line measures the tenant change again after giving each project's policy a default of
its own (verdicts unchanged, every chain distinct): the worst case, 200 groups.

Each line gets the median and slowest time, the SQL queries of a request, and the pairs judged
and changed as the answer counts them. The target (issue 15): the tenant line under 3 s on
SQLite.
"""

import argparse
import json
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import scale

ROOT = Path(__file__).resolve().parents[1]
URL = "/api/envadmin/v1/policy-impact"
TENANT_TARGET_S = 3.0
PULL = [{"value": "IfNotPresent", "displayed": "If not present"}]
CHANGES = {
    "tenant": {
        "meta": {"name": "workspace-tenant", "scope": "tenant"},
        "policy": {
            "defaults": {"imagePullPolicy": "IfNotPresent", "security": {"hostNetwork": False}},
            "rules": {
                "imagePullPolicy": {"options": PULL},
                "security": {"hostNetwork": {"canEdit": False}},
            },
        },  # fmt: skip
    },
    "department": {
        "meta": {"name": "workspace-department-d1", "scope": "department", "departmentId": "d1"},
        "policy": {"defaults": {"workingDir": "/srv"}, "rules": {"workingDir": {"canEdit": False}}},
    },
}


def distinct_project_policies() -> None:
    """A default of its own in every project's Workspace policy: no two chains alike."""
    from envadmin.policies.models import Policy

    for policy in Policy.objects.filter(workload_type="workspace", scope="project"):
        value = f"/data/{policy.scope_key.split(':')[1]}"
        instances = [{"name": "HF_HOME", "value": value}]
        policy.document = {**policy.document, "defaults": {"environmentVariables": {
            "instances": instances}}}  # fmt: skip
        policy.save(update_fields=["document"])


def measure(client, repeat: int, changes: dict) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    results = {name: {"times": []} for name in changes}
    for round_number in range(repeat + 1):  # round 0 warms up
        for name, change in changes.items():
            body = json.dumps({"workloadType": "Workspace", **change})
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.post(URL, body, content_type="application/json")
                elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise SystemExit(f"{name}: {response.status_code} {response.content[:500]!r}")
            if round_number:
                results[name]["times"].append(elapsed)
            answer = response.json()
            results[name].update(queries=len(queries), judged=answer["judged"],
                                 summary=answer["summary"])  # fmt: skip
    return results


def write_markdown(path: Path, args, data, built, results, info, started, elapsed):
    c = data.counts
    levels = " / ".join(f"{n:,}" for n in c["per level"].values())
    lines = [
        "# Policy impact at scale (issue 15)",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC by `.venv/bin/python bench/impact.py --size "
        f"{args.size} --repeat {args.repeat}` (run by `make bench`), in {elapsed:.0f} s.",
        "",
        *scale.machine_section(info),
        "## Data set",
        "",
        f"bench/dataset.py at {c['environments']:,} environments ({levels} at tenant / cluster "
        f"/ department / project), 200 projects, {c['policies']:,} policies (one on every node "
        f"for each workload type); built in {built:.1f} s.",
        "",
        "## Results",
        "",
        f"`POST {URL}` for Workspace, median and slowest of {args.repeat} timed requests after "
        "a warm-up, through the WSGI stack (Django test client); queries per request; the pairs "
        "as the answer counts them.",
        "",
        "| change | median ms | slowest ms | queries | projects | environments | pairs judged "
        "| pairs changed (non-compliant / compliant / reasons) |",
        "|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for name, result in results.items():
        judged, summary = result["judged"], result["summary"]
        total = sum(summary[k] for k in ("becomeNonCompliant", "becomeCompliant", "reasonsChanged"))
        lines.append(
            f"| {name} | {statistics.median(result['times']) * 1e3:.0f} "
            f"| {max(result['times']) * 1e3:.0f} | {result['queries']} | {judged['projects']} "
            f"| {judged['environments']:,} | {judged['pairs']:,} | {total:,} "
            f"({summary['becomeNonCompliant']:,} / {summary['becomeCompliant']:,} / "
            f"{summary['reasonsChanged']:,}) |"
        )
    tenant = statistics.median(results["tenant"]["times"])
    verdict = "PASS" if tenant < TENANT_TARGET_S else "FAIL"
    lines += [
        "",
        "The data set gives every project the same policy document, so the tenant change's 200 "
        "projects are judged as 20 groups (one per department), each environment once per group "
        "that sees it. The last line gives each project's policy a default of its own first "
        "(no verdict changes, every chain distinct): 200 groups, the worst case.",
        "",
        "## Acceptance (issue 15, line 4)",
        "",
        f"- {verdict} the tenant-level change under {TENANT_TARGET_S:.0f} s: median "
        f"{tenant:.2f} s for {results['tenant']['judged']['pairs']:,} pairs.",
        "",
        "## The changes",
        "",
        *[f"- {name}: `{json.dumps(change)}`" for name, change in CHANGES.items()],
        "",
    ]
    path.write_text("\n".join(lines))
    return verdict, tenant


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "impact-results.md")
    args = parser.parse_args()
    started, clock = datetime.now(UTC), time.perf_counter()
    with scale.session() as (external, workdir):
        from django.db import connection
        from django.test import Client

        data, built = scale.build(args.size, external, workdir)
        print(f"{connection.vendor}: {args.size:,} environments built in {built:.1f} s")
        client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {data.api_token}")
        results = measure(client, args.repeat, CHANGES)
        distinct_project_policies()
        worst = measure(client, args.repeat, {"tenant": CHANGES["tenant"]})
        results["tenant, 200 distinct project policies"] = worst["tenant"]
        info = scale.machine(connection.vendor)
    for name, result in results.items():
        print(
            f"  {name:<10} median {statistics.median(result['times']) * 1e3:6.0f} ms, slowest "
            f"{max(result['times']) * 1e3:6.0f} ms, {result['queries']} queries, "
            f"{result['judged']['pairs']:,} pairs judged, summary {result['summary']}"
        )
    elapsed = time.perf_counter() - clock
    verdict, tenant = write_markdown(
        args.output, args, data, built, results, info, started, elapsed
    )
    print(f"{verdict}  tenant-level impact under {TENANT_TARGET_S:.0f} s: {tenant:.2f} s")
    print(f"wrote {args.output} ({elapsed:.0f} s in all)")


if __name__ == "__main__":
    main()
