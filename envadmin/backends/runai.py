"""The proxy backend: every action forwarded to a Run:ai control plane, answers as it gives them.

The caller's own token is forwarded unchanged, so Run:ai enforces their permissions. Org units
and policies are cached briefly per caller (they change rarely); environments never are. The
draft compliance preview fetches the effective policy from Run:ai and judges the draft with the
same pure engine as the local backend. Run:ai issues and judges every token: the API's bearer
tokens pass unchecked, web admin users sign in with Run:ai's password grant, and a caller reads
the audit events they made.
"""

import hashlib
import threading
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from envadmin.accounts.access import Caller
from envadmin.accounts.grants import password_grant_username
from envadmin.accounts.models import SubjectType
from envadmin.audit.record import record_acknowledged
from envadmin.audit.revisions import observe_quietly
from envadmin.audit.visibility import events_by_actor
from envadmin.compliance.engine import default_source_label, evaluate
from envadmin.compliance.impact import ProjectCase, policy_impact
from envadmin.contract.choices import POLICY_SCOPES, SCOPE_ID_FIELDS, WORKLOAD_TYPE_KEYS
from envadmin.contract.errors import BackendError, InvalidRequest, NotFound, Unauthorized
from envadmin.contract.policy import POLICY_PATHS, policy_version, validate_policy_request
from envadmin.runai.client import RunaiClient
from envadmin.runai.errors import UpstreamError
from envadmin.runai.tokens import (
    SESSION_KEY,
    TOKEN_PATH,
    ServiceAccountTokens,
    SessionTokens,
    store_in_session,
    unverified_subject,
)

from .base import EnvironmentBackend, Params, stale_edit, stale_policy
from .runai_permissions import PERMITTED_SCOPES, RUNAI_ACTION, NoAnswer, covers, read_permissions

ENVIRONMENTS = "/api/v1/asset/environment"
# A policy impact reads one environment list per project under the node, and the policy of each
# node of their chains: past this many projects it asks to judge a lower node instead.
MAX_IMPACT_PROJECTS = 100
MAX_PROJECT_PAGES = 20
PATH_OF_TYPE = {kind: f"/api/v2/policy/{path}" for path, kind in POLICY_PATHS.items()}

_lock = threading.Lock()
_shared: dict = {}

ME_ACCESS_RULES = "/api/v1/authorization/me/access-rules"
CREDENTIALS = "/api/v1/asset/credentials"
REGISTRIES = "/api/v1/asset/registries"
AUDIT_LOG = "/api/v1/audit/log"


def shared_client() -> RunaiClient:
    """One client (one pooled session) per process, built from the settings."""
    with _lock:
        key = (settings.RUNAI_URL, settings.RUNAI_CONNECT_TIMEOUT, settings.RUNAI_READ_TIMEOUT)
        if _shared.get("key") != key:
            if not settings.RUNAI_URL:
                raise ImproperlyConfigured("ENVADMIN_BACKEND=runai needs RUNAI_URL.")
            _shared["client"] = RunaiClient(
                settings.RUNAI_URL,
                connect_timeout=settings.RUNAI_CONNECT_TIMEOUT,
                read_timeout=settings.RUNAI_READ_TIMEOUT,
                retries=settings.RUNAI_RETRIES,
            )
            _shared["service"] = None
            _shared["key"] = key
        return _shared["client"]


def service_tokens() -> ServiceAccountTokens | None:
    """envadmin's own service account, when RUNAI_CLIENT_ID/RUNAI_CLIENT_SECRET are set."""
    client = shared_client()
    if not (settings.RUNAI_CLIENT_ID and settings.RUNAI_CLIENT_SECRET):
        return None
    with _lock:
        if _shared.get("service") is None:
            _shared["service"] = ServiceAccountTokens(
                client, settings.RUNAI_CLIENT_ID, settings.RUNAI_CLIENT_SECRET
            )
        return _shared["service"]


# Part of every cached read's key: moving it on forgets them all at once, in every instance,
# without clearing the shared cache (it also holds the sign-in throttle counters).
GENERATION_KEY = "runai:generation"


def forget_cached_reads() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not set yet (or expired)
        cache.set(GENERATION_KEY, 1, None)


def _segment(value) -> str:
    """An id as one path segment: "..", "/" or "?" in it must not reach another Run:ai path."""
    text = str(value)
    if text in ("", ".", ".."):  # quoting leaves dots alone, and URLs resolve dot segments
        raise NotFound(f"Resource id {text!r} not found.")
    return quote(text, safe="")


def _params(params: Params | None) -> dict:
    """Query parameters as Run:ai should see them: every one passed through, as sent."""
    if params is None:
        return {}
    if hasattr(params, "lists"):  # a QueryDict: keep repeated parameters
        return {key: values if len(values) > 1 else values[0] for key, values in params.lists()}
    return {key: value for key, value in params.items() if value is not None}


def _policy_node_params(meta) -> dict:
    """The GET parameters naming the node a policy write's meta names."""
    if not isinstance(meta, dict) or meta.get("scope") not in POLICY_SCOPES:
        raise InvalidRequest("meta.scope: needed to compare the policy with If-Match.")
    params = {"scope": meta["scope"]}
    field = SCOPE_ID_FIELDS.get(meta["scope"])
    if field:
        if meta.get(field) is None:
            raise InvalidRequest(f"meta.{field}: needed to compare the policy with If-Match.")
        params[field] = str(meta[field])
    return params


def _node_of(meta: dict) -> tuple[str, str]:
    """(scope, id as text) of the node a validated policy meta names; the tenant's id is ""."""
    scope = meta["scope"]
    field = SCOPE_ID_FIELDS.get(scope)
    node_id = str(meta[field]) if field else ""
    return scope, node_id.lower() if scope == "cluster" else node_id


def _node_params(node: tuple[str, str]) -> dict:
    scope, node_id = node
    return {"scope": scope, SCOPE_ID_FIELDS[scope]: node_id} if node_id else {"scope": scope}


def _source(node: tuple[str, str]) -> dict:
    """sourceOfRule of a node, as the local backend writes it (a project's id an integer)."""
    scope, node_id = node
    if not node_id:
        return {"scope": scope}
    return {"scope": scope, SCOPE_ID_FIELDS[scope]: int(node_id) if scope == "project" else node_id}


# Run:ai's answers as the impact reads them: anything else than the documented shapes is
# left out, never a 500.
def _object(answer) -> dict:
    return answer if isinstance(answer, dict) else {}


def _own_policy(answer) -> dict | None:
    """The node's own policy of a GET /api/v2/policy/<type> answer."""
    policy = _object(answer).get("policy")
    return policy if isinstance(policy, dict) else None


def _asset_id(entry) -> str | None:
    meta = _object(entry).get("meta")
    asset_id = _object(meta).get("id")
    return str(asset_id) if asset_id not in (None, "") else None


def _project_id(project) -> int | None:
    try:
        return int(_object(project).get("id"))
    except (TypeError, ValueError):
        return None


def _chain_of(project: dict) -> list[tuple[str, str]]:
    """A project's nodes from the tenant down, as Run:ai's project document names them."""
    nodes = [
        ("cluster", str(project.get("clusterId") or "").lower()),
        ("department", str(project.get("parentId") or "")),
        ("project", str(project["id"])),
    ]
    return [("tenant", "")] + [node for node in nodes if node[1]]


class RunaiBackend(EnvironmentBackend):
    def __init__(self):
        self.client = shared_client()

    # --- calls ------------------------------------------------------------------------------

    def _provider(self, caller: Caller):
        if caller.token_provider is not None:
            return caller.token_provider
        if caller.token:
            return None
        provider = service_tokens()
        if provider is None:
            raise Unauthorized(
                "No Run:ai credentials: sign in with your Run:ai account, or configure "
                "RUNAI_CLIENT_ID and RUNAI_CLIENT_SECRET."
            )
        return provider

    def _call(self, caller: Caller, method: str, path: str, *, params=None, json=None):
        # An API caller's own token is forwarded unchanged; a provider's is renewed once when
        # Run:ai refuses it (the client does that).
        provider = self._provider(caller)
        return self.client.request(method, path, params=params, json=json,
                                   token=caller.token, token_provider=provider)  # fmt: skip

    def _document(self, caller, method, path, **kwargs):
        return self._call(caller, method, path, **kwargs)[1]

    def _cached(self, caller: Caller, path: str, params: dict):
        """GET with a short per-caller cache, for data that changes rarely."""
        who = caller.token or caller.subject or ""
        generation = cache.get(GENERATION_KEY, 0)
        key = (
            "runai:"
            + hashlib.sha256(
                f"{settings.RUNAI_URL}|{generation}|{who}|{path}|{sorted(params.items())}".encode()
            ).hexdigest()
        )
        found = cache.get(key)
        if found is None:
            found = self._document(caller, "GET", path, params=params)
            cache.set(key, found, settings.RUNAI_CACHE_SECONDS)
        return found

    # --- environments: never cached ---------------------------------------------------------

    # A read records the versions it meets that envadmin has not (changes made outside it).
    def list_environments(self, caller, params):
        answer = self._document(caller, "GET", ENVIRONMENTS, params=_params(params))
        if isinstance(answer, dict) and isinstance(answer.get("entries"), list):
            observe_quietly(answer["entries"])
            self._remember(answer["entries"])
        return answer

    def create_environment(self, caller, document, *, restored_from=None):
        created = self._document(caller, "POST", ENVIRONMENTS, json=document)
        record_acknowledged(caller, "create", None, created, restored_from=restored_from)
        return created

    def get_environment(self, caller, asset_id, params):
        document = self._document(
            caller, "GET", f"{ENVIRONMENTS}/{_segment(asset_id)}", params=_params(params)
        )
        observe_quietly([document])
        self._remember([document])
        return document

    def update_environment(self, caller, asset_id, document, *, if_match=None, restored_from=None):
        path = f"{ENVIRONMENTS}/{_segment(asset_id)}"
        if if_match is not None:
            # Run:ai has no If-Match: read, compare, then write. That narrows the window for a lost
            # edit to the moment between the two calls instead of closing it (see the README).
            current = self._document(caller, "GET", path)
            if (current.get("meta") or {}).get("updateCount") != if_match:
                raise stale_edit(if_match, current, document)
        else:
            current = self._before_change(caller, path)
        updated = self._document(caller, "PUT", path, json=document)
        # Run:ai answers the updated asset; should it not, what it accepted is what was sent.
        after = updated if isinstance(updated, dict) and "spec" in updated else document
        record_acknowledged(
            caller, "restore" if restored_from else "update", current, after,
            asset_id=str(asset_id),
            restored_from=(str(asset_id), restored_from) if restored_from else None,
        )  # fmt: skip
        return updated

    def delete_environment(self, caller, asset_id, *, if_match=None):
        path = f"{ENVIRONMENTS}/{_segment(asset_id)}"
        if if_match is not None:  # as for update: read, compare, then delete
            current = self._document(caller, "GET", path)
            if (current.get("meta") or {}).get("updateCount") != if_match:
                raise stale_edit(if_match, current)
        else:
            current = self._before_change(caller, path)
        answer = self._document(caller, "DELETE", path)
        record_acknowledged(caller, "delete", current, None, asset_id=str(asset_id))
        return answer

    def _before_change(self, caller, path) -> dict | None:
        """The asset before a change, for the audit trail. A failed read must not block the
        change (Run:ai decides): the event then keeps only what the change itself tells."""
        try:
            return self._document(caller, "GET", path)
        except BackendError:
            return None

    # --- org units: cached briefly ----------------------------------------------------------

    def list_projects(self, caller, params):
        return self._cached(caller, "/api/v1/org-unit/projects", _params(params))

    def get_project(self, caller, project_id):
        return self._cached(caller, f"/api/v1/org-unit/projects/{_segment(project_id)}", {})

    def list_departments(self, caller, params):
        return self._cached(caller, "/api/v1/org-unit/departments", _params(params))

    def get_department(self, caller, department_id):
        return self._cached(caller, f"/api/v1/org-unit/departments/{_segment(department_id)}", {})

    def list_clusters(self, caller, params):
        return self._cached(caller, "/api/v1/clusters", _params(params))

    def get_cluster(self, caller, cluster_uuid):
        return self._cached(caller, f"/api/v1/clusters/{_segment(cluster_uuid)}", {})

    # --- what the UI may offer: Run:ai's permitted-scopes (runai_permissions) --------------

    def _permissions(self, caller) -> dict | NoAnswer:
        """The caller's PermittedScopesActions for environments: asked at most once per request
        (this instance), and cached per caller across requests."""
        memo = self.__dict__.setdefault("_permissions_read", {})
        key = (caller.subject_type, caller.subject, caller.token)
        if key not in memo:

            def ask(body):
                return self._document(caller, "POST", PERMITTED_SCOPES, json=body)

            memo[key] = read_permissions(ask, caller, cache.get(GENERATION_KEY, 0))
        return memo[key]

    def allowed_actions(self, caller, asset_ids):
        permissions = self._permissions(caller)
        if isinstance(permissions, NoAnswer):
            # No answer (an older Run:ai without permitted-scopes, a refusal, an error): offer
            # the actions and let Run:ai refuse the write itself (its 403 is shown next to the
            # action), rather than hide what may well be allowed.
            return {asset_id: {"edit", "delete"} for asset_id in asset_ids}
        allowed = {}
        for asset_id in asset_ids:
            meta = self._meta_of(caller, str(asset_id))
            if meta is None:
                allowed[asset_id] = set()  # not readable: not changeable either
                continue
            chain = self._node_chain(caller, meta)
            allowed[asset_id] = {
                action for action, runai_action in RUNAI_ACTION.items()
                if covers(permissions.get(runai_action), meta.get("scope"), chain)
            }  # fmt: skip
        return allowed

    def may_update_environment(self, caller, document):
        # envadmin's own metadata (the lifecycle) has no Run:ai write that would refuse it, so
        # here no answer is a no; a failing Run:ai is reported as such, not as a refusal.
        permissions = self._permissions(caller)
        if isinstance(permissions, NoAnswer):
            if permissions.error is not None and permissions.error.status >= 500:
                raise permissions.error
            return False
        meta = document.get("meta") or {}
        chain = self._node_chain(caller, meta)
        return covers(permissions.get("update"), meta.get("scope"), chain)

    def _remember(self, documents) -> None:
        """Keeps the metas of the environments this request read: allowed_actions judges them
        without reading them again."""
        seen = self.__dict__.setdefault("_metas_read", {})
        for document in documents:
            meta = document.get("meta") if isinstance(document, dict) else None
            if isinstance(meta, dict) and meta.get("id") not in (None, ""):
                seen[str(meta["id"])] = meta

    def _meta_of(self, caller, asset_id: str) -> dict | None:
        seen = self.__dict__.setdefault("_metas_read", {})
        if asset_id not in seen:
            try:
                self.get_environment(caller, asset_id, {})
            except BackendError:
                return None
        return seen.get(asset_id)

    def _node_chain(self, caller, meta: dict) -> list[tuple[str, str]]:
        """(PermittedScopes list, id) of an environment's node and its ancestors up to its
        cluster, the missing ids read from the org units Run:ai shows the caller (one cached
        read per request); an ancestor Run:ai does not show the caller is left out."""
        scope = meta.get("scope")
        project, department = meta.get("projectId"), meta.get("departmentId")
        cluster = meta.get("clusterId")
        chain = []
        try:
            if scope == "project" and project is not None:
                chain.append(("projects", project))
                if department is None or cluster is None:
                    found = self.org_units(caller).projects.get(_project_id({"id": project}))
                    department = department or (found or {}).get("parentId")
                    cluster = cluster or (found or {}).get("clusterId")
            if scope in ("project", "department") and department is not None:
                chain.append(("departments", department))
                if cluster is None:
                    found = self.org_units(caller).departments.get(str(department))
                    cluster = (found or {}).get("clusterId")
        except BackendError:
            pass
        if scope in ("project", "department", "cluster") and cluster is not None:
            chain.append(("clusters", cluster))
        return chain

    def _visible_scopes(self, caller) -> list[dict]:
        """Every placement among the org units Run:ai lists for the caller, with the chain
        of each (its node and ancestors) under "chain"."""
        units = self.org_units(caller)
        clusters = {uuid: cluster["name"] for uuid, cluster in units.clusters.items()}
        names = {key: d["name"] for key, d in units.departments.items()}
        scopes = [{"scope": "tenant", "label": "tenant (everyone)", "key": "tenant", "chain": []}]
        scopes += [
            {"scope": "cluster", "clusterId": cid, "label": name, "key": f"cluster:{cid}",
             "chain": [("clusters", cid)]}
            for cid, name in sorted(clusters.items(), key=lambda item: item[1])
        ]  # fmt: skip
        scopes += [
            {"scope": "department", "departmentId": key, "key": f"department:{key}",
             "label": f"{clusters.get(d.get('clusterId'), '')} / {d['name']}",
             "chain": [("departments", key), ("clusters", d.get("clusterId"))]}
            for key, d in units.departments.items()
        ]  # fmt: skip
        scopes += [
            {"scope": "project", "projectId": pid, "key": f"project:{pid}",
             "label": f"{clusters.get(p.get('clusterId'), '')} / "
                      f"{names.get(str(p.get('parentId')), '')} / {p['name']}",
             "chain": [("projects", pid), ("departments", p.get("parentId")),
                       ("clusters", p.get("clusterId"))]}
            for pid, p in units.projects.items()
        ]  # fmt: skip
        return scopes

    def creatable_scopes(self, caller):
        # The placements Run:ai permits `create` on, or under one. No answer: every visible
        # placement, as for the actions (Run:ai refuses the create itself).
        permissions = self._permissions(caller)
        permitted = None if isinstance(permissions, NoAnswer) else permissions.get("create")
        return [
            {key: value for key, value in scope.items() if key != "chain"}
            for scope in self._visible_scopes(caller)
            if permitted is None or covers(permitted, scope["scope"], scope["chain"])
        ]

    # --- policies ---------------------------------------------------------------------------

    def get_policy(self, caller, workload_type, params):
        return self._cached(caller, PATH_OF_TYPE[workload_type], _params(params))

    def write_policy(self, caller, workload_type, body, *, partial, validate_only, if_match=None):
        if if_match is not None:  # as for environments: read, compare, then write
            node = _policy_node_params(body.get("meta") if isinstance(body, dict) else None)
            current = self._document(caller, "GET", PATH_OF_TYPE[workload_type], params=node)
            if policy_version(current) != if_match:
                raise stale_policy(if_match, current, None if partial else body.get("policy"))
        method = "PATCH" if partial else "PUT"
        params = {"validateOnly": "true"} if validate_only else None
        answer = self._document(caller, method, PATH_OF_TYPE[workload_type], params=params,
                                json=body)  # fmt: skip
        forget_cached_reads()  # a policy changed: cached effective policies may be stale
        return answer

    def delete_policy(self, caller, workload_type, params, *, if_match=None):
        if if_match is not None:
            current = self._document(
                caller, "GET", PATH_OF_TYPE[workload_type], params=_params(params)
            )
            if policy_version(current) != if_match:
                raise stale_policy(if_match, current)
        self._call(caller, "DELETE", PATH_OF_TYPE[workload_type], params=_params(params))
        forget_cached_reads()

    def list_policies(self, caller, params):
        return self._cached(caller, "/api/v2/policy", _params(params))

    # --- the draft preview: Run:ai's effective policy, envadmin's engine ----------------------

    def draft_policy(self, caller, project_id, workload_type):
        self.get_project(caller, str(project_id))  # a project the caller cannot see: refused
        policy = self.get_policy(
            caller, WORKLOAD_TYPE_KEYS[workload_type],
            {"scope": "project", "projectId": str(project_id)},
        )  # fmt: skip
        return policy.get("effective") or {}, default_source_label

    def draft_compliance(self, caller, draft, project_id, workload_type, replica_type):
        project = self.get_project(caller, str(project_id))
        policy = self.get_policy(
            caller, WORKLOAD_TYPE_KEYS[workload_type],
            {"scope": "project", "projectId": str(project_id)},
        )  # fmt: skip
        meta = draft["meta"]
        # The project can use what is placed on its chain: tenant, its cluster, department, itself.
        visible = (
            meta["scope"] == "tenant"
            or (meta["scope"] == "cluster" and meta.get("clusterId") == project.get("clusterId"))
            or (meta["scope"] == "department"
                and str(meta.get("departmentId")) == str(project.get("parentId")))
            or (meta["scope"] == "project" and str(meta.get("projectId")) == str(project_id))
        )  # fmt: skip
        note = "" if visible else f"it is placed outside project '{project.get('name')}'."
        return evaluate(
            {"meta": meta, "spec": draft["spec"]}, policy.get("effective") or {}, workload_type,
            replica_type, visible, visibility_note=note,
        )  # fmt: skip

    # --- policy impact: Run:ai's policies and lists, envadmin's engine ------------------------

    def impact_of_policy(self, caller, workload_type, meta, policy):
        kind = WORKLOAD_TYPE_KEYS[workload_type]
        clean = validate_policy_request({"meta": meta, "policy": policy}, kind)
        target = _node_of(clean["meta"])
        path = PATH_OF_TYPE[kind]
        current = _object(self._document(caller, "GET", path, params=_node_params(target)))
        # Run:ai judges the policy and the caller's right to write it, as the PUT would; a
        # deletion is asked as rewriting the policy the node has.
        sent = policy if policy is not None else _own_policy(current) or {}
        self._document(caller, "PUT", path, params={"validateOnly": "true"},
                       json={"meta": meta, "policy": sent})  # fmt: skip
        projects = [p for p in self._all_projects(caller) if target in _chain_of(p)]
        if len(projects) > MAX_IMPACT_PROJECTS:
            raise InvalidRequest(
                f"meta: {len(projects)} projects lie under this node; in proxy mode the impact "
                f"judges at most {MAX_IMPACT_PROJECTS}. Ask about a lower node."
            )
        own = {target: _own_policy(current)}
        for node in {n for p in projects for n in _chain_of(p)} - {target}:
            own[node] = _own_policy(self.get_policy(caller, kind, _node_params(node)))
        after = {**own, target: None if policy is None else clean["policy"]}
        environments, cases = {}, []
        for project in projects:
            answer = self._document(
                caller, "GET", ENVIRONMENTS, params={"projectId": str(project["id"])}
            )
            listed = [e for e in _object(answer).get("entries") or [] if _asset_id(e)]
            for entry in listed:
                environments.setdefault(_asset_id(entry), entry)
            chain = _chain_of(project)
            cases.append(ProjectCase(
                id=_project_id(project), name=str(project.get("name", "")),
                before=[(_source(n), own[n]) for n in chain if own.get(n)],
                after=[(_source(n), after[n]) for n in chain if after.get(n)],
                environment_ids=tuple(_asset_id(e) for e in listed),
            ))  # fmt: skip
        return policy_impact(cases, environments, workload_type)

    def _all_projects(self, caller) -> list[dict]:
        """Every project Run:ai lists for the caller (pages of 500, at most MAX_PROJECT_PAGES
        of them), those without an integer id left out."""
        projects, offset = [], 0
        for _ in range(MAX_PROJECT_PAGES):
            page = self.list_projects(caller, {"limit": 500, "offset": offset})
            page = page if isinstance(page, dict) else {}
            projects += [p for p in page.get("projects") or [] if _project_id(p) is not None]
            if not isinstance(page.get("next"), int) or page["next"] <= offset:
                break
            offset = page["next"]
        return projects

    # --- callers: Run:ai issues and judges every token --------------------------------------

    def grant_token(self, body) -> dict:
        """POST /api/v1/token forwarded as it is: Run:ai issues the caller's tokens."""
        return self.client.request("POST", TOKEN_PATH, json=body)[1]

    def answer_token_request(self, body, request):
        try:
            return self.grant_token(body)
        except BackendError as error:
            username = password_grant_username(body)
            if username and error.status in (400, 401):
                # Run:ai checked the password, not authenticate(): report it the same way, so
                # the sign-in lockout counts it.
                credentials = {"username": username}
                user_login_failed.send(__name__, credentials=credentials, request=request)
            raise

    def forwarded_token_subject(self, token):
        return unverified_subject(token)

    def sign_in_with_password(self, request, username, password):
        """The password grant; the user's tokens go into the (database-backed) session."""
        local = get_user_model().objects.filter(username=username).first()
        if local is not None and local.has_usable_password():
            # A local account of that name signs in with its own password (next backend);
            # a Run:ai user must never take it over, nor is its password sent to Run:ai.
            return None
        body = {"grantType": "password", "username": username, "password": password}
        try:
            answer = self.grant_token(body)
        except UpstreamError as error:
            if error.status >= 500:
                messages.error(request, f"Signing in through Run:ai failed: {error.message}")
            return None  # wrong credentials: the next backend (a local account) may still match
        user = local
        if user is None:
            user = get_user_model().objects.create_user(username=username)
            user.set_unusable_password()
            user.save(update_fields=["password"])
        store_in_session(request.session, answer)
        return user

    def signed_in_caller(self, user, session, address):
        # Run:ai judges what the user may do: their own tokens, else envadmin's service account.
        provider = SessionTokens(session, self.client) if SESSION_KEY in session else None
        return Caller(
            user.get_username(), SubjectType.USER, (), token_provider=provider,
            origin="ui", address=address,
        )  # fmt: skip

    def visible_scope_keys(self, caller):
        # The org units Run:ai lists for the caller (cached briefly); the tenant is everyone's.
        return {scope["key"].lower() if scope["scope"] == "cluster" else scope["key"]
                for scope in self._visible_scopes(caller)}  # fmt: skip

    def visible_audit_events(self, caller, *, local_superuser=False):
        if caller.token:
            # An API caller's token names them only once Run:ai accepts it (it signed it): a
            # cheap, cached read makes Run:ai judge it before any event is shown.
            self.list_clusters(caller, {})
        return events_by_actor(caller, local_superuser=local_superuser)

    # --- authorization, credentials, registries, audit log: forwarded as asked ------------
    # The caller's token goes with each call, so Run:ai answers what it allows that caller.

    def permitted_scopes(self, caller, body):
        return self._document(caller, "POST", PERMITTED_SCOPES, json=body)

    def access_rules(self, caller, params):
        return self._document(caller, "GET", ME_ACCESS_RULES, params=_params(params))

    def list_credentials(self, caller, params):
        return self._document(caller, "GET", CREDENTIALS, params=_params(params))

    def list_registries(self, caller, params):
        return self._document(caller, "GET", REGISTRIES, params=_params(params))

    def get_registry(self, caller, registry_id):
        return self._document(caller, "GET", f"{REGISTRIES}/{_segment(registry_id)}")

    def list_repositories(self, caller, registry_id, search):
        params = {"searchName": search} if search else {}
        path = f"{REGISTRIES}/{_segment(registry_id)}/repositories"
        return self._document(caller, "GET", path, params=params)

    def list_tags(self, caller, registry_id, repository, search):
        params = {"repository": repository, "searchName": search}
        path = f"{REGISTRIES}/{_segment(registry_id)}/repositories/tags"
        return self._document(
            caller, "GET", path, params={k: v for k, v in params.items() if v is not None}
        )

    def audit_log(self, caller, params):
        return self._document(caller, "GET", AUDIT_LOG, params=_params(params))
