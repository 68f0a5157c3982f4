"""Run:ai's authorization, credentials, registry and audit log reads (issue 18): thin views
over the backend, at the contract's paths."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from .views import BackendView


def _query(name, description, kind=OpenApiTypes.STR, **kwargs):
    return OpenApiParameter(name, kind, description=description, **kwargs)


LIMIT = _query("limit", "1 to 500 (default 50).", OpenApiTypes.INT)
OFFSET = _query("offset", "The first record (default 0).", OpenApiTypes.INT)
SEARCH_NAME = _query("searchName", "Only names containing this (at most 255 characters).")
CREDENTIAL_PARAMETERS = [
    _query("name", "Exact name."),
    _query("scope", "system|tenant|cluster|department|project: only that node's credentials."),
    _query("projectId", "The project and its ancestors.", OpenApiTypes.INT),
    _query("departmentId", "The department and its ancestors."),
    _query("clusterId", "The cluster and its ancestors.", OpenApiTypes.UUID),
    _query("usageInfo", "true: fill usedBy.", OpenApiTypes.BOOL),
    _query("statusInfo", "true: fill status.", OpenApiTypes.BOOL),
]
AUDIT_PARAMETERS = [
    _query("start", "ISO 8601 date-time (required).", OpenApiTypes.DATETIME, required=True),
    _query("end", "ISO 8601 date-time (required).", OpenApiTypes.DATETIME, required=True),
    _query("numberOfSamples", "0 to 1000 (default 20).", OpenApiTypes.INT),
    _query("filterBy", "field<op>value, comma-separated, on Run:ai's audit fields."),
]
AUDIT_LIST_PARAMETERS = [
    *AUDIT_PARAMETERS,
    OFFSET,
    _query("sortBy", "An AuditLog field (default timestamp)."),
    _query("sortOrder", "asc or desc.", enum=["asc", "desc"]),
]


class PermittedScopesView(BackendView):
    @extend_schema(
        operation_id="get_permitted_scopes",
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request):
        """Where the caller may create, read, update and delete a resource type
        ({resourceType, action?}); envadmin answers for environments and policies, and nothing
        for the other types."""
        return Response(self.backend.permitted_scopes(request.user, request.data))


class MeAccessRulesView(BackendView):
    @extend_schema(
        operation_id="get_me_access_rules",
        parameters=[LIMIT, OFFSET, _query("search", "Part of a role or scope name.")],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        """The caller's own access rules."""
        return Response(self.backend.access_rules(request.user, request.query_params))


class CredentialListView(BackendView):
    @extend_schema(
        operation_id="list_credentials_assets",
        parameters=CREDENTIAL_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        """Credentials the caller may use: names, kinds, placements, key names; never a value."""
        return Response(self.backend.list_credentials(request.user, request.query_params))


class RegistryListView(BackendView):
    @extend_schema(
        operation_id="get_registries",
        parameters=[_query("name", "Exact name.")],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        """Image registries the caller may use (user and password masked)."""
        return Response(self.backend.list_registries(request.user, request.query_params))


class RegistryDetailView(BackendView):
    @extend_schema(operation_id="get_registry", responses={200: OpenApiTypes.OBJECT})
    def get(self, request, registry_id):
        return Response(self.backend.get_registry(request.user, registry_id))


class RepositoryListView(BackendView):
    @extend_schema(
        operation_id="get_repositories",
        parameters=[SEARCH_NAME],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, registry_id):
        """{"repositories": [...]} of a registry."""
        search = request.query_params.get("searchName")
        return Response(self.backend.list_repositories(request.user, registry_id, search))


class TagListView(BackendView):
    @extend_schema(
        operation_id="get_repository_tags",
        parameters=[_query("repository", "The repository (required).", required=True), SEARCH_NAME],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, registry_id):
        """{"name": repository, "tags": [...]}."""
        params = request.query_params
        answer = self.backend.list_tags(
            request.user, registry_id, params.get("repository"), params.get("searchName")
        )
        return Response(answer)


class AuditLogView(BackendView):
    @extend_schema(
        operation_id="getAuditLogs",
        parameters=AUDIT_LIST_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        """Environment changes in Run:ai's audit record shape; System administrators on the
        tenant only (403 otherwise)."""
        return Response(self.backend.audit_log(request.user, request.query_params))


class AuditLogFileView(BackendView):
    @extend_schema(
        operation_id="downloadAuditLogs",
        parameters=[
            *AUDIT_PARAMETERS,
            _query("file_type", "CSV (default) or JSON.", enum=["CSV", "JSON"]),
        ],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def get(self, request):
        """The audit log as a CSV or JSON file."""
        content, filename = self.backend.audit_log_file(request.user, request.query_params)
        response = HttpResponse(content, content_type="application/octet-stream")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
