"""The Run:ai client against a misbehaving upstream on loopback (issue 5, acceptance 2 and 4).

Every test bounds its own time with elapsed-time asserts: the client must never hang.
"""

import logging
import threading
import time

import jwt
import pytest
import requests

from envadmin.contract.errors import BackendError, NotFound, Unauthorized
from envadmin.runai import RunaiClient, ServiceAccountTokens
from envadmin.runai.client import retry_after_seconds
from tests.upstream_stub import Reply, UpstreamStub, closed_port

NOT_IDEMPOTENT = ["POST", "PUT", "PATCH", "DELETE"]
SECRET = "s3cr3t-client-secret-value"


@pytest.fixture
def stub():
    with UpstreamStub() as upstream:
        yield upstream


def client_for(url, **options):
    settings = {
        "connect_timeout": 1,
        "read_timeout": 1,
        "retries": 2,
        "backoff": 0.01,
        "max_retry_after": 2,
    }
    settings.update(options)
    return RunaiClient(url, **settings)


def fails(call, status):
    """Run call(); assert it raised a BackendError of that status; return (error, seconds)."""
    started = time.monotonic()
    with pytest.raises(BackendError) as caught:
        call()
    assert caught.value.status == status, caught.value.body()
    return caught.value, time.monotonic() - started


def token_for(exp: float, jti="0") -> str:
    return jwt.encode({"sub": "sa", "exp": int(exp), "jti": jti}, "k" * 32, algorithm="HS256")


class FakeProvider:
    def __init__(self, *tokens):
        self.tokens = list(tokens)
        self.refreshes = 0

    def token(self):
        return self.tokens[0]

    def refresh(self):
        self.refreshes += 1
        self.tokens.pop(0)
        return self.tokens[0]


# --- ordinary answers ---------------------------------------------------------------------------
def test_get_answers_status_and_document_and_forwards_the_token(stub):
    stub.script(Reply(200, {"entries": [{"meta": {"name": "a"}}]}))
    status, document = client_for(stub.url).request(
        "GET",
        "/api/v1/asset/environment",
        params={"projectId": 7, "filterBy": ["a==1", "b==2"]},
        token="T",
    )
    assert (status, document) == (200, {"entries": [{"meta": {"name": "a"}}]})
    (seen,) = stub.requests
    assert seen.path == "/api/v1/asset/environment?projectId=7&filterBy=a%3D%3D1&filterBy=b%3D%3D2"
    assert seen.headers["Authorization"] == "Bearer T"


def test_json_body_empty_answers_and_no_token(stub):
    stub.script(Reply(202, {"code": 202, "message": "ok"}), Reply(204), Reply(200, None))
    client = client_for(stub.url)
    created = client.request("POST", "/x", json={"meta": {"name": "n"}})
    assert created == (202, {"code": 202, "message": "ok"})
    assert client.request("DELETE", "/x/1") == (204, None)
    assert client.request("HEAD", "/x") == (200, None)
    assert stub.requests[0].json() == {"meta": {"name": "n"}}
    assert all("Authorization" not in seen.headers for seen in stub.requests)


def test_the_base_url_must_be_http():
    with pytest.raises(ValueError):
        RunaiClient("ftp://example")
    assert RunaiClient("http://h:1/").base_url == "http://h:1"


def test_twenty_calls_share_one_connection(stub):
    client = client_for(stub.url)
    for _ in range(20):
        assert client.request("GET", "/api/v1/asset/environment")[0] == 200
    assert len(stub.requests) == 20
    assert stub.connections == 1


# --- no answer ----------------------------------------------------------------------------------
def test_connection_refused_is_a_quick_503():
    url = f"http://127.0.0.1:{closed_port()}"
    error, seconds = fails(lambda: client_for(url).request("GET", "/api/v1/asset/environment"), 503)
    assert error.message == f"Cannot reach the Run:ai control plane at {url}"
    assert "refused" in error.details.lower()
    assert seconds < 1


class RaisingSession(requests.Session):
    def __init__(self, exc):
        super().__init__()
        self.exc, self.methods = exc, []

    def request(self, method, url, **kwargs):
        assert kwargs["timeout"] == (1, 1)
        self.methods.append(method)
        raise self.exc


@pytest.mark.parametrize("method, attempts", [("GET", 3), ("POST", 1)])
def test_a_connect_timeout_is_a_503_and_retried_only_when_idempotent(method, attempts):
    session = RaisingSession(requests.ConnectTimeout("slow"))
    client = client_for("http://runai.example", session=session)
    error, _ = fails(lambda: client.request(method, "/x"), 503)
    assert error.message == "Cannot reach the Run:ai control plane at http://runai.example"
    assert session.methods == [method] * attempts


def test_a_read_timeout_on_get_is_a_504_after_the_retries(stub):
    stub.default = Reply(200, {}, delay=3)
    client = client_for(stub.url, read_timeout=0.3)
    error, seconds = fails(lambda: client.request("GET", "/api/v1/asset/environment"), 504)
    assert error.message == "The Run:ai control plane did not answer within 0.3 s"
    assert len(stub.seen("GET")) == 3
    assert 0.85 < seconds < 0.3 * 3 + 1


def test_an_answer_that_trickles_forever_is_cut_at_the_read_timeout(stub):
    stub.default = Reply(200, {"entries": ["x" * 40]}, trickle=0.05)
    client = client_for(stub.url, read_timeout=0.3, retries=0)
    error, seconds = fails(lambda: client.request("GET", "/x"), 504)
    assert "trickling" in error.details
    assert seconds < 1.5


def test_a_reset_get_is_retried(stub):
    stub.script(Reply(reset=True))
    assert client_for(stub.url).request("GET", "/x") == (200, {})
    assert len(stub.seen("GET")) == 2


@pytest.mark.parametrize("method", NOT_IDEMPOTENT)
@pytest.mark.parametrize("fault", ["503", "reset", "read timeout", "429"])
def test_a_write_is_sent_exactly_once_whatever_happens(stub, method, fault):
    reply, status = {
        "503": (Reply(503, {"code": 503, "message": "busy"}), 503),
        "reset": (Reply(reset=True), 502),
        "read timeout": (Reply(200, {}, delay=3), 504),
        "429": (Reply(429, {"code": 429, "message": "slow down"}, {"Retry-After": "0"}), 429),
    }[fault]
    stub.default = reply
    client = client_for(stub.url, read_timeout=0.3)
    error, seconds = fails(lambda: client.request(method, "/x", json={"a": 1}), status)
    assert len(stub.seen(method)) == 1
    assert seconds < 1
    if fault in ("reset", "read timeout"):
        assert f"The {method} was sent once and not repeated" in error.details


# --- upstream errors ----------------------------------------------------------------------------
def test_503_with_retry_after_is_waited_for(stub):
    stub.script(Reply(503, {"code": 503, "message": "busy"}, {"Retry-After": "1"}))
    started = time.monotonic()
    assert client_for(stub.url).request("GET", "/x") == (200, {})
    assert 0.95 < time.monotonic() - started < 2
    assert len(stub.requests) == 2


def test_503_with_a_long_retry_after_fails_at_once(stub):
    stub.default = Reply(503, {"code": 503, "message": "maintenance"}, {"Retry-After": "100"})
    error, seconds = fails(lambda: client_for(stub.url).request("GET", "/x"), 503)
    assert error.message == "The Run:ai control plane is unavailable"
    assert error.details == "HTTP 503: maintenance (it asks to retry after 100 s)"
    assert error.retry_after == 100
    assert seconds < 0.5
    assert len(stub.requests) == 1


def test_503_without_retry_after_backs_off_then_fails(stub):
    stub.default = Reply(503, "<html>down</html>", {"Content-Type": "text/html"})
    error, _ = fails(lambda: client_for(stub.url).request("GET", "/x"), 503)
    assert error.details == "HTTP 503"
    assert len(stub.requests) == 3


def test_500_is_a_502_that_blames_the_control_plane_and_is_not_retried(stub):
    stub.default = Reply(500, {"code": 500, "message": "boom", "details": "trace id 7"})
    error, _ = fails(lambda: client_for(stub.url).request("GET", "/x"), 502)
    assert error.message == "The Run:ai control plane failed (HTTP 500): boom"
    assert error.details == "trace id 7"
    assert len(stub.requests) == 1


def test_502_then_200_is_retried(stub):
    stub.script(Reply(502, "bad gateway", {"Content-Type": "text/plain"}))
    assert client_for(stub.url).request("GET", "/x") == (200, {})


def test_a_persistent_504_is_a_504(stub):
    stub.default = Reply(504, "")
    error, _ = fails(lambda: client_for(stub.url).request("GET", "/x"), 504)
    assert error.message == "The Run:ai control plane did not answer in time"
    assert len(stub.requests) == 3


def test_malformed_json_is_a_502(stub):
    stub.default = Reply(200, '{"entries": [')
    error, _ = fails(lambda: client_for(stub.url).request("GET", "/x"), 502)
    assert error.message == "The Run:ai control plane sent an answer that is not JSON"


def test_a_404_keeps_run_ais_status_and_words(stub):
    stub.default = Reply(404, {"code": 404, "message": "Environment not found", "details": "id 9"})
    error, _ = fails(
        lambda: client_for(stub.url).request("GET", "/api/v1/asset/environment/9"), 404
    )
    assert isinstance(error, NotFound)
    assert error.body() == {"code": 404, "message": "Environment not found", "details": "id 9"}
    assert len(stub.requests) == 1


def test_a_4xx_without_the_error_body_names_the_status(stub):
    stub.default = Reply(400, "<html>nope</html>", {"Content-Type": "text/html"})
    error, _ = fails(lambda: client_for(stub.url).request("POST", "/x", json={}), 400)
    assert error.message == "The Run:ai control plane refused the request (HTTP 400)."


def test_429_is_retried_and_a_long_retry_after_gives_the_429(stub):
    stub.script(Reply(429, {"code": 429, "message": "slow down"}, {"Retry-After": "0"}))
    assert client_for(stub.url).request("GET", "/x") == (200, {})
    assert len(stub.requests) == 2
    stub.default = Reply(429, {"code": 429, "message": "slow down"}, {"Retry-After": "60"})
    error, seconds = fails(lambda: client_for(stub.url).request("GET", "/x"), 429)
    assert (error.message, error.retry_after) == ("slow down", 60)
    assert seconds < 0.5


def test_a_redirect_is_not_followed(stub):
    stub.default = Reply(301, "", {"Location": "https://elsewhere/x"})
    error, _ = fails(lambda: client_for(stub.url).request("GET", "/x", token="T"), 502)
    assert "redirect" in error.message
    assert len(stub.requests) == 1


def test_retry_after_as_seconds_or_a_date():
    assert retry_after_seconds("3") == 3
    assert retry_after_seconds("-1") == 0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert retry_after_seconds(None) is None


# --- tokens ---------------------------------------------------------------------------------
def test_a_401_refreshes_the_providers_token_once_and_retries(stub):
    stub.script(Reply(401, {"code": 401, "message": "expired"}))
    provider = FakeProvider("old", "new")
    assert client_for(stub.url).request("GET", "/x", token_provider=provider) == (200, {})
    assert [s.headers["Authorization"] for s in stub.requests] == ["Bearer old", "Bearer new"]
    assert provider.refreshes == 1


def test_a_second_401_goes_to_the_caller(stub):
    stub.default = Reply(401, {"code": 401, "message": "Invalid token"})
    provider = FakeProvider("old", "new")
    error, _ = fails(
        lambda: client_for(stub.url).request("GET", "/x", token_provider=provider), 401
    )
    assert isinstance(error, Unauthorized) and error.message == "Invalid token"
    assert provider.refreshes == 1
    assert len(stub.requests) == 2


def test_a_post_refused_with_401_is_sent_again_once_with_the_new_token(stub):
    stub.script(Reply(401, {"code": 401, "message": "expired"}), Reply(201, {"meta": {}}))
    provider = FakeProvider("old", "new")
    answer = client_for(stub.url).request("POST", "/x", json={}, token_provider=provider)
    assert answer == (201, {"meta": {}})
    assert len(stub.seen("POST")) == 2


def test_a_callers_own_token_is_not_refreshed(stub):
    stub.default = Reply(401, {"code": 401, "message": "expired"})
    provider = FakeProvider("old", "new")
    client = client_for(stub.url)
    fails(lambda: client.request("GET", "/x", token="caller", token_provider=provider), 401)
    assert provider.refreshes == 0
    assert [s.headers["Authorization"] for s in stub.requests] == ["Bearer caller"]


def token_endpoint(stub, lifetimes, delay=0.0, opaque=False):
    """Answer POST /api/v1/token with new tokens (each living lifetimes[i] s) and GET with {}.

    A JWT's expiresIn is deliberately wrong (10x): the client must go by the JWT's own exp.
    """
    issued = []

    def handle(seen):
        if seen.method == "POST" and seen.path == "/api/v1/token":
            lifetime = lifetimes[min(len(issued), len(lifetimes) - 1)]
            if opaque:
                token, expires_in = f"opaque-{len(issued)}", lifetime
            else:
                token, expires_in = (
                    token_for(time.time() + lifetime, str(len(issued))),
                    lifetime * 10,
                )
            issued.append(token)
            return Reply(200, {"accessToken": token, "expiresIn": expires_in}, delay=delay)
        return Reply(200, {})

    stub.handler = handle
    return issued


def test_service_account_token_is_fetched_once_and_never_logged(stub, caplog):
    caplog.set_level(logging.DEBUG)
    issued = token_endpoint(stub, [3600])
    client = client_for(stub.url)
    tokens = ServiceAccountTokens(client, "envadmin-sa", SECRET)
    for _ in range(3):
        client.request("GET", "/api/v1/asset/environment", token_provider=tokens)
    (post,) = stub.seen("POST")
    assert post.path == "/api/v1/token"
    assert post.json() == {
        "grantType": "client_credentials",
        "clientID": "envadmin-sa",
        "clientSecret": SECRET,
    }
    assert "Authorization" not in post.headers
    assert {s.headers["Authorization"] for s in stub.seen("GET")} == {f"Bearer {issued[0]}"}
    assert all(SECRET not in s.path for s in stub.requests)
    assert SECRET not in repr(tokens)
    logged = [record.getMessage() for record in caplog.records]
    assert logged and not any(SECRET in line or issued[0] in line for line in logged)


def test_service_account_token_is_renewed_within_the_margin(stub):
    token_endpoint(stub, [3600])
    now = [time.time()]
    client = client_for(stub.url)
    tokens = ServiceAccountTokens(client, "sa", SECRET, margin=60, clock=lambda: now[0])
    first = tokens.token()
    now[0] += 3600 - 61
    assert tokens.token() == first
    now[0] += 2  # 59 s before exp: inside the margin
    assert tokens.token() != first
    assert len(stub.seen("POST")) == 2


def test_an_opaque_token_expires_by_expires_in(stub):
    token_endpoint(stub, [100], opaque=True)
    now = [1000.0]
    tokens = ServiceAccountTokens(
        client_for(stub.url), "sa", SECRET, margin=10, clock=lambda: now[0]
    )
    assert tokens.token() == "opaque-0"
    now[0] += 89
    assert tokens.token() == "opaque-0"
    now[0] += 2
    assert tokens.token() == "opaque-1"


def test_threads_share_one_fetch_and_one_refresh(stub):
    token_endpoint(stub, [3600], delay=0.2)
    tokens = ServiceAccountTokens(client_for(stub.url), "sa", SECRET)

    def together(call):
        results = []
        threads = [threading.Thread(target=lambda: results.append(call())) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(5)
        return set(results)

    assert len(together(tokens.token)) == 1
    assert len(stub.seen("POST")) == 1
    together(tokens.refresh)
    assert len(stub.seen("POST")) < 8


def test_a_401_with_the_service_account_refreshes_it(stub):
    issued = token_endpoint(stub, [3600])
    client = client_for(stub.url)
    tokens = ServiceAccountTokens(client, "sa", SECRET)
    tokens.token()
    stub.script(Reply(401, {"code": 401, "message": "revoked"}))
    assert client.request("GET", "/x", token_provider=tokens) == (200, {})
    assert len(issued) == 2
    assert stub.requests[-1].headers["Authorization"] == f"Bearer {issued[1]}"


def test_a_refused_service_account_is_a_502_that_says_so(stub):
    stub.default = Reply(400, {"code": 400, "message": "Invalid client credentials."})
    client = client_for(stub.url)
    tokens = ServiceAccountTokens(client, "sa", SECRET)
    error, _ = fails(lambda: client.request("GET", "/x", token_provider=tokens), 502)
    assert "service account" in error.message
    assert error.details == "HTTP 400: Invalid client credentials."
    assert SECRET not in str(error.body())
