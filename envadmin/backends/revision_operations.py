"""Every version of an environment, for both backends: read, compare, restore, bring back.

The versions live in envadmin's own database (audit.Revision) whichever backend holds the
environments; who may read or change them is asked of the backend, as for the environment:
a readable environment's versions are readable, a deleted one's are readable to whoever can
see its placement. Restore is an update and undelete a create, so the backend's own rules
(permissions, names, If-Match) apply to them unchanged.
"""

from django.db.models import QuerySet

from envadmin.accounts.access import Caller
from envadmin.audit.models import Action, Revision
from envadmin.audit.revisions import deleted, latest
from envadmin.contract import diff
from envadmin.contract.choices import SCOPE_ID_FIELDS
from envadmin.contract.errors import Conflict, InvalidRequest, NotFound

PLACEMENT_LEVELS = ("cluster", "department", "project")
# The deleted list's filters: those of the environment list that name a placement or a name.
DELETED_FILTERS = ("name", "scope", "clusterId", "departmentId", "projectId")


def restore_document(document: dict) -> dict:
    """The update that brings an environment back to `document`: name, description, spec.
    Placement and workload types are fixed at creation, so a restore leaves them as they are."""
    meta = document.get("meta") or {}
    restored = {"name": meta.get("name")}
    if meta.get("description") is not None:
        restored["description"] = meta["description"]
    return {"meta": restored, "spec": document.get("spec") or {}}


def creation_document(document: dict) -> dict:
    """The create that brings a deleted environment back: its name, placement and spec."""
    meta = document.get("meta") or {}
    scope = meta.get("scope")
    created = {"name": meta.get("name"), "scope": scope}
    for key in ("description", "autoDelete", "private"):
        if meta.get(key) is not None:
            created[key] = meta[key]
    types = meta.get("workloadSupportedTypes")
    if isinstance(types, dict):
        created["workloadSupportedTypes"] = {k: v for k, v in types.items() if v is not None}
    if scope in PLACEMENT_LEVELS:
        for level in PLACEMENT_LEVELS[: PLACEMENT_LEVELS.index(scope) + 1]:
            if meta.get(SCOPE_ID_FIELDS[level]) is not None:
                created[SCOPE_ID_FIELDS[level]] = meta[SCOPE_ID_FIELDS[level]]
    return {"meta": created, "spec": document.get("spec") or {}}


def revision_number(value, name: str) -> int:
    text = str(value if value is not None else "").strip()
    if not text.isdigit() or not 1 <= int(text) < 2**31:
        raise InvalidRequest(f"{name}: a revision number (1 or more) is required.")
    return int(text)


class RevisionOperations:
    """Mixed into EnvironmentBackend; uses its get/update/create and visible_scope_keys."""

    def _readable_versions(self, caller: Caller, asset_id: str) -> None:
        """NotFound unless the caller can read the environment, or, once it is deleted, its
        placement. A read in proxy mode also records a version changed outside envadmin."""
        try:
            self.get_environment(caller, asset_id, {})
            return
        except NotFound:
            last = latest(str(asset_id))
            if last is None or last.action != Action.DELETE:
                raise
            if last.scope_key not in self.visible_scope_keys(caller):
                raise

    def revisions(self, caller: Caller, asset_id: str) -> QuerySet:
        """Its revisions, newest first."""
        self._readable_versions(caller, asset_id)
        return Revision.objects.filter(asset_id=str(asset_id)).order_by("-revision")

    def revision(self, caller: Caller, asset_id: str, number) -> Revision:
        number = revision_number(number, "revision")
        found = self.revisions(caller, asset_id).filter(revision=number).first()
        if found is None:
            raise NotFound(f"Environment {asset_id} has no revision {number}.")
        return found

    def compare_revisions(self, caller: Caller, asset_id: str, first, second) -> dict:
        """{"from", "to", "changes"}: field by field, from one revision's document to another."""
        first, second = revision_number(first, "from"), revision_number(second, "to")
        found = {
            r.revision: r
            for r in self.revisions(caller, asset_id).filter(revision__in={first, second})
        }
        for number in (first, second):
            if number not in found:
                raise NotFound(f"Environment {asset_id} has no revision {number}.")
        before, after = found[first].document, found[second].document
        changes = diff.changes(diff.editable(before), diff.editable(after))
        return {"from": first, "to": second, "changes": changes}

    def restore_environment(
        self, caller: Caller, asset_id: str, number, *, if_match: int | None = None
    ) -> dict:
        """Update the environment to revision `number`'s name, description and spec."""
        revision = self.revision(caller, asset_id, number)
        return self.update_environment(
            caller, asset_id, restore_document(revision.document),
            if_match=if_match, restored_from=revision.revision,
        )  # fmt: skip

    def deleted_environments(self, caller: Caller, params) -> list[Revision]:
        """The delete revisions of environments the caller could see, newest first."""
        unknown = sorted(set(params) - set(DELETED_FILTERS))
        if unknown:
            raise InvalidRequest(
                f"{unknown[0]}: unknown parameter.", f"Known: {', '.join(DELETED_FILTERS)}."
            )
        rows = deleted().filter(scope_key__any=self.visible_scope_keys(caller))
        if params.get("name"):
            rows = rows.filter(asset_name__iexact=params["name"])
        if params.get("scope"):
            rows = rows.filter(document__meta__scope=params["scope"])
        for scope, field in SCOPE_ID_FIELDS.items():
            if params.get(field):
                value = str(params[field])
                rows = rows.filter(
                    scope_key=f"{scope}:{value.lower() if scope == 'cluster' else value}"
                )
        return list(rows[:500])

    def undelete_environment(self, caller: Caller, asset_id: str) -> dict:
        """A new environment (a new id) from a deleted one's last revision."""
        last = latest(str(asset_id))
        if last is None or last.action != Action.DELETE:
            raise NotFound(f"No deleted environment {asset_id}.")
        if last.scope_key not in self.visible_scope_keys(caller):
            raise NotFound(
                f"No deleted environment {asset_id}.",
                "Its placement does not exist any more, or you cannot see it.",
            )
        again = Revision.objects.filter(restored_from_asset=str(asset_id)).exclude(
            asset_id=str(asset_id)
        )
        if again.exists():
            raise Conflict(
                "This environment was brought back already.",
                f"It is environment {again.first().asset_id}.",
            )
        return self.create_environment(
            caller, creation_document(last.document), restored_from=(str(asset_id), last.revision)
        )
