"""A Target that speaks Run:ai's contract API over HTTP: envadmin (local or proxy mode) or a
Run:ai control plane, with a client-credentials token."""

import requests

from .engine import Refused

TIMEOUT = (5, 60)
PAGE_SIZE = 500
MAX_PAGES = 1000  # 500,000 org units: far beyond any tenant, and a server that loops stops


class HttpTarget:
    def __init__(self, base_url: str, client_id: str, client_secret: str, session=None):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"The URL must start with http:// or https://, not {base_url!r}.")
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self._credentials = (client_id, client_secret)
        self._token: str | None = None

    def __repr__(self):  # the secret and the token stay out of tracebacks
        return f"<HttpTarget {self.base_url}>"

    # --- HTTP --------------------------------------------------------------------------------
    def _authorize(self) -> str:
        client_id, secret = self._credentials
        body = {"grantType": "client_credentials", "clientID": client_id, "clientSecret": secret}
        answer = self._send("POST", "/api/v1/token", json=body, token=None)
        token = answer.get("accessToken") if isinstance(answer, dict) else None
        if not token:
            raise Refused(502, "the token endpoint answered without an accessToken")
        return token

    def call(self, method: str, path: str, *, params=None, json=None, headers=None):
        if self._token is None:
            self._token = self._authorize()
        try:
            return self._send(method, path, params=params, json=json, headers=headers,
                              token=self._token)  # fmt: skip
        except Refused as error:
            if error.status != 401:
                raise
        # The token expired during a long run: the server did nothing, so once more is safe.
        self._token = self._authorize()
        return self._send(method, path, params=params, json=json, headers=headers,
                          token=self._token)  # fmt: skip

    def _send(self, method, path, *, params=None, json=None, headers=None, token):
        headers = {"Accept": "application/json", **(headers or {})}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = self.session.request(
                method, self.base_url + path, params=params, json=json, headers=headers,
                timeout=TIMEOUT, allow_redirects=False,
            )  # fmt: skip
        except requests.RequestException as error:
            unreachable = f"{self.base_url} could not be reached: {type(error).__name__}"
            raise Refused(503, unreachable) from None
        if response.status_code >= 300:
            raise Refused(response.status_code, _message(response))
        if not response.content.strip():
            return None
        try:
            return response.json()
        except ValueError:
            raise Refused(502, f"{method} {path} answered something that is not JSON") from None

    # --- the Target interface ----------------------------------------------------------------
    def environments(self, params: dict | None = None) -> list[dict]:
        answer = self.call("GET", "/api/v1/asset/environment", params=params or {})
        return list((answer or {}).get("entries") or [])

    def clusters(self) -> list[dict]:
        return list(self.call("GET", "/api/v1/clusters") or [])

    def departments(self) -> list[dict]:
        return self._pages("/api/v1/org-unit/departments", "departments")

    def projects(self) -> list[dict]:
        return self._pages("/api/v1/org-unit/projects", "projects")

    def _pages(self, path: str, key: str) -> list[dict]:
        """Every page, following `next` only while it moves forward, at most MAX_PAGES."""
        items, offset = [], 0
        for _ in range(MAX_PAGES):
            page = self.call("GET", path, params={"offset": offset, "limit": PAGE_SIZE}) or {}
            items += page.get(key) or []
            following = page.get("next")
            if not isinstance(following, int) or following <= offset:
                return items
            offset = following
        raise Refused(502, f"{path} has more than {MAX_PAGES} pages; stopped")

    def get(self, asset_id: str) -> dict:
        return self.call("GET", f"/api/v1/asset/environment/{asset_id}")

    def create(self, document: dict) -> dict:
        return self.call("POST", "/api/v1/asset/environment", json=document) or {}

    def update(self, asset_id: str, document: dict, if_match: int | None) -> dict:
        return self.call(
            "PUT", f"/api/v1/asset/environment/{asset_id}", json=document,
            headers=_if_match(if_match),
        ) or {}  # fmt: skip

    def delete(self, asset_id: str, if_match: int | None) -> None:
        self.call("DELETE", f"/api/v1/asset/environment/{asset_id}", headers=_if_match(if_match))


def _if_match(count: int | None) -> dict:
    # envadmin honours it (412 when the environment moved on); Run:ai ignores it, and the
    # engine's read just before the write catches a move there.
    return {"If-Match": f'"{count}"'} if isinstance(count, int) else {}


def _message(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or "error"
    if isinstance(body, dict):
        text = str(body.get("message") or response.reason or "error")
        return f"{text} ({body['details']})" if body.get("details") else text
    return response.reason or "error"
