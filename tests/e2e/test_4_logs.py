"""Acceptance 4: the logs of both servers hold no token, no secret and no password.

The last module of the e2e package, so it runs after every other e2e test of the session, while
both servers still run (they log unbuffered, so every line is already in the files). It greps
for the service account's secret, every access and refresh token the tests met (those the tests
received and those B keeps in its sessions for UI users), the demo password and the servers'
signing keys. A token is also looked for by its signature alone, in case a line cut it short.
"""

import pytest

from .conftest import DEMO_PASSWORD

pytestmark = pytest.mark.e2e


def test_no_token_or_secret_in_either_server_s_log(servers, on_a, via_b):
    # on_a and via_b: tokens were granted by A directly and through B even if this test runs alone.
    servers.remember(*servers.session_tokens())
    needles = {
        "the service account's secret": [servers.client_secret],
        "the demo password": [DEMO_PASSWORD],
        "A's secret key": [servers.a.secret_key],
        "B's secret key": [servers.b.secret_key],
    }
    for number, token in enumerate(sorted(servers.seen)):
        signature = token.rpartition(".")[2]
        needles[f"token #{number}"] = [token] + ([signature] if len(signature) >= 20 else [])
    assert len(servers.seen) >= 4  # at least an access and a refresh token from A and from B

    for server in (servers.a, servers.b):
        log = server.log.read_text(errors="replace")
        # The grep reads the real logs (booleans first: a failure must not print the log).
        has_requests = '"POST /api/v1/token HTTP/1.1" 200' in log
        assert has_requests, f"{server.name}'s log {server.log} has no access lines"
        found = [
            f"{what} in {server.name}'s log ({server.log})"
            for what, values in needles.items()
            if any(value in log for value in values)
        ]
        assert not found, "\n".join(found)
    has_debug = "Run:ai POST /api/v1/token -> 200" in servers.b.log.read_text(errors="replace")
    assert has_debug, "B's log has no DEBUG lines of its Run:ai client"
