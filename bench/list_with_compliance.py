"""Benchmark: the environment list with usageInfo and compliance at 1,000 and 10,000 entries.

Builds each data set in a fresh database (a temporary SQLite file, or the PostgreSQL of
DATABASE_URL with a throwaway database name suffix), then times GET /api/v1/asset/environment
through Django's full WSGI stack (the test client) and prints medians and their ratio.

    .venv/bin/python bench/list_with_compliance.py [--sizes 1000 10000] [--repeat 5]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "envadmin.settings")
WORKDIR = tempfile.mkdtemp(prefix="envadmin-bench-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{WORKDIR}/bench.sqlite3")

import warnings  # noqa: E402

import django  # noqa: E402

warnings.filterwarnings("ignore", message="No directory at")

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from envadmin.accounts.models import AccessRule, ServiceAccount, SubjectType  # noqa: E402
from envadmin.accounts.tokens import issue  # noqa: E402
from envadmin.inventory.models import (  # noqa: E402
    Cluster,
    Department,
    Environment,
    Project,
    Template,
    Workload,
)
from envadmin.policies.models import Policy  # noqa: E402

KINDS = ["workspace", "training", "distributed", "inference"]


def reset_database():
    call_command("flush", interactive=False, verbosity=0)


def build(size: int) -> tuple[Client, int]:
    """1 tenant, 3 clusters, 20 departments, 200 projects; `size` environments spread over
    every level; 5 workloads and 0.2 templates per environment; policies at every level."""
    now = timezone.now()
    clusters = Cluster.objects.bulk_create(Cluster(name=f"cluster-{i}") for i in range(3))
    departments = Department.objects.bulk_create(
        Department(id=f"d{i}", name=f"dept-{i}", cluster=clusters[i % 3]) for i in range(20)
    )
    projects = Project.objects.bulk_create(
        Project(id=i + 1, name=f"project-{i + 1}", department=departments[i % 20])
        for i in range(200)
    )
    nodes = [("tenant", "tenant", {})]
    nodes += [("cluster", f"cluster:{c.id}", {"cluster": c}) for c in clusters]
    nodes += [("department", f"department:{d.id}", {"department": d}) for d in departments]
    nodes += [("project", f"project:{p.id}", {"project": p}) for p in projects]
    envs = []
    for i in range(size):
        scope, key, fk = nodes[i % len(nodes)]
        envs.append(
            Environment(
                name=f"env-{i}",
                scope=scope,
                scope_key=key,
                **fk,
                supports_workspace=True,
                supports_training=i % 2 == 0,
                spec={
                    "image": f"registry.example.com/team/img:{i}",
                    "runAsUid": i % 4000,
                    "uidGidSource": "custom",
                    "imagePullPolicy": "Always",
                },
                created_by="bench",
                created_at=now,
                updated_by="bench",
                updated_at=now,
            )  # fmt: skip
        )
    Environment.objects.bulk_create(envs, batch_size=2000)
    Workload.objects.bulk_create(
        (
            Workload(
                id=uuid.uuid4(),
                name=f"w-{i}-{j}",
                type=KINDS[j % 4],
                status="Running",
                project=projects[(i + j) % 200],
                environment=env,
                created_at=now,
            )  # fmt: skip
            for i, env in enumerate(envs)
            for j in range(5)
        ),
        batch_size=5000,
    )
    Template.objects.bulk_create(
        (
            Template(name=f"t-{i}", scope=env.scope, scope_key=env.scope_key, environment=env)
            for i, env in enumerate(envs)
            if i % 5 == 0
        ),
        batch_size=2000,
    )
    rules = [
        {"imagePullPolicy": {"options": [{"value": "IfNotPresent"}]}},
        {"security": {"runAsUid": {"min": 1000}}},
        {"image": {"required": True}},
        {"workingDir": {"canEdit": False}},
    ]
    policies = []
    for level, (scope, key, _) in enumerate(
        [nodes[0], nodes[1], nodes[4], nodes[24]]
    ):  # tenant, a cluster, a department, a project: one chain... and more
        for kind in KINDS:
            policies.append(
                Policy(
                    workload_type=kind,
                    name=f"{kind}-{key}",
                    scope=scope,
                    scope_key=key,
                    document={"rules": rules[level]},
                    created_by="bench",
                    created_at=now,
                    updated_by="bench",
                    updated_at=now,
                )  # fmt: skip
            )
    Policy.objects.bulk_create(policies)
    account, _ = ServiceAccount.create("bench")
    AccessRule.objects.create(
        subject_type=SubjectType.APPLICATION, subject=account.client_id,
        role="System administrator", scope_key="tenant",
    )  # fmt: skip
    token = issue(account.client_id, "app")["accessToken"]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
    project = int(nodes[24][1].split(":")[1])
    return client, project


def measure(client: Client, project: int, repeat: int) -> tuple[float, int, int]:
    params = {
        "usageInfo": "true",
        "complyToProject": project,
        "complyToWorkloadType": "Workspace",
    }
    times = []
    for _ in range(repeat):
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get("/api/v1/asset/environment", params)
            times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.content[:500]
    entries = len(response.json()["entries"])
    return statistics.median(times), entries, len(captured)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}; repeat: {args.repeat}; medians through WSGI")
    print(
        f"{'environments':>12} {'entries':>8} {'queries':>8} {'median s':>9} {'per entry ms':>13}"
    )
    results = {}
    for size in args.sizes:
        reset_database()
        client, project = build(size)
        seconds, entries, queries = measure(client, project, args.repeat)
        results[size] = seconds
        print(
            f"{size:>12} {entries:>8} {queries:>8} {seconds:>9.3f} {seconds / entries * 1e3:>13.3f}"
        )
    if len(args.sizes) >= 2:
        small, large = args.sizes[0], args.sizes[-1]
        ratio = results[large] / results[small]
        print(
            f"ratio {large}/{small}: {ratio:.2f} for {large / small:.0f}x the data "
            f"({'linear or better' if ratio <= large / small * 1.1 else 'worse than linear'})"
        )
    reset_database()


if __name__ == "__main__":
    main()
