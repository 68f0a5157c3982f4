"""Local mode's answers to Run:ai's authorization, credentials and registry reads.

Who may do what comes from the caller's access rules over the org tree (accounts.access), so
these answers agree with what the local backend itself allows. A credential is only its name,
kind, placement and key names: envadmin holds no secret value, so none can be answered.
"""

import uuid

from django.conf import settings
from django.db.models import Q, TextField
from django.db.models.functions import Cast

from envadmin.accounts.access import Access, Caller
from envadmin.accounts.models import ENVIRONMENT_WRITER_ROLES, AccessRule, Role
from envadmin.contract.choices import CREDENTIAL_KINDS, MAX_ASSET_TEXT
from envadmin.contract.errors import InvalidRequest, NotFound
from envadmin.inventory.documents import placement_of, timestamp
from envadmin.inventory.filters import CredentialFilterSet
from envadmin.inventory.models import Credential, Environment, Registry

from .base import Params
from .permitted_scopes import ACTIONS, empty_actions, permitted, resource_type_of

# Run:ai numbers its roles; envadmin's roles get stable numbers in their declared order.
ROLE_IDS = {role: index for index, role in enumerate(Role.values, start=1)}
# Run:ai encrypts credentials with a numbered key; envadmin stores no secret, hence no key.
NO_ENCRYPTION_KEY = 0
# A registry document must carry a user and a password: envadmin knows neither.
MASK = "********"


def _bounded_int(params: Params, name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = None
    if value is None or not low <= value <= high:
        message = f"must be an integer from {low} to {high}."
        raise InvalidRequest(f"{name}: {message}", field_errors={name: [message]})
    return value


def _search(params: Params, name: str) -> str:
    value = params.get(name) or ""
    if len(value) > MAX_ASSET_TEXT:
        message = f"at most {MAX_ASSET_TEXT} characters."
        raise InvalidRequest(f"{name}: {message}", field_errors={name: [message]})
    return value.casefold()


def _asset_meta(asset, tree, kind: str) -> dict:
    meta = {
        "name": asset.name,
        "scope": asset.scope,
        "id": str(asset.id),
        "kind": kind,
        "tenantId": settings.ENVADMIN_TENANT_ID,
        "createdBy": asset.created_by,
        "createdAt": timestamp(asset.created_at),
        "updatedBy": asset.created_by,
        "updatedAt": timestamp(asset.created_at),
        "updateCount": 0,
        **placement_of(asset, tree),
    }
    return {key: value for key, value in meta.items() if value is not None}


class LocalAssetOperations:
    """Mixed into LocalBackend, whose _context(caller) gives (org tree, Access)."""

    # --- authorization ------------------------------------------------------------------
    def permitted_scopes(self, caller: Caller, body) -> dict:
        kind, action = resource_type_of(body)
        tree, _ = self._context(caller)
        answer = empty_actions()
        if kind not in ("environments", "policies"):
            return answer
        readable, writable = set(), set()
        for role, key in caller.rules:
            covered = tree.subtree(key)
            readable |= covered
            if kind == "environments" and role in ENVIRONMENT_WRITER_ROLES:
                writable |= covered
            if kind == "policies" and role == Role.SYSTEM_ADMINISTRATOR:
                writable |= covered
        for name in [action] if action else ACTIONS:
            answer[name] = permitted(tree, readable if name == "read" else writable)
        return answer

    def access_rules(self, caller: Caller, params: Params) -> dict:
        limit = _bounded_int(params, "limit", 50, 1, 500)
        offset = _bounded_int(params, "offset", 0, 0, 2**31 - 1)
        search = _search(params, "search")
        tree, _ = self._context(caller)
        ids = {
            (role, key): pk
            for pk, role, key in AccessRule.objects.filter(
                subject_type=caller.subject_type, subject=caller.subject
            ).values_list("pk", "role", "scope_key")
        }
        rules = []
        for role, key in caller.rules:
            node = tree.nodes.get(key)
            if node is None:
                continue
            rule = {
                "subjectId": caller.subject,
                "subjectType": caller.subject_type,
                "roleId": ROLE_IDS.get(role, 0),
                "roleName": role,
                "scopeId": str(settings.ENVADMIN_TENANT_ID) if key == "tenant" else str(node.id),
                "scopeType": node.scope,
                "scopeName": node.name,
                "tenantId": settings.ENVADMIN_TENANT_ID,
            }
            if node.scope == "system":
                rule["scopeId"] = "system"
            cluster = tree.cluster_of(key)
            if cluster:
                rule["clusterId"] = cluster
            if (role, key) in ids:
                rule["id"] = ids[(role, key)]
            if not search or search in f"{role} {node.name}".casefold():
                rules.append(rule)
        window = rules[offset : offset + limit]
        return {
            "accessRules": {
                "totalRecords": len(rules),
                "displayRecords": len(window),
                "accessRules": window,
            }
        }

    # --- credentials ---------------------------------------------------------------------
    def list_credentials(self, caller: Caller, params: Params) -> dict:
        tree, access = self._context(caller)
        visible = Credential.objects.filter(scope_key__any=access.visible)
        filterset = CredentialFilterSet(params, visible, tree=tree, visible=access.visible)
        if not filterset.is_valid():
            raise InvalidRequest.from_field_errors(filterset.errors)
        credentials = list(filterset.qs)
        cleaned = filterset.form.cleaned_data
        usage = _credential_usage(credentials, access) if cleaned.get("usageInfo") else None
        entries = []
        for credential in credentials:
            entry = {"meta": _asset_meta(credential, tree, CREDENTIAL_KINDS[credential.kind])}
            entry["spec"] = {CREDENTIAL_KINDS[credential.kind]: _credential_spec(credential)}
            if usage is not None:
                entry["usedBy"] = {"assets": {"environments": usage.get(credential.id, [])}}
            if cleaned.get("statusInfo"):
                # Nothing is synced to a cluster locally, as for environments.
                entry["status"] = {"status": "No status"}
            entries.append(entry)
        return {"entries": entries}

    # --- registries ----------------------------------------------------------------------
    def _registries(self, caller: Caller):
        _, access = self._context(caller)
        return Registry.objects.filter(scope_key__any=access.visible)

    def _registry(self, caller: Caller, registry_id) -> Registry:
        try:
            return self._registries(caller).get(pk=uuid.UUID(str(registry_id)))
        except (Registry.DoesNotExist, ValueError):
            raise NotFound(f"Registry {registry_id} not found.") from None

    def _registry_document(self, registry: Registry, tree) -> dict:
        spec = {"url": registry.url, "credentialKind": "password", "user": MASK, "password": MASK}
        return {"meta": _asset_meta(registry, tree, "registry"), "spec": spec}

    def list_registries(self, caller: Caller, params: Params) -> dict:
        tree, _ = self._context(caller)
        registries = self._registries(caller)
        name = params.get("name")
        if name:
            registries = registries.filter(name=name)
        return {"entries": [self._registry_document(r, tree) for r in registries]}

    def get_registry(self, caller: Caller, registry_id: str) -> dict:
        tree, _ = self._context(caller)
        return self._registry_document(self._registry(caller, registry_id), tree)

    def list_repositories(self, caller: Caller, registry_id: str, search: str | None) -> dict:
        wanted = _search({"searchName": search}, "searchName")
        registry = self._registry(caller, registry_id)
        names = sorted(name for name in registry.repositories if wanted in name.casefold())
        return {"repositories": names}

    def list_tags(self, caller: Caller, registry_id: str, repository, search) -> dict:
        if not repository:
            message = "the repository whose tags to list is required."
            raise InvalidRequest(f"repository: {message}", field_errors={"repository": [message]})
        wanted = _search({"searchName": search}, "searchName")
        registry = self._registry(caller, registry_id)
        tags = registry.repositories.get(repository)
        if tags is None:
            raise NotFound(f"Repository {repository[:MAX_ASSET_TEXT]} not found in {registry}.")
        return {"name": repository, "tags": [tag for tag in tags if wanted in tag.casefold()]}


def _credential_spec(credential: Credential) -> dict:
    spec = {"keyId": NO_ENCRYPTION_KEY}
    if credential.kind == "generic-secret":
        spec["keyValuePairs"] = [{"key": key} for key in credential.keys]
    return spec


def _credential_usage(credentials, access: Access) -> dict:
    """{credential id: [{id, name} of visible environments whose spec names it]}."""
    if not credentials:
        return {}
    mentions = Q()
    for credential in credentials:
        mentions |= Q(spec_text__contains=str(credential.id))
    usage = {}
    rows = (
        Environment.objects.filter(scope_key__any=access.visible)
        .annotate(spec_text=Cast("spec", TextField()))
        .filter(mentions)
        .values_list("id", "name", "spec")
    )
    for env_id, name, spec in rows:
        named = {
            str((variable.get("credential") or {}).get("assetId"))
            for variable in (spec or {}).get("environmentVariables") or []
            if isinstance(variable, dict) and isinstance(variable.get("credential"), dict)
        }
        for credential in credentials:
            if str(credential.id) in named:
                usage.setdefault(credential.id, []).append({"id": str(env_id), "name": name})
    return usage
