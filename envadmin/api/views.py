"""The API face: Run:ai's paths, each a thin call into the configured backend."""

import re
from functools import cached_property

from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from envadmin.accounts.grants import password_grant_username
from envadmin.api import responses
from envadmin.api.renderers import JSONStream
from envadmin.backends import get_backend
from envadmin.contract.environment import (
    CompliancePreviewRequestSerializer,
    EnvironmentCreationRequestSerializer,
    EnvironmentUpdateRequestSerializer,
    check_preview_choices,
)
from envadmin.contract.errors import InvalidRequest
from envadmin.contract.policy import POLICY_PATHS, policy_version
from envadmin.inventory.filters import QueryBooleanField
from envadmin.process_tuning import release_after_render
from envadmin.security import lockout
from envadmin.security.clients import client_address
from envadmin.security.throttles import TokenRateThrottle

LIST_PARAMETERS = [
    OpenApiParameter(name, OpenApiTypes.STR, description=description)
    for name, description in [
        ("name", "Exact name."),
        ("scope", "system|tenant|cluster|department|project: only assets of exactly that node."),
        ("projectId", "The project and its ancestors."),
        ("departmentId", "The department and its ancestors."),
        ("clusterId", "The cluster and its ancestors."),
        ("includeDescendants", "true: also every node under the given id (not with scope)."),
        ("usageInfo", "true: fill usedBy."),
        ("statusInfo", "true: fill status."),
        ("isWorkspace", "Filter on workloadSupportedTypes.workspace."),
        ("isTraining", "Filter on workloadSupportedTypes.training."),
        ("isInference", "Filter on workloadSupportedTypes.inference."),
        ("isDistributed", "Filter on workloadSupportedTypes.distributed."),
        ("distributedFramework", "MPI|PyTorch|TF|XGBoost."),
        ("complyToProject", "Project id for compliance."),
        ("complyToWorkloadType", "Workspace|Training|Distributed|Inference."),
        ("complyToReplicaType", "Worker|Master, for Distributed."),
    ]
]

# One environment takes only the parameters that shape a document, not those that select.
DETAIL_PARAMETER_NAMES = {
    "usageInfo", "statusInfo", "complyToProject", "complyToWorkloadType", "complyToReplicaType",
}  # fmt: skip
DETAIL_PARAMETERS = [p for p in LIST_PARAMETERS if p.name in DETAIL_PARAMETER_NAMES]


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    description='The updateCount the change is based on, as an entity tag ("3"; W/"3" and 3 '
    "are accepted too). A different current updateCount answers 412. Without it the change "
    "applies whatever the version, as in Run:ai.",
)
ERROR_RESPONSE = OpenApiResponse(
    inline_serializer(
        "ErrorBody",
        {
            "code": serializers.IntegerField(),
            "message": serializers.CharField(),
            "details": serializers.CharField(required=False),
        },
    ),
    description="The environment changed since the If-Match version: {code, message, details}.",
)
# The token grant's own error (the hook in schema.py adds those every operation has).
THROTTLED_RESPONSE = OpenApiResponse(
    ERROR_RESPONSE.response, description="Too many token requests from this address."
)
ENTITY_TAG = re.compile(r'^\s*(?:W/)?"?(\d{1,18})"?\s*$')


def if_match_of(request) -> int | None:
    """The updateCount an If-Match header names; None without one (or with `*`)."""
    value = request.headers.get("If-Match")
    if value is None or value.strip() == "*":
        return None
    match = ENTITY_TAG.match(value)
    if not match:
        raise InvalidRequest(
            'If-Match: expected the environment\'s updateCount as an entity tag, such as "3".',
            f"Received {value[:80]!r}.",
        )
    return int(match.group(1))


def etag_of(document: dict) -> dict:
    count = (document.get("meta") or {}).get("updateCount")
    return {"ETag": f'"{count}"'} if isinstance(count, int) else {}


class BackendView(APIView):
    @cached_property
    def backend(self):
        return get_backend()

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if hasattr(response, "add_post_render_callback"):
            response.add_post_render_callback(release_after_render)
        return response


class TokenView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    # Per client address, counted in the shared cache (envadmin/security/throttles.py).
    throttle_classes = [TokenRateThrottle]

    @extend_schema(
        operation_id="grant_token",
        request=OpenApiTypes.OBJECT,
        responses={200: responses.TOKEN, 429: THROTTLED_RESPONSE},
    )
    def post(self, request):
        """Grant an access token (client_credentials, app_token, password, refresh_token)."""
        # The password grant guesses the same passwords as the sign-in form: the same lockout
        # (locally authenticate() enforces and counts it; the check here gives the 429).
        username = password_grant_username(request.data)
        address = client_address(request)
        refused = lockout.refusal(username, address) if username else None
        if refused:
            raise Throttled(detail=refused)
        answer = get_backend().answer_token_request(request.data, request)
        if username:
            lockout.clear_failures(username, address)
        return Response(answer)


class EnvironmentListView(BackendView):
    @extend_schema(
        operation_id="list_environment_assets",
        parameters=LIST_PARAMETERS,
        responses={200: responses.ENVIRONMENT_LIST},
    )
    def get(self, request):
        """List the environments the caller may see: {"entries": [...]}."""
        # Streamed as the backend writes it: memory stays bounded whatever the list's size.
        return JSONStream(self.backend.list_environments_json(request.user, request.query_params))

    @extend_schema(
        operation_id="create_environment_asset",
        request=EnvironmentCreationRequestSerializer,
        responses={202: responses.ENVIRONMENT},
    )
    def post(self, request):
        """Create an environment; answers 202 with the created asset."""
        document = self.backend.create_environment(request.user, request.data)
        return Response(document, status=status.HTTP_202_ACCEPTED)


class EnvironmentDetailView(BackendView):
    @extend_schema(
        operation_id="get_environment_asset_by_id",
        parameters=DETAIL_PARAMETERS,
        responses={200: responses.ENVIRONMENT},
    )
    def get(self, request, asset_id):
        """One environment. Its ETag is its updateCount, for If-Match on PUT."""
        document = self.backend.get_environment(request.user, asset_id, request.query_params)
        return Response(document, headers=etag_of(document))

    @extend_schema(
        operation_id="update_environment_asset_by_id",
        parameters=[IF_MATCH],
        request=EnvironmentUpdateRequestSerializer,
        responses={202: OpenApiTypes.OBJECT, 412: ERROR_RESPONSE},
    )
    def put(self, request, asset_id):
        """Replace name, description and the whole spec; placement never changes.

        With `If-Match: "<updateCount>"` (envadmin's own; Run:ai has none) the update happens only
        if nobody changed the environment since that version; otherwise 412, naming what differs.
        """
        document = self.backend.update_environment(
            request.user, asset_id, request.data, if_match=if_match_of(request)
        )
        return Response(document, status=status.HTTP_202_ACCEPTED, headers=etag_of(document))

    @extend_schema(
        operation_id="delete_environment_asset_by_id",
        parameters=[IF_MATCH],
        responses={202: responses.ACCEPTED, 412: ERROR_RESPONSE},
    )
    def delete(self, request, asset_id):
        """Delete; workloads created from it keep running. With `If-Match`, only the version
        the caller read (412 otherwise), as for PUT."""
        answer = self.backend.delete_environment(
            request.user, asset_id, if_match=if_match_of(request)
        )
        return Response(answer, status=status.HTTP_202_ACCEPTED)


# The org-unit lists' own parameters (README, "Org lists").
ORG_LIST_PARAMETERS = [
    OpenApiParameter("filterBy", OpenApiTypes.STR, many=True, description="field<op>value"),
    OpenApiParameter("sortBy", OpenApiTypes.STR),
    OpenApiParameter("sortOrder", OpenApiTypes.STR, enum=["asc", "desc"]),
    OpenApiParameter("offset", OpenApiTypes.INT),
    OpenApiParameter("limit", OpenApiTypes.INT),
]
ORG_SEARCH = OpenApiParameter("search", OpenApiTypes.STR, description="Part of the name.")


class ProjectListView(BackendView):
    @extend_schema(
        operation_id="get_projects",
        parameters=[*ORG_LIST_PARAMETERS, ORG_SEARCH],
        responses={200: responses.PROJECT_PAGE},
    )
    def get(self, request):
        return Response(self.backend.list_projects(request.user, request.query_params))


class ProjectDetailView(BackendView):
    @extend_schema(operation_id="get_project", responses={200: OpenApiTypes.OBJECT})
    def get(self, request, project_id):
        return Response(self.backend.get_project(request.user, project_id))


class DepartmentListView(BackendView):
    @extend_schema(
        operation_id="get_departments",
        parameters=ORG_LIST_PARAMETERS,
        responses={200: responses.DEPARTMENT_PAGE},
    )
    def get(self, request):
        return Response(self.backend.list_departments(request.user, request.query_params))


class DepartmentDetailView(BackendView):
    @extend_schema(operation_id="get_department", responses={200: OpenApiTypes.OBJECT})
    def get(self, request, department_id):
        return Response(self.backend.get_department(request.user, department_id))


class ClusterListView(BackendView):
    @extend_schema(operation_id="get_clusters", responses={200: responses.CLUSTER_LIST})
    def get(self, request):
        return Response(self.backend.list_clusters(request.user, request.query_params))


class ClusterDetailView(BackendView):
    @extend_schema(operation_id="get_cluster_by_uuid", responses={200: OpenApiTypes.OBJECT})
    def get(self, request, cluster_uuid):
        return Response(self.backend.get_cluster(request.user, cluster_uuid))


POLICY_SCOPE_PARAMETERS = [
    OpenApiParameter("scope", OpenApiTypes.STR, description="tenant|cluster|department|project"),
    OpenApiParameter("clusterId", OpenApiTypes.STR),
    OpenApiParameter("departmentId", OpenApiTypes.STR),
    OpenApiParameter("projectId", OpenApiTypes.STR),
]
VALIDATE_ONLY = OpenApiParameter(
    "validateOnly",
    OpenApiTypes.BOOL,
    description="true (or 1): check the policy and answer it, without saving. false, 0 or "
    "absent: save. Anything else is a 400.",
)
POLICY_IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    description="The ETag of the node's own policy the change is based on, as a GET or a write "
    "answered it. If the policy is another version now (changed, deleted, or written where "
    "there was none), the request answers 412 and changes nothing. Without it the change "
    "applies whatever the version, as in Run:ai.",
)
POLICY_STALE_RESPONSE = OpenApiResponse(
    ERROR_RESPONSE.response,
    description="The node's policy is not the If-Match version: {code, message, details}.",
)
POLICY_TAG = re.compile(r'^\s*(?:W/)?"?([0-9a-f]{32})"?\s*$')


class PolicyWriteParameters(forms.Form):
    validateOnly = QueryBooleanField(required=False)


def policy_if_match_of(request) -> str | None:
    """The policy version an If-Match header names; None without one (or with `*`)."""
    value = request.headers.get("If-Match")
    if value is None or value.strip() == "*":
        return None
    match = POLICY_TAG.match(value)
    if not match:
        raise InvalidRequest(
            "If-Match: expected the policy's ETag, as a GET of it answers it.",
            f"Received {value[:80]!r}.",
        )
    return match.group(1)


def policy_etag(document: dict) -> dict:
    return {"ETag": f'"{policy_version(document)}"'}


class PolicyView(BackendView):
    """/api/v2/policy/{workspaces,trainings,distributed,inferences}"""

    def workload_type(self):
        return POLICY_PATHS[self.kwargs["policy_path"]]

    @extend_schema(parameters=POLICY_SCOPE_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request, policy_path):
        """A node's policy and its effective policy (each rule with its sourceOfRule). Its ETag
        names the version of the node's own policy, for If-Match on PUT, PATCH and DELETE."""
        answer = self.backend.get_policy(request.user, self.workload_type(), request.query_params)
        return Response(answer, headers=policy_etag(answer))

    def _write(self, request, partial):
        params = PolicyWriteParameters(request.query_params)
        if not params.is_valid():
            raise InvalidRequest.from_field_errors(params.errors)
        validate_only = bool(params.cleaned_data["validateOnly"])
        answer = self.backend.write_policy(
            request.user, self.workload_type(), request.data,
            partial=partial, validate_only=validate_only, if_match=policy_if_match_of(request),
        )  # fmt: skip
        # A validated draft is no stored version: nothing to base an If-Match on.
        return Response(answer, headers=None if validate_only else policy_etag(answer))

    @extend_schema(
        parameters=[VALIDATE_ONLY, POLICY_IF_MATCH],
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT, 412: POLICY_STALE_RESPONSE},
    )
    def put(self, request, policy_path):
        """Overwrite a node's policy; 400 if a field is already ruled up or down the branch."""
        return self._write(request, partial=False)

    @extend_schema(
        parameters=[VALIDATE_ONLY, POLICY_IF_MATCH],
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT, 412: POLICY_STALE_RESPONSE},
    )
    def patch(self, request, policy_path):
        """Merge into a node's policy; `reset` lists field paths to clear."""
        return self._write(request, partial=True)

    @extend_schema(
        parameters=[*POLICY_SCOPE_PARAMETERS, POLICY_IF_MATCH],
        responses={204: None, 412: POLICY_STALE_RESPONSE},
    )
    def delete(self, request, policy_path):
        self.backend.delete_policy(
            request.user, self.workload_type(), request.query_params,
            if_match=policy_if_match_of(request),
        )  # fmt: skip
        return Response(status=status.HTTP_204_NO_CONTENT)


class PolicyListView(BackendView):
    @extend_schema(
        parameters=[OpenApiParameter("workloadType", OpenApiTypes.STR), *POLICY_SCOPE_PARAMETERS],
        responses={200: responses.POLICY_LIST},
    )
    def get(self, request):
        """The policies the caller may see."""
        return Response(self.backend.list_policies(request.user, request.query_params))


class CompliancePreviewView(BackendView):
    @extend_schema(
        request=CompliancePreviewRequestSerializer,
        responses={200: responses.COMPLIANCE_PREVIEW},
        description="envadmin's own: the compliance an environment creation document would have "
        "for a project and workload type, without saving anything. Answers "
        '{"compliance": {imposed, compliance, reason[]}}.',
    )
    def post(self, request):
        check_preview_choices(request.data)
        return Response(self.backend.preview_compliance(request.user, request.data))


class ComplianceFixView(BackendView):
    @extend_schema(
        request=CompliancePreviewRequestSerializer,
        responses={200: responses.COMPLIANCE_FIX},
        description="envadmin's own: the smallest change to an environment creation document "
        "that makes it comply with a project's effective policy for a workload type, without "
        "saving anything. The body is the compliance preview's. Answers {environment (the fixed "
        "document), changes [{field, from, to, because}], compliance (of the fixed document), "
        "unfixable [the reasons no change to the environment can fix]}; when unfixable is "
        "empty, compliance.compliance is true.",
    )
    def post(self, request):
        check_preview_choices(request.data)
        return Response(self.backend.fix_compliance(request.user, request.data))
