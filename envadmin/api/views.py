"""The API face: Run:ai's paths, each a thin call into the configured backend."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from envadmin.accounts.grants import grant
from envadmin.backends.base import get_backend
from envadmin.contract.environment import (
    EnvironmentCreationRequestSerializer,
    EnvironmentUpdateRequestSerializer,
)

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


class BackendView(APIView):
    @property
    def backend(self):
        return get_backend()


class TokenView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT})
    def post(self, request):
        """Grant an access token (client_credentials, app_token, password, refresh_token)."""
        return Response(grant(request.data))


class EnvironmentListView(BackendView):
    @extend_schema(parameters=LIST_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        """List the environments the caller may see: {"entries": [...]}."""
        return Response(self.backend.list_environments(request.user, request.query_params))

    @extend_schema(
        request=EnvironmentCreationRequestSerializer, responses={202: OpenApiTypes.OBJECT}
    )
    def post(self, request):
        """Create an environment; answers 202 with the created asset."""
        document = self.backend.create_environment(request.user, request.data)
        return Response(document, status=status.HTTP_202_ACCEPTED)


class EnvironmentDetailView(BackendView):
    @extend_schema(parameters=LIST_PARAMETERS[6:8] + LIST_PARAMETERS[13:])
    def get(self, request, asset_id):
        """One environment."""
        return Response(self.backend.get_environment(request.user, asset_id, request.query_params))

    @extend_schema(request=EnvironmentUpdateRequestSerializer, responses={202: OpenApiTypes.OBJECT})
    def put(self, request, asset_id):
        """Replace name, description and the whole spec; placement never changes."""
        document = self.backend.update_environment(request.user, asset_id, request.data)
        return Response(document, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={202: OpenApiTypes.OBJECT})
    def delete(self, request, asset_id):
        """Delete; workloads created from it keep running."""
        answer = self.backend.delete_environment(request.user, asset_id)
        return Response(answer, status=status.HTTP_202_ACCEPTED)


class ProjectListView(BackendView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response(self.backend.list_projects(request.user, request.query_params))


class ProjectDetailView(BackendView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, project_id):
        return Response(self.backend.get_project(request.user, project_id))


class DepartmentListView(BackendView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response(self.backend.list_departments(request.user, request.query_params))


class DepartmentDetailView(BackendView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, department_id):
        return Response(self.backend.get_department(request.user, department_id))


class ClusterListView(BackendView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response(self.backend.list_clusters(request.user, request.query_params))


class ClusterDetailView(BackendView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, cluster_uuid):
        return Response(self.backend.get_cluster(request.user, cluster_uuid))
