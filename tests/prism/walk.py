"""Every web admin page and every API path envadmin serves in proxy mode, requested once each
through Django's test client against whatever Run:ai (here: Prism) answers, timed."""

import re
import time
import traceback
from dataclasses import dataclass
from urllib.parse import quote

from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from envadmin.contract.policy import POLICY_PATHS

# Pages every walk must reach; links found on them (details, tabs, pages added later) are
# followed too, up to MAX_PAGES distinct paths.
START_PAGES = (
    "/environments/", "/environments/new", "/environments/recently-deleted", "/compliance",
    "/policies", "/org", "/activity",
)  # fmt: skip
MAX_PAGES = 40
NOT_WALKED = re.compile(r"^/(logout|admin|api/docs|static)|/bring-back$|/restore$")
LINK = re.compile(r'href="(/[^"#]*)"')
ANY_ID = "0b1a7c8e-4f7e-4a8e-9b0e-9f1b5d2c3a11"  # asked for when a list names no environment

ENVIRONMENT = {"meta": {"name": "prism-walk", "scope": "tenant"}, "spec": {"image": "python:3.12"}}
POLICY = {"meta": {"scope": "tenant"}, "policy": {}}


@dataclass
class Result:
    what: str  # "GET /environments/" ...
    status: int | None
    seconds: float
    error: str = ""  # the exception envadmin raised, if any
    upstream_trouble: bool = False  # a 503/504 naming Run:ai: Prism did not answer in time


class Walk:
    def __init__(self):
        self.results: list[Result] = []

    def call(self, client, method: str, path: str, **kwargs) -> object:
        started = time.monotonic()
        try:
            response = getattr(client, method.lower())(path, **kwargs)
        except Exception as error:  # an exception in a view: exactly what the walk looks for
            frame = traceback.extract_tb(error.__traceback__)[-1]
            where = f"{frame.filename.rpartition('envadmin/')[2]}:{frame.lineno}"
            self.results.append(
                Result(f"{method} {path}", None, time.monotonic() - started,
                       f"{type(error).__name__}: {error} ({where})")
            )  # fmt: skip
            return None
        result = Result(f"{method} {path}", response.status_code, time.monotonic() - started)
        if response.status_code in (503, 504) and b"Run:ai" in response.content:
            # Prism itself too slow or gone (a busy host): passed on as Run:ai's trouble.
            result.upstream_trouble = True
        self.results.append(result)
        return response

    # --- the web admin ----------------------------------------------------------------------
    def pages(self) -> Client:
        ui = Client(raise_request_exception=True)
        self.call(ui, "GET", "/login")
        signed_in = self.call(ui, "POST", "/login", data={"username": "prism", "password": "pw"})
        if signed_in is None or signed_in.status_code != 302:
            # Run:ai's answer gave no usable token: walk as a local user on the service account.
            user, _ = get_user_model().objects.get_or_create(username="prism-local")
            ui.force_login(user)
        queue, seen = list(START_PAGES), set()
        detail = f"/environments/{ANY_ID}"  # the first environment a page links to, if any
        while queue and len(seen) < MAX_PAGES:
            path = queue.pop(0)
            key = _shape(path)
            if key in seen:
                continue
            seen.add(key)
            if _is_detail(path.partition("?")[0]):
                detail = path.partition("?")[0]
            response = self.call(ui, "GET", path)
            if response is None or response.status_code != 200:
                continue
            if "text/html" in response.get("Content-Type", ""):
                for link in LINK.findall(response.content.decode()):
                    link = link.replace("&amp;", "&")
                    if not NOT_WALKED.search(link) and _shape(link) not in seen:
                        queue.append(link)
        for extra in ("?tab=history", "/edit", "/copy", "/delete", "/compare"):
            self.call(ui, "GET", detail + extra)
        self.call(ui, "GET", "/environments/?format=csv")
        return ui

    # --- the API ----------------------------------------------------------------------------
    def api(self, token: str) -> None:
        api = APIClient(raise_request_exception=True)
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        grant = {"grantType": "client_credentials", "clientID": "prism", "clientSecret": "pw"}
        self.call(api, "POST", "/api/v1/token", data=grant, format="json")
        listed = self.call(api, "GET", "/api/v1/asset/environment")
        asset = quote(str(_first(listed, "entries", "meta", "id") or ANY_ID), safe="")
        self.call(api, "POST", "/api/v1/asset/environment", data=ENVIRONMENT, format="json")
        one = f"/api/v1/asset/environment/{asset}"
        self.call(api, "GET", one)
        self.call(api, "PUT", one, data=ENVIRONMENT, format="json")
        self.call(api, "DELETE", one)
        for kind, key in (("projects", "projects"), ("departments", "departments")):
            listed = self.call(api, "GET", f"/api/v1/org-unit/{kind}")
            unit = quote(str(_first(listed, key, "id") or 1), safe="")
            self.call(api, "GET", f"/api/v1/org-unit/{kind}/{unit}")
        clusters = self.call(api, "GET", "/api/v1/clusters")
        cluster = quote(str(_first(clusters, None, "uuid") or ANY_ID), safe="")
        self.call(api, "GET", f"/api/v1/clusters/{cluster}")
        self.call(api, "GET", "/api/v2/policy")
        for kind in POLICY_PATHS:
            path = f"/api/v2/policy/{kind}"
            self.call(api, "GET", f"{path}?scope=tenant")
            self.call(api, "PUT", path, data=POLICY, format="json")
            self.call(api, "PATCH", path, data=POLICY, format="json")
            self.call(api, "DELETE", f"{path}?scope=tenant")
        for path in ("/api/envadmin/v1/audit", "/api/envadmin/v1/environments/deleted",
                     f"/api/envadmin/v1/environments/{asset}/revisions"):  # fmt: skip
            self.call(api, "GET", path)
        preview = {"environment": ENVIRONMENT, "projectId": 7, "workloadType": "Workspace"}
        self.call(api, "POST", "/api/envadmin/v1/compliance-preview", data=preview, format="json")

    def failures(self, limit_seconds: float) -> list[str]:
        """Exceptions, 5xx answers of envadmin's making (a 502 included: Prism's answers are
        valid, so one envadmin "could not use" is envadmin's fault) and slow requests."""
        found = []
        for result in self.results:
            if result.error:
                found.append(f"{result.what}: {result.error}")
            elif (result.status or 0) >= 500 and not result.upstream_trouble:
                found.append(f"{result.what}: answered {result.status}")
            elif result.seconds >= limit_seconds:
                found.append(f"{result.what}: took {result.seconds:.1f} s")
        return found


def _shape(link: str) -> str:
    """A page's path and query parameter names, with environment ids as <id>: pages of one
    shape are walked once (every environment's detail page is the same page)."""
    path, _, query = link.partition("?")
    parts = path.split("/")
    if len(parts) > 2 and parts[1] == "environments" and _is_detail("/".join(parts[:3])):
        parts[2] = "<id>"
    names = sorted({pair.partition("=")[0] for pair in query.split("&") if pair})
    return "/".join(parts) + ("?" + "&".join(names) if names else "")


def _is_detail(path: str) -> bool:
    parts = path.strip("/").split("/")
    return len(parts) == 2 and parts[0] == "environments" and parts[1] not in (
        "new", "recently-deleted", "preview", "columns", "review-as",
    )  # fmt: skip


def _first(response, key, *fields):
    """A field of the first item of a list answer (`key` names the list; None: the answer)."""
    try:
        item = response.json() if key is None else response.json()[key]
        value = item[0]
        for name in fields:
            value = value[name]
        return value if isinstance(value, str | int) and not isinstance(value, bool) else None
    except Exception:
        return None
