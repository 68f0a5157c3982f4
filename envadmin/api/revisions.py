"""envadmin's own endpoints over every version of an environment (audit.Revision): list, read,
compare, restore, and the deleted environments with undelete. Each is one backend call."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import status
from rest_framework.response import Response

from envadmin.audit.serializers import (
    COMPARISON_FIELDS,
    DeletedListSerializer,
    RevisionDetailSerializer,
    RevisionListSerializer,
)
from envadmin.contract.errors import InvalidRequest

from . import responses
from .views import ERROR_RESPONSE, IF_MATCH, BackendView, etag_of, if_match_of

CONFLICT = OpenApiResponse(ERROR_RESPONSE.response, description="The name is taken in its scope.")
STALE = OpenApiResponse(
    ERROR_RESPONSE.response, description="The environment changed since the If-Match version."
)
READ_RULE = (
    " Readable by whoever can read the environment; once it is deleted, by whoever can see "
    "its placement."
)


class RevisionListView(BackendView):
    @extend_schema(
        operation_id="list_environment_revisions",
        responses={200: RevisionListSerializer},
        description="envadmin's own: every kept version of the environment, newest first."
        + READ_RULE,
    )
    def get(self, request, asset_id):
        # The list shows no documents: they are not read.
        revisions = self.backend.revisions(request.user, asset_id).defer("document")
        return Response(RevisionListSerializer({"revisions": revisions}).data)


class RevisionDetailView(BackendView):
    @extend_schema(
        operation_id="get_environment_revision",
        responses={200: RevisionDetailSerializer},
        description="envadmin's own: one version with its whole document." + READ_RULE,
    )
    def get(self, request, asset_id, number):
        revision = self.backend.revision(request.user, asset_id, number)
        return Response(RevisionDetailSerializer(revision).data)


class RevisionCompareView(BackendView):
    @extend_schema(
        operation_id="compare_environment_revisions",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.INT, required=True),
            OpenApiParameter("to", OpenApiTypes.INT, required=True),
        ],
        responses={200: inline_serializer("RevisionComparison", COMPARISON_FIELDS)},
        description="envadmin's own: field by field, what changed from one version to another "
        "(paths as in the audit trail)." + READ_RULE,
    )
    def get(self, request, asset_id):
        params = request.query_params
        unknown = sorted(set(params) - {"from", "to"})
        if unknown:
            raise InvalidRequest(f"{unknown[0]}: unknown parameter.", "Known: from, to.")
        answer = self.backend.compare_revisions(
            request.user, asset_id, params.get("from"), params.get("to")
        )
        return Response(answer)


class RevisionRestoreView(BackendView):
    @extend_schema(
        operation_id="restore_environment_revision",
        parameters=[IF_MATCH],
        request=None,
        responses={202: responses.ENVIRONMENT, 409: CONFLICT, 412: STALE},
        description="envadmin's own: update the environment to this version's name, description "
        "and spec (placement and workload types are fixed at creation and stay). Needs the right "
        "to update it; recorded as a `restore` revision naming this one.",
    )
    def post(self, request, asset_id, number):
        document = self.backend.restore_environment(
            request.user, asset_id, number, if_match=if_match_of(request)
        )
        return Response(document, status=status.HTTP_202_ACCEPTED, headers=etag_of(document))


class DeletedListView(BackendView):
    @extend_schema(
        operation_id="list_deleted_environments",
        parameters=[
            OpenApiParameter(name, OpenApiTypes.STR, description=description)
            for name, description in [
                ("name", "Exact name, any case."),
                ("scope", "tenant|cluster|department|project."),
                ("clusterId", "Placed exactly on this cluster."),
                ("departmentId", "Placed exactly on this department."),
                ("projectId", "Placed exactly on this project."),
            ]
        ],
        responses={200: DeletedListSerializer},
        description="envadmin's own: deleted environments whose placement the caller can see "
        "and that were not brought back, newest deletion first (at most 500).",
    )
    def get(self, request):
        entries = self.backend.deleted_environments(request.user, request.query_params)
        return Response(DeletedListSerializer({"entries": entries}).data)


class UndeleteView(BackendView):
    @extend_schema(
        operation_id="undelete_environment",
        request=None,
        responses={202: responses.ENVIRONMENT, 409: CONFLICT},
        description="envadmin's own: a new environment (a new id) with the deleted one's last "
        "name, placement and spec; its first revision names the deleted one in restoredFrom. "
        "Needs the right to create there. 409 if the name is taken (or it was brought back "
        "already), 404 if its placement no longer exists.",
    )
    def post(self, request, asset_id):
        document = self.backend.undelete_environment(request.user, asset_id)
        return Response(document, status=status.HTTP_202_ACCEPTED, headers=etag_of(document))
