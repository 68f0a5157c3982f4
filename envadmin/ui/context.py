"""Who the signed-in user is for the backend, and the org names the pages show."""

from envadmin.accounts.access import Caller
from envadmin.backends.base import EnvironmentBackend
from envadmin.backends.org_index import OrgIndex
from envadmin.security.clients import client_address


def caller_for(request, backend: EnvironmentBackend) -> Caller:
    """The signed-in user as the backend sees them."""
    return backend.signed_in_caller(request.user, request.session, client_address(request))


__all__ = ["OrgIndex", "caller_for"]
