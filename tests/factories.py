"""Bulk data for size-dependent tests."""

import uuid

from django.utils import timezone

from envadmin.inventory.models import Environment, Template, Workload


def add_environments(count):
    now = timezone.now()
    envs = Environment.objects.bulk_create(
        Environment(
            name=f"bulk-{i}", scope="project", scope_key="project:7", project_id=7,
            supports_workspace=True, spec={"image": f"img:{i}"},
            created_by="t", created_at=now, updated_by="t", updated_at=now,
        )
        for i in range(count)
    )  # fmt: skip
    Workload.objects.bulk_create(
        Workload(
            id=uuid.uuid4(), name=f"w-{env.name}-{kind}", type=kind, status="Running",
            project_id=7, environment=env, created_at=now,
        )
        for env in envs
        for kind in ("workspace", "training")
    )  # fmt: skip
    Template.objects.bulk_create(
        Template(name=f"t-{env.name}", scope="project", scope_key="project:7", environment=env)
        for env in envs
    )
