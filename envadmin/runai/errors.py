"""Failures of calls to a Run:ai control plane, in the contract's terms.

A refusal by Run:ai (4xx) keeps Run:ai's status and words, so the caller learns exactly what
Run:ai said. A failure of Run:ai itself (5xx, no answer, a broken answer) is a 502, 503 or 504
whose message names the control plane, so nobody mistakes it for a fault of envadmin. The
4xx classes also inherit the contract's own class (NotFound, Forbidden, ...), so code written
against the local backend (`except NotFound`) keeps working in proxy mode.
"""

from envadmin.contract.errors import (
    BackendError,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    Unauthorized,
    Unavailable,
)


class UpstreamError(BackendError):
    """An error raised by the Run:ai client; `status` is settable per instance.

    `retry_after` (seconds) is Run:ai's Retry-After when it sent one, so a view can pass it on.
    """

    status = 502
    default_message = "The Run:ai control plane failed."

    def __init__(self, message=None, details=None, *, status=None, retry_after=None):
        super().__init__(message, details)
        if status is not None:
            self.status = status
        self.retry_after = retry_after


class UpstreamInvalidRequest(UpstreamError, InvalidRequest):
    status = 400


class UpstreamUnauthorized(UpstreamError, Unauthorized):
    status = 401


class UpstreamForbidden(UpstreamError, Forbidden):
    status = 403


class UpstreamNotFound(UpstreamError, NotFound):
    status = 404


class UpstreamConflict(UpstreamError, Conflict):
    status = 409


class ControlPlaneFailed(UpstreamError):
    """Run:ai answered with a server error or with something that is not an answer."""

    status = 502


class ControlPlaneUnavailable(UpstreamError, Unavailable):
    """Run:ai cannot be reached or says it is unavailable: worth trying again later."""

    status = 503
    default_message = "The Run:ai control plane is unavailable."


class ControlPlaneTimeout(UpstreamError):
    status = 504
    default_message = "The Run:ai control plane did not answer in time."


REFUSALS = {
    400: UpstreamInvalidRequest,
    401: UpstreamUnauthorized,
    403: UpstreamForbidden,
    404: UpstreamNotFound,
    409: UpstreamConflict,
}


def refusal(status: int, message=None, details=None, retry_after=None) -> UpstreamError:
    """The error for a 4xx of Run:ai, with Run:ai's status."""
    cls = REFUSALS.get(status, UpstreamError)
    return cls(message, details, status=status, retry_after=retry_after)
