from django.db import migrations, models

from envadmin.inventory import listing, usage_triggers

BATCH = 2000


def fill_digests(apps, schema_editor):
    """Existing rows get the digest of the fragment they hold (inventory/listing.py)."""
    Environment = apps.get_model("inventory", "Environment")
    rows = Environment.objects.exclude(listed_spec="").values_list("pk", "listed_spec")
    table = schema_editor.quote_name(Environment._meta.db_table)
    sql = f"UPDATE {table} SET spec_digest = %s WHERE id = %s"
    prepared = Environment._meta.pk.get_db_prep_value  # SQLite's hex, PostgreSQL's uuid
    connection = schema_editor.connection
    batch = []
    with connection.cursor() as cursor:
        for pk, fragment in rows.order_by("pk").iterator(chunk_size=BATCH):
            batch.append((listing.spec_digest(fragment), prepared(pk, connection)))
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0010_environment_usage"),
    ]

    # SQLite adds a NOT NULL column by rebuilding the table (copy, drop, rename), which drops
    # the usage triggers with it: they come off first and back at the end (usage_triggers.py).
    operations = usage_triggers.rebuilding(
        migrations.AddField(
            model_name="environment",
            name="spec_digest",
            field=models.CharField(default="", editable=False, max_length=32),
        ),
        migrations.RunPython(fill_digests, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="environment",
            index=models.Index(
                "scope_key", "id", "name", "scope", "project_id", "spec_digest",
                "supports_workspace", "supports_training", "supports_inference",
                "supports_distributed", "dist_framework",
                name="environment_matrix",
                condition=models.Q(spec_digest__isnull=False),
            ),  # fmt: skip
        ),
    )
