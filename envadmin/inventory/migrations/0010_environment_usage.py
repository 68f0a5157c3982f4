"""usedBy kept per environment by the database (issue 19): the table, its triggers
(inventory/usage_triggers.py, per vendor) and every existing environment's fragment."""

import django.db.models.deletion
from django.db import migrations, models

from envadmin.inventory import usage_triggers


def install(apps, schema_editor):
    usage_triggers.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    usage_triggers.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0009_list_page_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="EnvironmentUsage",
            fields=[
                (
                    "environment",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="inventory.environment",
                    ),
                ),
                ("used_by", models.TextField()),
            ],
            options={
                "db_table": "inventory_environment_usage",
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
