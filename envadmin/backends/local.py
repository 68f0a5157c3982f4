"""The embedded backend: Run:ai's environment API over envadmin's own database."""

import re
import uuid
from types import SimpleNamespace

from django.db import IntegrityError, transaction
from django.db.models import Case, Count, F, Func, IntegerField, Q, TextField, Value, When
from django.db.models.functions import Cast, Coalesce, Concat, Length, Lower, Replace
from django.utils import timezone

from envadmin.accounts.access import Access, Caller
from envadmin.accounts.grants import grant
from envadmin.accounts.models import AccessRule, Role, SubjectType
from envadmin.audit.record import record
from envadmin.audit.visibility import events_by_scope
from envadmin.contract.choices import SCOPE_ID_FIELDS, SUPPORTED_TYPE_KEYS, WORKLOAD_TYPE_KEYS
from envadmin.contract.environment import validate_creation, validate_update
from envadmin.contract.errors import Conflict, Forbidden, InvalidRequest, NotFound
from envadmin.inventory import documents, orgquery
from envadmin.inventory.documents import timestamp
from envadmin.inventory.filters import EnvironmentFilterSet
from envadmin.inventory.models import Environment, fold_name, scope_key
from envadmin.inventory.orgtree import OrgTree
from envadmin.lifecycle.models import Lifecycle
from envadmin.process_tuning import paused_gc

from . import audit_log
from .base import EnvironmentBackend, Params, stale_edit
from .environment_rows import NO_FILTERS, OrgNames, RowFilters
from .local_assets import LocalAssetOperations
from .local_hygiene import LocalHygieneOperations
from .local_impact import LocalImpactOperations
from .local_list import LocalListOperations
from .local_matrix import LocalMatrixOperations
from .local_policies import LocalPolicyOperations
from .org_units import OrgUnits

# Distinct reaches (callers' visible sets) whose org units a process keeps per org tree.
UNITS_PER_TREE = 64

ACCEPTED = {"code": 202, "message": "Request has been accepted."}
READ_ONLY_MESSAGE = "Environment '{name}' is read-only (built in): make a copy to change it."


# What a document needs of an environment. Lists read these as plain rows: building a model
# instance per row (signals, descriptors) cost more than the rest of a 10,000-entry list.
DOCUMENT_FIELDS = (
    "id", "name", "description", "scope", "scope_key", "project_id", "auto_delete", "private",
    "supports_workspace", "supports_training", "supports_inference", "supports_distributed",
    "dist_framework", "spec", "created_by", "created_at", "updated_by", "updated_at",
    "update_count",
)  # fmt: skip


# The scope as the list shows it ("cluster-a / research / team-a", or "tenant"), for search
# and sort in the database.
def _then(field: str):
    """ " / <name>" when the environment has that node, else nothing (Concat reads NULL as "")."""
    return Case(
        When(**{f"{field}__isnull": False}, then=Concat(Value(" / "), field)),
        default=Value(""),
        output_field=TextField(),
    )


SCOPE_PATH = Concat(
    Coalesce(
        "cluster__name", "department__cluster__name", "project__department__cluster__name",
        "scope", output_field=TextField(),
    ),
    _then("department__name"),
    _then("project__department__name"),
    _then("project__name"),
    output_field=TextField(),
)  # fmt: skip


def _rows(queryset, *extra: str) -> list[SimpleNamespace]:
    # The spec comes as its JSON text, decoded by documents.load_json: several times faster than
    # the json module that Django's JSONField decodes with, for the same values.
    # Times come written as the documents write them (documents.RunaiTimestamp).
    fields = [name for name in DOCUMENT_FIELDS if name not in ("spec", "created_at", "updated_at")]
    rows = queryset.values(
        *fields, *extra, spec_json=Cast("spec", TextField()),
        created=documents.RunaiTimestamp("created_at"),
        updated=documents.RunaiTimestamp("updated_at"),
    )  # fmt: skip
    return [
        SimpleNamespace(
            spec=documents.load_json(row.pop("spec_json")),
            created_at=row.pop("created"),
            updated_at=row.pop("updated"),
            **row,
        )
        for row in rows
    ]


MAX_PAGE_WINDOW = 1000  # rows: the largest page size is 100


def _within_reach(filterset, access: Access):
    """The filter set's rows the caller may see, with one list of scope keys where one does:
    given the caller's whole reach (hundreds of keys) beside a node's few, SQLite's planner
    may walk the index by the long list, every visible row, and filter by the short one."""
    keys = filterset.placement_keys()
    if keys is None:
        return filterset.qs.filter(scope_key__any=access.visible)
    if keys <= access.visible:
        return filterset.qs  # the placement's keys alone already are within reach
    return filterset.qs.filter(scope_key__any=keys & access.visible)


def _page_rows(sorted_qs, offset: int, limit: int) -> list[SimpleNamespace]:
    """One window of a sorted list: its ids first, then only those rows. Sorting selected
    whole rows (spec and list fragments) made the database carry every visible row's width
    through the sort, so a page's time grew with the tenant; the ids alone come from the
    environment_list_page index (the name order and workload-type filters) without touching
    the table. An export's window (thousands of rows) is read in one query as before: its ids
    sent back would be thousands of parameters, and it reads nearly every row anyway."""
    if limit > MAX_PAGE_WINDOW:
        return _rows(sorted_qs[offset : offset + limit], "read_only")
    ids = list(sorted_qs.values_list("id", flat=True)[offset : offset + limit])
    if not ids:
        return []
    position = {env_id: index for index, env_id in enumerate(ids)}
    envs = _rows(Environment.objects.filter(pk__in=ids).order_by(), "read_only")
    return sorted(envs, key=lambda env: position[env.id])


class _IdKey(Func):
    """An environment's id as the lifecycle filter compares it: the text the database already
    holds on SQLite (32 hex digits; writing the dashes in on every visible row cost more than
    the rest of the page's count at 100,000), Run:ai's text elsewhere."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):
        return compiler.compile(documents.UUIDText(*self.source_expressions))

    def as_sqlite(self, compiler, connection, **extra_context):
        return compiler.compile(self.source_expressions[0])


class _AssetIdKey(Func):
    """A lifecycle row's asset id (Run:ai's text) in _IdKey's form: on SQLite without its
    dashes, the few lifecycle rows changed rather than every environment row."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):
        return compiler.compile(self.source_expressions[0])

    def as_sqlite(self, compiler, connection, **extra_context):
        return compiler.compile(Replace(self.source_expressions[0], Value("-"), Value("")))


def _in_lifecycle(qs, wanted: str):
    """The environments passing the list's lifecycle filter (environment_rows'), as a subquery
    over envadmin's lifecycle rows (keyed by the id as text): no query of its own."""

    def ids(*states):
        return (
            Lifecycle.objects.filter(state__in=states)
            .annotate(_key=_AssetIdKey("asset_id"))
            .values("_key")
        )

    qs = qs.annotate(_id_text=_IdKey("id"))
    if wanted == "current":
        return qs.exclude(_id_text__in=ids("archived"))
    if wanted == "active":
        return qs.exclude(_id_text__in=ids("deprecated", "archived"))
    return qs.filter(_id_text__in=ids(wanted))


class LocalBackend(
    LocalAssetOperations, LocalPolicyOperations, LocalImpactOperations, LocalListOperations,
    LocalHygieneOperations, LocalMatrixOperations, EnvironmentBackend,
):  # fmt: skip
    """One instance serves one request (get_backend() per request), so the org tree it loads
    once is reused by every call of that request: a page calls the backend several times."""

    _environment_rows = staticmethod(_rows)

    def __init__(self):
        self._tree: OrgTree | None = None
        self._access: tuple[Caller, Access] | None = None
        # (scope key, read only) of the environments a browse of this request read: the page
        # then asks allowed_actions about exactly those, and needs no query for it.
        self._browsed: dict[str, tuple[str, bool]] = {}

    # --- helpers ----------------------------------------------------------------------------

    def _context(self, caller: Caller) -> tuple[OrgTree, Access]:
        if self._tree is None:
            self._tree = OrgTree.load()
        # A page asks several times for the same caller: their reach is walked out once.
        if self._access is None or self._access[0] is not caller:
            self._access = (caller, Access(caller, self._tree))
        return self._tree, self._access[1]

    def _visible_environment(self, asset_id: str, access: Access, lock=False) -> Environment:
        # Locked, the read waits for a writer holding the row; if that writer deleted it, the
        # read finds nothing, and the caller gets the same 404 as for an id that never existed.
        rows = Environment.objects.select_for_update() if lock else Environment.objects
        try:
            env = rows.get(pk=uuid.UUID(str(asset_id)))
        except (Environment.DoesNotExist, ValueError):
            raise NotFound(f"Environment {asset_id} not found.") from None
        if not access.can_view(env.scope_key):
            # Outside the caller's reach it does not exist for them: no data, no hint.
            raise NotFound(f"Environment {asset_id} not found.")
        return env

    def _writable_environment(self, asset_id: str, access: Access, lock=False) -> Environment:
        env = self._visible_environment(asset_id, access, lock=lock)
        if env.read_only:
            raise Forbidden(READ_ONLY_MESSAGE.format(name=env.name))
        if not access.can_write(env.scope_key):
            raise Forbidden(f"You may not change environments of scope '{env.scope}' here.")
        return env

    def _documents(
        self, envs, tree, access, cleaned: dict, ids=None, with_last_used=True
    ) -> list[dict]:
        """Documents of `envs` with what the query asked for, in a fixed number of queries.
        `ids` may be the query that selected `envs`, so thousands of ids need not be sent back.
        Without `with_last_used` compliance comes without usageTimes (the web list's rows do
        not show it)."""
        if ids is None:
            ids = [env.id for env in envs]
        usage = (
            documents.usage_by_environment(ids, access.visible)
            if cleaned.get("usageInfo")
            else None
        )
        with_status = bool(cleaned.get("statusInfo"))
        placements = {}  # one meta placement per node, shared by its environments' documents
        entries = [
            documents.environment_document(e, tree, usage, with_status, placements) for e in envs
        ]
        project, kind = cleaned.get("complyToProject"), cleaned.get("complyToWorkloadType")
        if project is not None and kind:
            # Both halves of the pair are needed; with one of them Run:ai answers without.
            project_key = self.project_key(project, tree, access, "complyToProject")
            judge = self.compliance_for(tree, project_key, kind, cleaned.get("complyToReplicaType"))
            for env, entry in zip(envs, entries, strict=True):
                entry["compliance"] = judge(entry, env.scope_key)
            if with_last_used:
                last_used = documents.last_used(ids, project, WORKLOAD_TYPE_KEYS[kind])
                for env, entry in zip(envs, entries, strict=True):
                    last = last_used.get(str(env.id))
                    entry["usageTimes"] = {"lastUsedByWorkload": timestamp(last)}
        return entries

    @staticmethod
    def _query(params: Params, tree, access: Access, queryset) -> EnvironmentFilterSet:
        filterset = EnvironmentFilterSet(params, queryset, tree=tree, visible=access.visible)
        if not filterset.is_valid():
            raise InvalidRequest.from_field_errors(filterset.errors)
        return filterset

    def environment_name_taken(self, caller: Caller, meta: dict, exclude_id=None) -> bool:
        """The same check create and update make, for a placement the caller may see."""
        tree, access = self._context(caller)
        try:
            key = self._placement_key(meta, tree, access)
        except (InvalidRequest, Forbidden, KeyError):
            return False  # no such placement: the save reports that, not the name
        return self._name_taken(meta["name"], key, exclude_id=exclude_id)

    @staticmethod
    def _name_taken(name: str, key: str, exclude_id=None) -> bool:
        clash = Environment.objects.filter(name_key=fold_name(name), scope_key=key)
        if exclude_id is not None:
            clash = clash.exclude(pk=exclude_id)
        return clash.exists()

    # --- environments -----------------------------------------------------------------------

    @paused_gc()
    def list_environments(self, caller: Caller, params: Params) -> dict:
        tree, access = self._context(caller)
        visible = Environment.objects.filter(scope_key__any=access.visible)
        filterset = self._query(params, tree, access, visible)
        envs = _rows(filterset.qs)
        ids = filterset.qs.order_by().values("id")
        return {"entries": self._documents(envs, tree, access, filterset.form.cleaned_data, ids)}

    def browse_environments(
        self, caller: Caller, params: Params, *, names: OrgNames, filters: RowFilters = NO_FILTERS,
        sort: str = "name", offset: int = 0, limit: int = 50, problems: list | None = None,
    ) -> tuple[list[dict], int]:  # fmt: skip
        """The page's filters and sort done in the database, so a page of 50 costs the same at
        10,000 environments as at 100. Compliance is judged per environment in Python: sorting
        or filtering on it takes the whole list (the interface's default)."""
        if filters.compliance or sort.lstrip("-") in ("compliance", "lifecycle"):
            return super().browse_environments(
                caller, params, names=names, filters=filters, sort=sort, offset=offset, limit=limit
            )
        tree, access = self._context(caller)
        filterset = self._query(params, tree, access, Environment.objects.all())
        qs = _within_reach(filterset, access)
        search = filters.search.strip()
        if search:
            qs = qs.annotate(_path=SCOPE_PATH).filter(
                Q(name__icontains=search) | Q(description__icontains=search)
                | Q(image__icontains=search) | Q(created_by__icontains=search)
                | Q(tool_types__icontains=search) | Q(_path__icontains=search)
            )  # fmt: skip
        if filters.tool:
            qs = qs.filter(tool_types__regex=rf"(^|,){re.escape(filters.tool)}(,|$)")
        if filters.image:
            qs = qs.filter(image__icontains=filters.image)
        if filters.created_by:
            qs = qs.filter(created_by__icontains=filters.created_by)
        if filters.lifecycle:
            qs = _in_lifecycle(qs, filters.lifecycle)
        total = qs.count()
        qs = self._sorted(qs, sort, access)
        envs = _page_rows(qs, offset, limit)
        self._browsed.update({str(env.id): (env.scope_key, env.read_only) for env in envs})
        cleaned = filterset.form.cleaned_data
        return self._documents(envs, tree, access, cleaned, with_last_used=False), total

    @staticmethod
    def _sorted(qs, sort: str, access: Access):
        key, descending = sort.lstrip("-"), sort.startswith("-")
        visible_projects = [
            int(k.split(":", 1)[1]) for k in access.visible if k.startswith("project:")
        ]
        expressions = {
            "name": Lower("name"),
            "description": Lower(Coalesce("description", Value(""))),
            "image": Lower("image"),
            "created_by": Lower("created_by"),
            "created_at": F("created_at"),
            "updated_at": F("updated_at"),
            "scope": Lower(SCOPE_PATH),
            # As the list shows it: "distributed" or "standard".
            "architecture": Case(
                When(supports_distributed=True, then=Value("distributed")),
                default=Value("standard"),
            ),
            # Tools are stored comma-joined: their number is the commas plus one, if any.
            "tools": Case(
                When(tool_types="", then=Value(0)),
                default=Length("tool_types") - Length(Replace("tool_types", Value(","))) + 1,
            ),
            "cluster": Lower(
                Coalesce(
                    "cluster__name",
                    "department__cluster__name",
                    "project__department__cluster__name",
                    Value(""),
                )
            ),  # fmt: skip
            "workload_types": sum(
                (
                    Cast(Coalesce(f"supports_{k}", Value(False)), IntegerField())
                    for k in SUPPORTED_TYPE_KEYS
                ),
                Value(0),
            ),  # fmt: skip
            "workloads": Count(
                "workloads", filter=Q(workloads__project_id__any=visible_projects), distinct=True
            ),
            "templates": Count(
                "templates", filter=Q(templates__scope_key__any=access.visible), distinct=True
            ),
        }
        if key == "status":
            # Run:ai's sync status: a local environment has none ("No status"), all alike, so
            # the tie-breakers alone order them (PostgreSQL refuses a constant in ORDER BY).
            return qs.order_by(Lower("name").asc(), "id")
        order = expressions.get(key, expressions["name"])
        if key in ("workloads", "templates", "workload_types", "tools", "architecture", "cluster",
                   "description", "scope"):  # fmt: skip
            qs = qs.annotate(_sort=order)
            order = F("_sort")
        order = order.desc() if descending else order.asc()
        # Name, then id, break ties so pages never overlap or skip.
        return qs.order_by(order, Lower("name").asc(), "id")

    def get_environment(self, caller: Caller, asset_id: str, params: Params) -> dict:
        tree, access = self._context(caller)
        filterset = self._query(params, tree, access, Environment.objects.none())
        env = self._visible_environment(asset_id, access)
        return self._documents([env], tree, access, filterset.form.cleaned_data)[0]

    def create_environment(
        self, caller: Caller, document: dict, *, restored_from: tuple[str, int] | None = None
    ) -> dict:
        clean = validate_creation(document)
        meta, spec = clean["meta"], clean["spec"]
        tree, access = self._context(caller)
        key = self._placement_key(meta, tree, access)
        if not access.can_write(key):
            raise Forbidden(f"You may not create environments in {tree.path(key)}.")
        if self._name_taken(meta["name"], key):
            raise Conflict(details=f"An environment named '{meta['name']}' exists in this scope.")
        types = meta.get("workloadSupportedTypes") or {}
        now = timezone.now()
        node = tree.nodes[key]
        env = Environment(
            name=meta["name"],
            description=meta.get("description"),
            scope=meta["scope"],
            scope_key=key,
            cluster_id=node.id if node.scope == "cluster" else None,
            department_id=node.id if node.scope == "department" else None,
            project_id=node.id if node.scope == "project" else None,
            supports_workspace=types.get("workspace"),
            supports_training=types.get("training"),
            supports_inference=types.get("inference"),
            supports_distributed=types.get("distributed"),
            dist_framework=types.get("distFramework"),
            auto_delete=meta.get("autoDelete"),
            private=meta.get("private"),
            spec=spec,
            created_by=caller.subject,
            created_at=now,
            updated_by=caller.subject,
            updated_at=now,
        )
        env.sync_from_spec()
        try:
            with transaction.atomic():  # the write and its audit event: both or neither
                env.save(force_insert=True)
                created = documents.environment_document(env, tree)
                record(caller, "create", None, created, scope_path=tree.path(key),
                       restored_from=restored_from)  # fmt: skip
        except IntegrityError:  # a concurrent create won the race for the name
            raise Conflict(
                details=f"An environment named '{meta['name']}' exists in this scope."
            ) from None
        return created

    def _placement_key(self, meta: dict, tree: OrgTree, access: Access) -> str:
        scope = meta["scope"]
        if scope == "system":
            raise Forbidden("The system scope is reserved for Run:ai's own assets.")
        field = SCOPE_ID_FIELDS
        # An id of a level below the scope names a placement the asset will not have: dropping
        # it silently would place the asset higher, and more widely visible, than asked.
        levels = ["tenant", *field]
        for lower in levels[levels.index(scope) + 1 :]:
            if meta.get(field[lower]) is not None:
                name = f"meta.{field[lower]}"
                raise InvalidRequest(
                    f"{name}: not used for an asset of scope '{scope}'.",
                    field_errors={name: [f"Not used for an asset of scope '{scope}'."]},
                )
        if scope == "tenant":
            return "tenant"
        key = scope_key(scope, meta[field[scope]])
        if key not in tree or not access.can_view(key):
            # An unknown node and one the caller cannot see read the same: no existence leak.
            raise InvalidRequest(
                f"meta.{field[scope]}: {scope} {meta[field[scope]]} does not exist.",
                field_errors={f"meta.{field[scope]}": [f"No such {scope}."]},
            )
        # Ids of the ancestors, when sent, must agree with the tree.
        for ancestor_scope in ("cluster", "department"):
            sent = meta.get(field[ancestor_scope])
            if sent is None or ancestor_scope == scope:
                continue
            ancestors = {
                str(tree.nodes[k].id) for k in tree.chain(key) if k.startswith(ancestor_scope)
            }
            if str(sent) not in ancestors:
                name = f"meta.{field[ancestor_scope]}"
                raise InvalidRequest(
                    f"{name}: {sent} is not the {ancestor_scope} of {scope} {meta[field[scope]]}.",
                    field_errors={name: ["Does not match the placement."]},
                )
        return key

    def update_environment(
        self, caller: Caller, asset_id: str, document: dict, *, if_match: int | None = None,
        restored_from: int | None = None,
    ) -> dict:  # fmt: skip
        tree, access = self._context(caller)
        with transaction.atomic():
            # The row lock makes the If-Match comparison and the write one step: of two editors
            # holding the same updateCount, the second waits here and then sees the new count.
            env = self._writable_environment(asset_id, access, lock=True)
            before = documents.environment_document(env, tree)  # for the 412 and the audit
            if if_match is not None and env.update_count != if_match:
                raise stale_edit(if_match, before, document)
            clean = validate_update(document, before["meta"])
            meta = clean["meta"]
            if self._name_taken(meta["name"], env.scope_key, exclude_id=env.pk):
                raise Conflict(details=f"An environment named '{meta['name']}' exists here.")
            env.name = meta["name"]
            env.description = meta.get("description")
            env.spec = clean["spec"]
            env.sync_from_spec()
            env.updated_by = caller.subject
            env.updated_at = timezone.now()
            env.update_count += 1
            try:
                with transaction.atomic():
                    env.save()
            except IntegrityError:
                raise Conflict(
                    details=f"An environment named '{meta['name']}' exists here."
                ) from None
            updated = documents.environment_document(env, tree)
            record(
                caller, "restore" if restored_from else "update", before, updated,
                scope_path=tree.path(env.scope_key),
                restored_from=(str(env.pk), restored_from) if restored_from else None,
            )  # fmt: skip
        return updated

    def delete_environment(
        self, caller: Caller, asset_id: str, *, if_match: int | None = None
    ) -> dict:
        tree, access = self._context(caller)
        with transaction.atomic():
            env = self._writable_environment(asset_id, access, lock=True)
            before = documents.environment_document(env, tree)  # what the audit trail keeps
            if if_match is not None and env.update_count != if_match:
                raise stale_edit(if_match, before)
            env.delete()
            record(caller, "delete", before, None, scope_path=tree.path(env.scope_key))
        return dict(ACCEPTED)

    # --- what the UI may offer -------------------------------------------------------------

    def allowed_actions(self, caller: Caller, asset_ids: list[str]) -> dict[str, set[str]]:
        tree, access = self._context(caller)
        placements = {}
        ids = []
        for asset_id in asset_ids:
            if str(asset_id) in self._browsed:
                placements[str(asset_id)] = self._browsed[str(asset_id)]
                continue
            try:
                ids.append(uuid.UUID(str(asset_id)))
            except ValueError:
                continue
        if ids:
            rows = Environment.objects.filter(pk__in=ids)
            for pk, key, read_only in rows.values_list("id", "scope_key", "read_only"):
                placements[str(pk)] = (key, read_only)
        return {
            pk: ({"edit", "delete"} if access.can_write(key) and not read_only else set())
            for pk, (key, read_only) in placements.items()
        }

    def can_create(self, caller: Caller) -> bool:
        _, access = self._context(caller)
        return bool(access.writable - {"system"})

    def can_create_in(self, caller: Caller, key: str) -> bool:
        # What creatable_scopes holds, without sorting and labelling every writable node.
        _, access = self._context(caller)
        return key != "system" and key in access.writable

    def creatable_scopes(self, caller: Caller) -> list[dict]:
        tree, access = self._context(caller)
        id_field = SCOPE_ID_FIELDS
        scopes = []
        for key in sorted(access.writable, key=lambda k: (len(tree.chain(k)), tree.path(k))):
            node = tree.nodes[key]
            if node.scope == "system":
                continue
            label = "tenant (everyone)" if key == "tenant" else tree.path(key)
            entry = {"scope": node.scope, "label": label, "key": key}
            if node.scope in id_field:
                entry[id_field[node.scope]] = node.id if node.scope == "project" else str(node.id)
            scopes.append(entry)
        return scopes

    # --- org reads --------------------------------------------------------------------------

    def _org_page(self, items, params: Params, key: str) -> dict:
        try:
            offset = int(params.get("offset") or 0)
            limit = int(params.get("limit") or 50)
        except ValueError:
            raise InvalidRequest("offset and limit must be integers.") from None
        if offset < 0 or not 1 <= limit <= 500:
            raise InvalidRequest("offset must be >= 0 and limit between 1 and 500.")
        page = {key: items[offset : offset + limit]}
        if offset + limit < len(items):
            page["next"] = offset + limit
        return page

    def list_projects(self, caller: Caller, params: Params) -> dict:
        tree, access = self._context(caller)
        search = (params.get("search") or "").lower()
        items = [
            documents.project_document(p, tree)
            for p in tree.projects.values()
            if access.can_view(scope_key("project", p.id)) and search in p.name.lower()
        ]

        def value_of(document, field):
            # The contract names the department both departmentId and parentId.
            if field == "parentName":
                return tree.departments[document["parentId"]].name
            return str(document["parentId" if field == "departmentId" else field])

        items = orgquery.filter_and_sort(items, params, orgquery.PROJECT_FIELDS, value_of)
        return self._org_page(items, params, "projects")

    def get_project(self, caller: Caller, project_id: str) -> dict:
        tree, access = self._context(caller)
        try:
            project = tree.projects[int(project_id)]
        except (KeyError, ValueError):
            raise NotFound(f"Project {project_id} not found.") from None
        if not access.can_view(scope_key("project", project.id)):
            raise NotFound(f"Project {project_id} not found.")
        return documents.project_document(project, tree)

    def list_departments(self, caller: Caller, params: Params) -> dict:
        tree, access = self._context(caller)
        items = [
            documents.department_document(d, tree)
            for d in tree.departments.values()
            if access.can_view(scope_key("department", d.id))
        ]
        items = orgquery.filter_and_sort(items, params, orgquery.DEPARTMENT_FIELDS)
        return self._org_page(items, params, "departments")

    def get_department(self, caller: Caller, department_id: str) -> dict:
        tree, access = self._context(caller)
        department = tree.departments.get(str(department_id))
        if department is None or not access.can_view(scope_key("department", department.id)):
            raise NotFound(f"Department {department_id} not found.")
        return documents.department_document(department, tree)

    def org_units(self, caller: Caller) -> OrgUnits:
        """The units are a function of the org tree and the caller's reach: a process keeps
        them on the tree they were read from (OrgTree.load, in this request, replaces the tree
        whenever its rows change), per reach, at most UNITS_PER_TREE reaches. Each request gets
        its own dicts and problems list; the unit documents are shared and never changed."""
        tree, access = self._context(caller)
        memo = tree.__dict__.setdefault("_org_units", {})
        reach = frozenset(access.visible)
        units = memo.get(reach)
        if units is None:
            if len(memo) >= UNITS_PER_TREE:
                memo.clear()
            units = super().org_units(caller)
            if not units.problems:  # a read cut short (its time budget) is not kept
                memo[reach] = units
        return OrgUnits(
            dict(units.clusters), dict(units.departments), dict(units.projects), [*units.problems]
        )

    def list_clusters(self, caller: Caller, params: Params) -> list:
        tree, access = self._context(caller)
        return [
            documents.cluster_document(c)
            for c in tree.clusters.values()
            if access.can_view(scope_key("cluster", c.id))
        ]

    def get_cluster(self, caller: Caller, cluster_uuid: str) -> dict:
        tree, access = self._context(caller)
        # A uuid names the cluster in either case; the tree keys them in lower case.
        cluster = tree.clusters.get(str(cluster_uuid).lower())
        if cluster is None or not access.can_view(scope_key("cluster", cluster.id)):
            raise NotFound(f"Cluster {cluster_uuid} not found.")
        return documents.cluster_document(cluster)

    # --- callers: envadmin issues the tokens and keeps the access rules ---------------------

    def answer_token_request(self, body, request) -> dict:
        return grant(body, request)

    def forwarded_token_subject(self, token: str) -> None:
        return None  # envadmin's own token: the API checks it

    def sign_in_with_password(self, request, username: str, password: str) -> None:
        return None  # envadmin's own accounts: Django's ModelBackend checks the password

    def signed_in_caller(self, user, session, address: str | None) -> Caller:
        # Their access rules, exactly as in the API.
        rules = tuple(
            AccessRule.objects.filter(
                subject_type=SubjectType.USER, subject=user.get_username()
            ).values_list("role", "scope_key")
        )
        if not rules and user.is_superuser:
            # A superuser made with createsuperuser has no rule yet: treat it as the tenant's admin.
            rules = ((Role.SYSTEM_ADMINISTRATOR, "tenant"),)
        return Caller(user.get_username(), SubjectType.USER, rules, origin="ui", address=address)

    def visible_audit_events(self, caller: Caller, *, local_superuser: bool = False):
        return events_by_scope(caller)

    def audit_log(self, caller: Caller, params) -> dict:
        audit_log.may_read(caller)
        checked = audit_log.query(params)
        tree, _ = self._context(caller)
        return audit_log.answer(events_by_scope(caller), tree, checked)

    def visible_scope_keys(self, caller: Caller) -> set[str]:
        return self._context(caller)[1].visible
