"""envadmin's own endpoints over environments' lifecycle (active, deprecated, archived) and the
hygiene report. The lifecycle is envadmin's metadata in both modes; whether the environment
exists and who may see or change it is the backend's (Run:ai's, in proxy mode) word."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from envadmin.backends.org_index import OrgIndex
from envadmin.contract.errors import InvalidRequest
from envadmin.lifecycle.hygiene import UNUSED_DAYS_RANGE, hygiene_report, unused_days
from envadmin.lifecycle.models import ID_LENGTH, MESSAGE_LENGTH
from envadmin.lifecycle.service import STATES, change_lifecycle, lifecycle_of

from .views import ERROR_RESPONSE, BackendView


class LifecycleSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=STATES)
    message = serializers.CharField(max_length=MESSAGE_LENGTH, allow_blank=True, required=False)
    replacement = serializers.CharField(max_length=ID_LENGTH, allow_null=True, required=False)


class HygieneEntrySerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    path = serializers.CharField(help_text="Placement: tenant, or cluster / department / project.")
    state = serializers.ChoiceField(choices=STATES, help_text="Its lifecycle state.")


class UnusedEntrySerializer(HygieneEntrySerializer):
    lastUsed = serializers.DateTimeField()


class HygieneSerializer(serializers.Serializer):
    neverUsed = HygieneEntrySerializer(many=True)
    unused = UnusedEntrySerializer(many=True)
    duplicates = serializers.ListField(child=HygieneEntrySerializer(many=True))
    nonCompliantEverywhere = HygieneEntrySerializer(many=True)


ARCHIVE_REFUSED = OpenApiResponse(
    ERROR_RESPONSE.response, description="Archiving refused: templates use the environment."
)


class LifecycleView(BackendView):
    @extend_schema(
        operation_id="get_environment_lifecycle",
        responses={200: LifecycleSerializer},
        description="envadmin's own: the environment's lifecycle (active when never set). "
        "Readable by whoever can read the environment.",
    )
    def get(self, request, asset_id):
        document = self.backend.get_environment(request.user, asset_id, {})
        asset_id = str(document["meta"]["id"])
        return Response(lifecycle_of([asset_id])[asset_id])

    @extend_schema(
        operation_id="set_environment_lifecycle",
        request=LifecycleSerializer,
        responses={200: LifecycleSerializer, 409: ARCHIVE_REFUSED},
        description="envadmin's own: set the lifecycle. Deprecated environments show their "
        "message and are offered last as copy sources; archived ones are hidden from the web "
        "admin's list by default and never offered as copy sources (Run:ai's API still lists "
        "them). `replacement`: another environment the caller can see, not archived. Needs the "
        "right to update the environment; recorded in the audit trail. 409 when archiving one "
        "that templates use.",
    )
    def put(self, request, asset_id):
        return Response(change_lifecycle(self.backend, request.user, asset_id, request.data))


class HygieneView(BackendView):
    @extend_schema(
        operation_id="get_hygiene_report",
        parameters=[
            OpenApiParameter(
                "unusedDays",
                {
                    "type": "integer",
                    "minimum": UNUSED_DAYS_RANGE[0],
                    "maximum": UNUSED_DAYS_RANGE[1],
                },
                description=f"Unused: last used more than this many days ago "
                f"({UNUSED_DAYS_RANGE[0]}..{UNUSED_DAYS_RANGE[1]}, default 90).",
            )
        ],
        responses={200: HygieneSerializer},
        description="envadmin's own: over the environments the caller can see, those never "
        "used (no workload, no template), unused for `unusedDays` (lastUsed: the newest "
        "workload in a project the caller can see), groups with identical specs, and those "
        "that comply for no project the caller can see that can use them, for no type they "
        "support. Entries are {id, name, path, state}.",
    )
    def get(self, request):
        params = request.query_params
        unknown = sorted(set(params) - {"unusedDays"})
        if unknown:
            raise InvalidRequest(f"{unknown[0]}: unknown parameter.", "Known: unusedDays.")
        days = unused_days(params.get("unusedDays"))
        names = OrgIndex.load(self.backend, request.user)
        return Response(hygiene_report(self.backend, request.user, names, unused_days=days))
