"""Check real responses against Run:ai's contract files: the project's own unchanged copy in
envadmin/contract/runai-api (see SOURCE.md there), or ENVADMIN_CONTRACT_DIR."""

import json
import os
from functools import cache
from pathlib import Path

from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

PROJECT_COPY = Path(__file__).resolve().parents[1] / "envadmin" / "contract" / "runai-api"
CONTRACT_DIR = Path(os.environ.get("ENVADMIN_CONTRACT_DIR") or PROJECT_COPY)


@cache
def spec(name: str) -> OpenAPI:
    document = json.loads((CONTRACT_DIR / f"{name}.openapi.json").read_text())
    # Some files name Run:ai's SaaS host as their server: envadmin answers the same paths on
    # its own host, so the paths are matched whatever the host.
    document.pop("servers", None)
    return OpenAPI.from_dict(document)


def assert_matches_contract(name: str, response) -> None:
    """Validate a Django test-client response (status, content type, body) against `name`."""
    spec(name).validate_response(
        DjangoOpenAPIRequest(response.wsgi_request), DjangoOpenAPIResponse(response)
    )
