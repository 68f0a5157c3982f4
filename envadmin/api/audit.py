"""GET /api/envadmin/v1/audit: envadmin's own endpoint over the audit trail."""

from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from envadmin.audit.filters import AuditEventFilterSet
from envadmin.audit.serializers import AuditPageSerializer
from envadmin.backends import get_backend
from envadmin.contract.errors import InvalidRequest

PARAMETERS = [
    OpenApiParameter(name, kind, description=description)
    for name, kind, description in [
        ("assetId", OpenApiTypes.STR, "The environment's id (also after its deletion)."),
        ("actor", OpenApiTypes.STR, "Part of the actor's name (user or client id), any case."),
        ("scope", OpenApiTypes.STR, "A scope type (project) or one node (project:7, tenant)."),
        ("action", OpenApiTypes.STR, "create | update | restore | delete"),
        ("origin", OpenApiTypes.STR, "ui | api"),
        ("since", OpenApiTypes.DATETIME, "Events at or after this ISO 8601 time."),
        ("until", OpenApiTypes.DATETIME, "Events at or before this ISO 8601 time."),
        ("offset", OpenApiTypes.INT, "Events to skip (default 0)."),
        ("limit", OpenApiTypes.INT, "Events per page, 1 to 500 (default 50)."),
    ]
]
KNOWN = {parameter.name for parameter in PARAMETERS}
MAX_OFFSET = 10**9  # beyond any real trail, and within every database's integer range


class PageForm(forms.Form):
    offset = forms.IntegerField(required=False, min_value=0, max_value=MAX_OFFSET)
    limit = forms.IntegerField(required=False, min_value=1, max_value=500)


class AuditView(APIView):
    @extend_schema(
        parameters=PARAMETERS,
        responses={200: AuditPageSerializer},
        description="envadmin's own: recorded creates, updates and deletes of environments, "
        "newest first, with who, when, from where and a field-level diff. Events stay after "
        "the environment is deleted. A caller sees the events of the scopes they can view (in "
        "proxy mode: the events they made).",
    )
    def get(self, request):
        params = request.query_params
        unknown = sorted(set(params) - KNOWN)
        if unknown:
            raise InvalidRequest(
                f"{unknown[0]}: unknown parameter.", f"Known: {', '.join(sorted(KNOWN))}."
            )
        page = PageForm(params)
        if not page.is_valid():
            raise InvalidRequest.from_field_errors(page.errors)
        events = AuditEventFilterSet(params, get_backend().visible_audit_events(request.user))
        if not events.is_valid():
            raise InvalidRequest.from_field_errors(events.errors)
        offset = page.cleaned_data["offset"] or 0
        limit = page.cleaned_data["limit"] or 50
        rows = list(events.qs[offset : offset + limit + 1])
        body = {"events": rows[:limit]}
        if len(rows) > limit:
            body["next"] = offset + limit
        return Response(AuditPageSerializer(body).data)
