"""Check real responses against Run:ai's contract files in ../shared/runai-api (never a copy)."""

import os
from functools import cache
from pathlib import Path

from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

CONTRACT_DIR = Path(
    os.environ.get(
        "ENVADMIN_CONTRACT_DIR", Path(__file__).resolve().parents[2] / "shared" / "runai-api"
    )
)


@cache
def spec(name: str) -> OpenAPI:
    return OpenAPI.from_file_path(str(CONTRACT_DIR / f"{name}.openapi.json"))


def assert_matches_contract(name: str, response) -> None:
    """Validate a Django test-client response (status, content type, body) against `name`."""
    spec(name).validate_response(
        DjangoOpenAPIRequest(response.wsgi_request), DjangoOpenAPIResponse(response)
    )
