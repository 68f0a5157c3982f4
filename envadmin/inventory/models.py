"""The local model that the local backend serves in Run:ai's shape.

Every asset and access rule points at one node of the org tree through a *scope key*
(``tenant``, ``cluster:<uuid>``, ``department:<id>``, ``project:<id>``): one string column
makes visibility a plain ``scope_key IN (...)`` and lets the database enforce name
uniqueness per node.
"""

import unicodedata
import uuid

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from envadmin.contract.choices import (
    CREDENTIAL_KINDS,
    DIST_FRAMEWORKS,
    SCOPES,
    SUPPORTED_TYPE_KEYS,
)

from . import listing

SCOPE_CHOICES = [(scope, scope.capitalize()) for scope in SCOPES]


def scope_key(scope: str, node_id=None) -> str:
    if scope in ("system", "tenant"):
        return str(scope)
    return f"{scope}:{node_id}"


def fold_name(name: str) -> str:
    """The form in which two environment names are the same name. Run:ai keeps names unique per
    scope case-insensitively; composing first makes "café" typed with a combining accent the
    same name as with "é", and case folding (not lower-casing) makes "Straße" and "STRASSE" one
    name too. Computed here, not in SQL, so SQLite and PostgreSQL apply one rule."""
    return unicodedata.normalize("NFC", name).casefold()


class Cluster(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Department(models.Model):
    id = models.CharField(primary_key=True, max_length=64)
    name = models.CharField(max_length=255)
    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="departments")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "name"], name="department_name_per_cluster")
        ]

    def __str__(self):
        return self.name


class Project(models.Model):
    id = models.IntegerField(primary_key=True)
    name = models.CharField(max_length=255)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="projects")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "name"], name="project_name_per_department"
            )
        ]

    def __str__(self):
        return self.name


# The model's choices, from the one vocabulary (a label of its own only where it reads better).
DIST_FRAMEWORK_CHOICES = [(name, name) for name in DIST_FRAMEWORKS]
WORKLOAD_TYPE_CHOICES = [(key, key.capitalize()) for key in SUPPORTED_TYPE_KEYS]


class EnvironmentQuerySet(models.QuerySet):
    """Writes that bypass Model.save() still keep name_key in step with name."""

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for env in objs:
            env.name_key = fold_name(env.name)
            listing.fill(env)
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs, fields = list(objs), list(fields)
        if "name" in fields:
            for env in objs:
                env.name_key = fold_name(env.name)
            fields.append("name_key")
        written = set()
        for env in objs:
            written = listing.fill(env, fields)
        fields += sorted(written - set(fields))
        return super().bulk_update(objs, fields, *args, **kwargs)

    def update(self, **kwargs):
        # bulk_update() comes here with both columns as CASE expressions it has computed.
        if "name" in kwargs and "name_key" not in kwargs:
            # An expression (F, Concat...) has no key the database could compute the same way.
            if not isinstance(kwargs["name"], str):
                raise TypeError("Environment names are updated with a plain string.")
            kwargs["name_key"] = fold_name(kwargs["name"])
        # Values given here may be expressions: the fragments they touch are emptied, and the
        # list builds those rows from their columns (bulk_update passes fragments it made).
        if listing.META_FIELDS & kwargs.keys() and "listed_meta" not in kwargs:
            kwargs["listed_meta"] = ""
        if listing.SPEC_FIELDS & kwargs.keys() and "listed_spec" not in kwargs:
            kwargs["listed_spec"] = ""
        if "listed_spec" in kwargs and "spec_digest" not in kwargs:
            kwargs["spec_digest"] = ""  # a digest of a fragment it no longer is: none
        return super().update(**kwargs)


class Environment(models.Model):
    """An environment asset: placement and bookkeeping in columns, the spec as Run:ai's JSON."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=255)
    # fold_name(name): the unique constraint compares this, and the name is kept as typed.
    name_key = models.TextField(editable=False)
    description = models.CharField(max_length=250, null=True, blank=True)
    scope = models.CharField(max_length=16, choices=SCOPE_CHOICES)
    scope_key = models.CharField(max_length=80, db_index=True)
    cluster = models.ForeignKey(Cluster, null=True, blank=True, on_delete=models.PROTECT)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT)
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.PROTECT)
    supports_workspace = models.BooleanField(null=True)
    supports_training = models.BooleanField(null=True)
    supports_inference = models.BooleanField(null=True)
    supports_distributed = models.BooleanField(null=True)
    dist_framework = models.CharField(
        max_length=16, choices=DIST_FRAMEWORK_CHOICES, null=True, blank=True
    )
    auto_delete = models.BooleanField(null=True)
    private = models.BooleanField(null=True)
    spec = models.JSONField(default=dict)
    # Copies of spec values the list page filters and sorts on, kept by sync_from_spec().
    image = models.TextField(blank=True, default="")
    tool_types = models.TextField(blank=True, default="")
    read_only = models.BooleanField(default=False)
    created_by = models.CharField(max_length=255)
    created_at = models.DateTimeField()
    updated_by = models.CharField(max_length=255)
    updated_at = models.DateTimeField()
    update_count = models.BigIntegerField(default=0)
    # The API list's ready-to-send JSON of this row (inventory/listing.py), kept by save().
    listed_meta = models.TextField(default="", editable=False)
    listed_spec = models.TextField(default="", editable=False)
    spec_digest = models.CharField(max_length=32, default="", editable=False)

    objects = EnvironmentQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scope_key", "name_key"], name="environment_name_key_unique_per_scope"
            ),
            # A write that forgot the key (a data migration's historical model has no save()
            # override) is refused rather than stored with a key that clashes with nothing.
            models.CheckConstraint(
                condition=~models.Q(name_key=""), name="environment_name_key_filled"
            ),
        ]
        indexes = [
            # Lists select the ids of the visible environments (scope_key IN ...) for their
            # usage queries: with the id in the index that needs no visit to the table's rows.
            models.Index(fields=["scope_key", "id"], name="environment_scope_key_id"),
            # The list's default order, by name case-insensitively: its first page is read
            # from this index rather than by sorting every visible row.
            models.Index(Lower("name"), name="environment_lower_name"),
            # The list page's window (browse_environments): the ids of one page, filtered by
            # placement and workload types and sorted by name, read from this index alone. Rows
            # carry their spec and list fragments: sorting them whole grew with the tenant.
            # `name` itself is there too: SQLite counts an index as covering only when it
            # holds every column the query names, LOWER(name) is not enough.
            models.Index(
                "scope_key",
                Lower("name"),
                "id",
                "name",
                "supports_workspace",
                "supports_training",
                "supports_inference",
                "supports_distributed",
                name="environment_list_page",
            ),  # fmt: skip
            # The compliance matrix's rows (backends/local_matrix.py), read from this index
            # alone: a row's page holds its spec and fragments, kilobytes the matrix skips
            # (it reads the spec's digest), and reading them cost four times the index. Its
            # condition holds for every row (the column is NOT NULL) and only the matrix asks
            # for it: SQLite would otherwise read the list page's ids from this index too,
            # which cannot give them in name order (4 ms against 0.1 at 100,000).
            models.Index(
                "scope_key",
                "id",
                "name",
                "scope",
                "project_id",
                "spec_digest",
                "supports_workspace",
                "supports_training",
                "supports_inference",
                "supports_distributed",
                "dist_framework",
                name="environment_matrix",
                condition=models.Q(spec_digest__isnull=False),
            ),  # fmt: skip
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.name_key = fold_name(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = update_fields = {*update_fields, "name_key"}
        written = listing.fill(self, update_fields)
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, *written}
        super().save(*args, **kwargs)

    def sync_from_spec(self):
        self.image = (self.spec or {}).get("image") or ""
        self.tool_types = ",".join(tool_types_of(self.spec))


def tool_types_of(spec: dict | None) -> list[str]:
    types = []
    for connection in (spec or {}).get("connections") or []:
        info = connection.get(
            "externalToolInfo" if connection.get("isExternal") else "internalToolInfo"
        )
        if isinstance(info, dict) and info.get("toolType"):
            types.append(info["toolType"])
    return types


class Workload(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=16, choices=WORKLOAD_TYPE_CHOICES)
    status = models.CharField(max_length=64)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="workloads")
    # A workload keeps its own copy of the environment; deleting the environment leaves it be.
    environment = models.ForeignKey(
        Environment, null=True, blank=True, on_delete=models.SET_NULL, related_name="workloads"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        indexes = [
            # usedBy lists each environment's workloads oldest first: read in this order, the
            # database need not sort tens of thousands of rows for a large list.
            models.Index(
                fields=["environment", "created_at", "name"], name="workload_environment_created"
            ),
        ]

    def __str__(self):
        return self.name


class EnvironmentUsage(models.Model):
    """usedBy of an environment as a caller who sees every project and scope gets it (JSON
    text, inventory/usage.py's shape), written ONLY by the database: the triggers of migration
    0010 (inventory/usage_triggers.py) rewrite it in the transaction of any write to workloads,
    templates or environments, whatever path made it. A table of its own, not a column of
    Environment: the ORM never holds it in memory, so no save() of an environment can write
    back a stale copy; a workload write rewrites this narrow row, not the environment's wide
    one, and locks it rather than the environment (concurrent edits do not wait on it).
    A migration that alters Workload, Template or Environment must call
    usage_triggers.uninstall() before and install() after: SQLite rebuilds a table to alter
    it, and its triggers go with it (tests/test_usage_kept.py checks the migrated schema)."""

    environment = models.OneToOneField(
        Environment,
        primary_key=True,
        on_delete=models.DO_NOTHING,  # the environment's delete trigger removes the row
        db_constraint=False,
        related_name="+",
    )
    used_by = models.TextField()

    class Meta:
        db_table = "inventory_environment_usage"

    def __str__(self):
        return str(self.environment_id)


class Template(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=255)
    scope = models.CharField(max_length=16, choices=SCOPE_CHOICES)
    scope_key = models.CharField(max_length=80, db_index=True)
    environment = models.ForeignKey(
        Environment, null=True, blank=True, on_delete=models.SET_NULL, related_name="templates"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


CREDENTIAL_KIND_CHOICES = [(kind, kind) for kind in CREDENTIAL_KINDS]


class PlacedAsset(models.Model):
    """An asset placed on one org node, as environments are (scope, scope_key, project_id)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=255)
    scope = models.CharField(max_length=16, choices=SCOPE_CHOICES)
    scope_key = models.CharField(max_length=80, db_index=True)
    # Only for project scope: documents name the project by id (the rest comes from the tree).
    project_id = models.IntegerField(null=True, blank=True)
    created_by = models.CharField(max_length=255, default="admin@envadmin.local")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class Credential(PlacedAsset):
    """A credential as envadmin knows it: never a secret value, only what names it."""

    kind = models.CharField(max_length=16, choices=CREDENTIAL_KIND_CHOICES)
    # For generic secrets: the key names a workload may read (their values live elsewhere).
    keys = models.JSONField(default=list, blank=True)

    class Meta(PlacedAsset.Meta):
        constraints = [
            models.UniqueConstraint(fields=["scope_key", "name"], name="credential_name_per_scope")
        ]


class Registry(PlacedAsset):
    """An image registry and what it offers: {repository: [tags]} (bounded when loaded)."""

    url = models.CharField(max_length=255)
    repositories = models.JSONField(default=dict, blank=True)

    class Meta(PlacedAsset.Meta):
        constraints = [
            models.UniqueConstraint(fields=["scope_key", "name"], name="registry_name_per_scope")
        ]
