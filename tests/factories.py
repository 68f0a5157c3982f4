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


def add_environment(name, *, project_id=7, image="python:3.11", **supports):
    """One project environment supporting the workload types named, e.g.
    add_environment("trainer", training=True) for a training-only one."""
    now = timezone.now()
    env = Environment(
        name=name, scope="project", scope_key=f"project:{project_id}", project_id=project_id,
        spec={"image": image}, created_by="t", created_at=now, updated_by="t", updated_at=now,
        **{f"supports_{kind}": value for kind, value in supports.items()},
    )  # fmt: skip
    env.sync_from_spec()
    env.save()
    return env
