"""The HTTP client envadmin uses to talk to a Run:ai control plane.

Guarantees, because a proxy must never be the thing that hangs or lies:
- every call is bounded: connect and read timeouts on each attempt, the whole body within
  read_timeout after the headers (a server that trickles bytes cannot hold a worker), at most
  `retries` retries with bounded waits;
- only GET, HEAD and OPTIONS are retried (connection errors, read timeouts, 429, 502, 503, 504):
  a POST, PUT, PATCH or DELETE is sent once, whatever happens, because a second send could
  apply it twice. The one exception is a 401 answered to a token from the token provider: Run:ai
  refused the call before doing anything, so it is sent again once with a fresh token;
- whatever goes wrong comes out as an envadmin.runai.errors.UpstreamError (a BackendError),
  never as a requests exception or a 500;
- tokens go into the Authorization header only and are never logged: log lines carry the
  method, the path (no query) and the status.
"""

import json as jsonlib
import logging
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError, NewConnectionError, ReadTimeoutError

from .errors import (
    ControlPlaneFailed,
    ControlPlaneTimeout,
    ControlPlaneUnavailable,
    UpstreamError,
    refusal,
)

logger = logging.getLogger("envadmin.runai")

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
CHUNK = 64 * 1024


class Answer(NamedTuple):
    status: int
    headers: Mapping[str, str]  # case-insensitive (requests' own)
    content: bytes


class _Failure(Exception):
    """An attempt that got no usable answer: the error to raise, and whether a retry may help."""

    def __init__(self, error: UpstreamError, retryable: bool):
        super().__init__(error.message)
        self.error = error
        self.retryable = retryable


def pooled_session(pool_size: int = 10) -> requests.Session:
    """One Session with a connection pool, so calls reuse TCP (and TLS) connections.

    urllib3's own retries are off (max_retries=0): the client decides what is retried, and a
    library retry could send a POST twice.
    """
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _check_base_url(base_url: str) -> str:
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"The Run:ai URL must be http(s)://host[:port], not {base_url!r}.")
    return base_url.strip().rstrip("/")


def _public_url(base_url: str) -> str:
    """The base URL without user:password@, fit for an error message."""
    parts = urlsplit(base_url)
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: a number or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - time.time())


def _error_fields(content: bytes) -> tuple[str | None, str | None]:
    """(message, details) when the body is the contract's error body, else (None, None)."""
    try:
        document = jsonlib.loads(content) if content else None
    except ValueError:
        return None, None
    if not isinstance(document, dict) or not isinstance(document.get("message"), str):
        return None, None
    details = document.get("details")
    if details is not None and not isinstance(details, str):
        details = jsonlib.dumps(details)
    return document["message"], details or None


class RunaiClient:
    """Calls to one Run:ai control plane; thread-safe (one pooled Session shared by threads).

    A call takes at most about (retries + 1) * (connect_timeout + 2 * read_timeout) plus the
    backoff and Retry-After waits (each at most max_retry_after).
    """

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float = 3.05,
        read_timeout: float = 10,
        retries: int = 2,
        backoff: float = 0.2,
        max_retry_after: float = 5,
        session: requests.Session | None = None,
    ):
        self.base_url = _check_base_url(base_url)
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.session = session if session is not None else pooled_session()
        self._sleep = time.sleep

    # --- the API ---------------------------------------------------------------------------
    def request(self, method, path, *, params=None, json=None, token=None, token_provider=None):
        """(status, document) of a 2xx answer; document is None for an empty body.

        `token` is sent as `Authorization: Bearer <token>` (a caller's own token, forwarded
        unchanged, so Run:ai enforces its permissions). Else `token_provider`, anything with
        .token() -> str and .refresh() -> str (see envadmin.runai.tokens), supplies one. With
        neither, no token is sent (the token endpoint itself). Raises an UpstreamError for
        anything else.
        """
        method = method.upper()
        if not path.startswith("/"):
            path = "/" + path
        provider = None if token else token_provider
        if provider is not None:
            token = provider.token()
        answer = self._exchange(method, path, params, json, token)
        if answer.status == 401 and provider is not None:
            # The token expired or was revoked early: Run:ai did nothing, so one more try with
            # a fresh token is safe even for a POST. A second 401 goes to the caller.
            logger.info("Run:ai %s %s -> 401; refreshing the token once", method, path)
            answer = self._exchange(method, path, params, json, provider.refresh())
        return self._result(method, answer)

    # --- attempts and retries --------------------------------------------------------------
    def _exchange(self, method, path, params, json, token) -> Answer:
        attempts = 1 + self.retries if method in IDEMPOTENT else 1
        for attempt in range(attempts):
            last = attempt + 1 == attempts
            try:
                answer = self._send(method, path, params, json, token)
            except _Failure as failure:
                if last or not failure.retryable:
                    raise failure.error from None
                logger.warning(
                    "Run:ai %s %s failed (%s); retrying", method, path, failure.error.status
                )
                self._sleep(self._backoff(attempt))
                continue
            if answer.status not in RETRY_STATUSES or last:
                return answer
            wait = retry_after_seconds(answer.headers.get("Retry-After"))
            if wait is None:
                wait = self._backoff(attempt)
            elif wait > self.max_retry_after:
                # Waiting that long would hold the caller's request hostage: fail now.
                return answer
            logger.warning("Run:ai %s %s -> %s; retrying", method, path, answer.status)
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff * (2**attempt), self.max_retry_after)

    def _send(self, method, path, params, json, token) -> Answer:
        """One attempt: the whole answer, or a _Failure."""
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                params=params,
                json=json,
                headers=headers,
                timeout=(self.connect_timeout, self.read_timeout),
                allow_redirects=False,  # a redirect would drop or leak the Authorization header
                stream=True,  # so the body can be read against a deadline
            )
            content = self._read_body(response, method)
        except requests.RequestException as exc:
            raise self._failure(exc, method) from None
        elapsed = (time.monotonic() - started) * 1000
        logger.debug("Run:ai %s %s -> %s (%.0f ms)", method, path, response.status_code, elapsed)
        return Answer(response.status_code, response.headers, content)

    def _read_body(self, response, method) -> bytes:
        """The whole body, within read_timeout of the headers, or a _Failure.

        read1 returns whatever has arrived, so the deadline is checked even while a server
        trickles bytes (iter_content would wait for a full chunk). On success the connection
        goes back to the pool; on any failure it is closed, never reused half-read.
        """
        deadline = time.monotonic() + self.read_timeout
        raw = response.raw
        read = raw.read1 if hasattr(raw, "read1") else raw.read  # read1: urllib3 >= 2.3
        chunks = []
        try:
            while chunk := read(CHUNK, decode_content=True):
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise _Failure(self._timeout_error(method, "(the answer kept trickling)"), True)
        except ReadTimeoutError:
            response.close()
            raise _Failure(self._timeout_error(method), True) from None
        except (HTTPError, OSError) as exc:
            response.close()
            raise self._failure(requests.ConnectionError(exc), method) from None
        except _Failure:
            response.close()
            raise
        raw.release_conn()
        return b"".join(chunks)

    # --- errors ----------------------------------------------------------------------------
    def _timeout_error(self, method, details=None) -> ControlPlaneTimeout:
        if method not in IDEMPOTENT:
            details = " ".join(filter(None, [details, _MAYBE_APPLIED.format(method=method)]))
        return ControlPlaneTimeout(
            f"The Run:ai control plane did not answer within {self.read_timeout:g} s", details
        )

    def _failure(self, exc: requests.RequestException, method: str) -> _Failure:
        reason = exc.args[0] if exc.args else None
        reason = getattr(reason, "reason", reason)  # inside urllib3's MaxRetryError
        if isinstance(exc, requests.ConnectTimeout) or isinstance(reason, NewConnectionError):
            # Never sent: retrying is harmless, but only idempotent calls are retried anyway.
            if isinstance(exc, requests.ConnectTimeout):
                details = f"No connection within {self.connect_timeout:g} s."
            else:
                details = _short_reason(reason)
            return _Failure(
                ControlPlaneUnavailable(
                    f"Cannot reach the Run:ai control plane at {_public_url(self.base_url)}",
                    details,
                ),
                True,
            )
        if isinstance(exc, requests.ReadTimeout) or isinstance(reason, ReadTimeoutError):
            return _Failure(self._timeout_error(method), True)
        if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
            details = _MAYBE_APPLIED.format(method=method) if method not in IDEMPOTENT else None
            return _Failure(
                ControlPlaneFailed(
                    "The Run:ai control plane closed the connection without a complete answer",
                    details,
                ),
                True,
            )
        return _Failure(
            ControlPlaneFailed("The Run:ai control plane could not be called", type(exc).__name__),
            False,
        )

    def _result(self, method, answer: Answer) -> tuple[int, object]:
        status = answer.status
        if 200 <= status < 300:
            if method == "HEAD" or not answer.content.strip():
                return status, None
            try:
                return status, jsonlib.loads(answer.content)
            except ValueError:
                raise ControlPlaneFailed(
                    "The Run:ai control plane sent an answer that is not JSON",
                    f"HTTP {status}, Content-Type {answer.headers.get('Content-Type') or 'none'}",
                ) from None
        message, details = _error_fields(answer.content)
        retry_after = retry_after_seconds(answer.headers.get("Retry-After"))
        if 400 <= status < 500:
            message = message or f"The Run:ai control plane refused the request (HTTP {status})."
            raise refusal(status, message, details, retry_after)
        upstream = f"HTTP {status}" + (f": {message}" if message else "")
        if status == 503:
            if retry_after is not None:
                upstream += f" (it asks to retry after {retry_after:g} s)"
            raise ControlPlaneUnavailable(
                "The Run:ai control plane is unavailable", upstream, retry_after=retry_after
            )
        if status == 504:
            raise ControlPlaneTimeout("The Run:ai control plane did not answer in time", upstream)
        if 300 <= status < 400:
            raise ControlPlaneFailed(
                f"The Run:ai control plane answered with a redirect (HTTP {status})",
                f"to {answer.headers.get('Location')!r}: point the Run:ai URL at the final address",
            )
        raise ControlPlaneFailed(
            f"The Run:ai control plane failed (HTTP {status})"
            + (f": {message}" if message else ""),
            details,
            retry_after=retry_after,
        )


_MAYBE_APPLIED = "The {method} was sent once and not repeated: Run:ai may have applied it."


def _short_reason(reason) -> str | None:
    """'[Errno 111] Connection refused' rather than urllib3's paragraph naming the pool."""
    text = str(reason or "")
    return text.rpartition(": ")[2] or None
