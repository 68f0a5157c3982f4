"""envadmin's own: one action over many environments, each item answered on its own."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from envadmin.audit.serializers import ChangeSerializer
from envadmin.backends.bulk import ACTIONS, MAX_ITEMS, Bulk, parse

from .views import BackendView

BULK_REQUEST = inline_serializer(
    "BulkRequest",
    {
        "action": serializers.ChoiceField(choices=ACTIONS),
        "items": inline_serializer(
            "BulkItem",
            {
                "id": serializers.CharField(max_length=64, min_length=1),
                "ifMatch": serializers.IntegerField(required=False, allow_null=True, min_value=0),
            },
            many=True,
        ),
        "image": serializers.CharField(required=False, max_length=400),
        "message": serializers.CharField(required=False, max_length=1000),
        "replacement": serializers.CharField(required=False, allow_null=True, max_length=64),
        "dryRun": serializers.BooleanField(required=False, default=False),
    },
)
BULK_RESULTS = inline_serializer(
    "BulkResults",
    {
        "results": inline_serializer(
            "BulkResult",
            {
                "id": serializers.CharField(),
                "status": serializers.IntegerField(),
                "message": serializers.CharField(),
                "changes": ChangeSerializer(many=True, required=False),
                "revision": serializers.IntegerField(required=False, allow_null=True),
            },
            many=True,
        )
    },
)


class BulkView(BackendView):
    @extend_schema(
        operation_id="bulk_environment_action",
        request=BULK_REQUEST,
        responses={200: BULK_RESULTS},
        description=(
            "envadmin's own: one action over at most "
            f"{MAX_ITEMS} environments. `set-image` takes an image reference, or `:tag` to keep "
            "each image's repository and change its tag. Each item is applied on its own (one "
            "refused item never undoes another) and answered with its own status: 202 done (or, "
            "with dryRun, would be done), 403 not permitted, 404 not found or not visible, 409 "
            "refused (a name clash, an archive a template uses), 412 its ifMatch is not the "
            "current updateCount. `changes` lists field by field what changes; `revision` is the "
            "revision that records it, to undo it with restore or undelete. With dryRun nothing "
            "is written. A malformed request (unknown action, bad image, duplicate ids, more "
            f"than {MAX_ITEMS} items) is refused whole with 400."
        ),
    )
    def post(self, request):
        bulk = Bulk(self.backend, request.user, parse(request.data))
        return Response({"results": bulk.run()})
