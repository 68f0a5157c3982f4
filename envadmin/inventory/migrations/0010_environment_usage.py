"""usedBy kept per environment by the database (issue 19): the table, its triggers
(inventory/usage_triggers.py, per vendor) and every existing environment's fragment."""

import django.db.models.deletion
from django.db import migrations, models

from envadmin.inventory import usage_triggers


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
        migrations.RunPython(usage_triggers.installing, usage_triggers.uninstalling),
    ]
