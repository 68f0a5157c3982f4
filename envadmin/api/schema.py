"""What drf-spectacular cannot infer: the API's bearer token as the document's security scheme.

Without it, /api/schema/ lists no way to authenticate and Swagger UI offers no "Authorize".
Imported by envadmin.api.urls, so it is registered before any schema is generated.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "envadmin.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        # The access tokens of POST /api/v1/token are HS256 JWTs.
        return build_bearer_security_scheme_object("Authorization", "Bearer", "JWT")


# The answers any API operation can give besides its documented success, each in the contract's
# error body. Added to every operation of the document (new endpoints included), so a client,
# and schemathesis in .ci/fuzz, knows them all. Why each applies:
#   400: bad parameters or body, and a NUL in any URL (RejectNulMiddleware);
#   401, 403: a missing or bad token, or a role that does not allow the action;
#   404: an id, or a node, the caller cannot see;
#   409: an asset name already taken, on a create or a rename;
#   503: the database (or, in proxy mode, Run:ai) is unavailable.
# Codes only some operations give (412 on If-Match writes, 429 on the token grant) are
# declared by its view.
ALWAYS = ("400", "503")
AUTHENTICATED = ("401", "403", "404")
ASSET_PATHS = "/api/v1/asset/"
ASSET_WRITES = ("post", "put")
DESCRIPTIONS = {
    "400": "Bad request",
    "401": "Missing or invalid token",
    "403": "Not permitted",
    "404": "Not found",
    "409": "Conflict",
    "429": "Too many requests",
    "503": "Unavailable",
}
ERROR_COMPONENT = "ErrorBody"
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every API failure: {code, message, details}.",
    "properties": {
        "code": {"type": "integer"},
        "message": {"type": "string"},
        "details": {"type": "string"},
    },
    "required": ["code", "message"],
}


def document_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook (see urls.py): the error answers of every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})
    result["components"]["schemas"][ERROR_COMPONENT] = ERROR_SCHEMA
    reference = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            codes = list(ALWAYS)
            if path.startswith(ASSET_PATHS) and method in ASSET_WRITES:
                codes.append("409")
            # Operations open to anyone (the token grant) list an empty security requirement.
            if any(requirement for requirement in operation.get("security", [])):
                codes += AUTHENTICATED
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(
                    code,
                    {
                        "description": DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result
