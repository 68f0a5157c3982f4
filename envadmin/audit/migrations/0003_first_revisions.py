"""Every environment that exists when revisions arrive gets revision 1: its current document,
as `observed` (envadmin did not see the change that made it)."""

from django.db import migrations


def first_revisions(apps, schema_editor):
    # The historical model says whether there is anything to do; the documents are built by
    # the application's own code (as a GET answers them), reading only the columns this
    # schema state has (later migrations add columns the current model already knows).
    historical = apps.get_model("inventory", "Environment")
    if not historical.objects.exists():
        return
    columns = [field.name for field in historical._meta.concrete_fields]
    from envadmin.audit.revisions import observe
    from envadmin.inventory.documents import environment_document
    from envadmin.inventory.models import Environment
    from envadmin.inventory.orgtree import OrgTree

    tree = OrgTree.load()
    environments = Environment.objects.only(*columns).iterator(chunk_size=500)
    batch = []
    for env in environments:
        batch.append(environment_document(env, tree))
        if len(batch) == 500:
            observe(batch)
            batch = []
    observe(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_revisions"),
        ("inventory", "0005_dist_framework_labels_from_vocabulary"),
    ]

    operations = [migrations.RunPython(first_revisions, migrations.RunPython.noop)]
