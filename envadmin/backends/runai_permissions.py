"""What proxy mode may offer, from Run:ai's POST /api/v1/authorization/permitted-scopes.

Run:ai answers PermittedScopesActions: for each of create, read, update and delete the scopes
(system, tenants, clusters, departments, projects) where the caller holds that permission. A
permission on a node covers everything under it, so an environment may be changed when its own
node or an ancestor is listed. The answer is asked once per caller and kept in Django's cache for
RUNAI_CACHE_SECONDS under a key of that caller (their token or subject), never shared.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache

from envadmin.contract.errors import BackendError

PERMITTED_SCOPES = "/api/v1/authorization/permitted-scopes"
NODE_LISTS = ("clusters", "departments", "projects")
# Run:ai's action names for the web admin's ones.
RUNAI_ACTION = {"edit": "update", "delete": "delete"}
# Cached instead of an answer when Run:ai gave none that will change soon (a 4xx, a bad shape).
REFUSED = "no answer"


class NoAnswer:
    """Run:ai gave no usable answer (an older Run:ai without the endpoint, a refusal, an
    error): `error` is what it said."""

    def __init__(self, error: BackendError | None):
        self.error = error


def cache_key(caller, generation) -> str:
    # The token when the caller brings one (API), else the signed-in subject (web admin):
    # each caller has their own key, so one user's rights are never shown to another.
    who = f"{caller.subject_type}|{caller.subject}|{caller.token or ''}"
    material = f"{settings.RUNAI_URL}|{generation}|{who}|permitted-scopes:environments"
    return "runai:" + hashlib.sha256(material.encode()).hexdigest()


def read_permissions(ask, caller, generation) -> dict | NoAnswer:
    """The caller's PermittedScopesActions for environments (cached), or NoAnswer. `ask` posts
    the request body to Run:ai and returns its answer."""
    key = cache_key(caller, generation)
    found = cache.get(key)
    if found == REFUSED:
        return NoAnswer(None)
    if found is not None:
        return found
    try:
        answer = ask({"resourceType": "environments"})
    except BackendError as error:
        if error.status < 500:
            # Refused, or an older Run:ai without the endpoint: that will not change soon, so
            # it is remembered as long as an answer would be. A failing Run:ai is asked again.
            cache.set(key, REFUSED, settings.RUNAI_CACHE_SECONDS)
        return NoAnswer(error)
    if not isinstance(answer, dict) or not all(
        isinstance(answer.get(action), dict) for action in ("create", "update", "delete")
    ):
        cache.set(key, REFUSED, settings.RUNAI_CACHE_SECONDS)
        return NoAnswer(None)
    cache.set(key, answer, settings.RUNAI_CACHE_SECONDS)
    return answer


def covers(permitted, scope, chain) -> bool:
    """Whether PermittedScopes `permitted` reaches a node of placement `scope` whose own node
    and ancestors are `chain` [(list name, id), ...]: a permission on a node covers what is
    under it. Ids are compared as text (cluster uuids in lower case)."""
    if not isinstance(permitted, dict):
        return False
    if permitted.get("system"):
        return True
    if scope == "system":
        return False
    if permitted.get("tenants") or permitted.get("tenant"):
        return True
    listed = {name: _ids(permitted.get(name)) for name in NODE_LISTS}
    return any(str(node).lower() in listed[name] for name, node in chain if name in listed)


def _ids(values) -> set[str]:
    return {str(value).lower() for value in values} if isinstance(values, list) else set()
