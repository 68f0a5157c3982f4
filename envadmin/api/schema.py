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
