"""Environment names unique per scope after NFC and case folding, on every database.

The old rule, LOWER(name) per scope, let some names that are one name under the new rule live
side by side: on SQLite any non-ASCII pair ("Ärger" and "ärger", as its LOWER() is ASCII-only),
and on both databases the two spellings of "café" (composed, or "e" with a combining accent)
and pairs that only case folding joins ("Straße" and "STRASSE").

Such rows are kept, not refused: refusing would stop the upgrade until someone renamed them by
hand with the old version, and nothing is wrong with either row except the pair. In each scope
the oldest row (by createdAt, then id) keeps the name's key; each later row gets a key of its
own, the key followed by " DUPLICATE " and its id. No name can fold to that (folding leaves no
ASCII capital letter), so every new create or rename onto the name is still refused, and the
later row stays readable, usable and deletable. Its next save computes its key again and is
refused as a clash (409 naming the name) until it is renamed. Each such row is logged as a
warning naming both rows.
"""

import logging
import unicodedata

from django.db import migrations, models
from django.db.models.functions import Lower

logger = logging.getLogger(__name__)


def fold_name(name: str) -> str:
    # A copy of envadmin.inventory.models.fold_name as it was when this migration was written:
    # a migration must not change meaning when the model's code changes later.
    return unicodedata.normalize("NFC", name).casefold()


def fill_name_keys(apps, schema_editor):
    Environment = apps.get_model("inventory", "Environment")
    keepers = {}
    rows = Environment.objects.order_by("created_at", "id").values_list(
        "id", "name", "scope_key"
    )
    for env_id, name, scope_key in rows.iterator():
        key = fold_name(name)
        kept = keepers.setdefault((scope_key, key), (env_id, name))
        if kept[0] != env_id:
            logger.warning(
                "Environment %s '%s' in %s has the same name as the older environment %s "
                "'%s' (names are compared after NFC and case folding). Both are kept; "
                "rename %s: its next save is refused until then.",
                env_id, name, scope_key, kept[0], kept[1], env_id,
            )
            key = f"{key} DUPLICATE {env_id}"
        Environment.objects.filter(pk=env_id).update(name_key=key)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0003_list_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="environment",
            name="name_key",
            field=models.TextField(default="", editable=False),
            preserve_default=False,
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="environment",
            name="environment_name_unique_per_scope_node",
        ),
        # The list's name order read the removed constraint's index on LOWER(name).
        migrations.AddIndex(
            model_name="environment",
            index=models.Index(Lower("name"), name="environment_lower_name"),
        ),
        migrations.AddConstraint(
            model_name="environment",
            constraint=models.UniqueConstraint(
                fields=("scope_key", "name_key"), name="environment_name_key_unique_per_scope"
            ),
        ),
        migrations.AddConstraint(
            model_name="environment",
            constraint=models.CheckConstraint(
                condition=models.Q(("name_key", ""), _negated=True),
                name="environment_name_key_filled",
            ),
        ),
    ]
