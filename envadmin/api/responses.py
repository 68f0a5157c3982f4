"""The success bodies of the API as our OpenAPI document describes them.

Only the outer shape is spelled out (which keys, list or object): the documents inside are
Run:ai's, described by envadmin/contract/runai-api, and .ci/fuzz checks the answers against both.
Error bodies are added to every operation by envadmin.api.schema.document_error_responses.
"""

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers


def _objects():
    return serializers.ListField(child=serializers.DictField())


def _page(name: str, key: str):
    """An org-unit list page: the items, and `next` (the offset of the next page) if any."""
    return inline_serializer(
        name, {key: _objects(), "next": serializers.IntegerField(required=False)}
    )


TOKEN = inline_serializer(
    "TokenResponse",
    {
        "accessToken": serializers.CharField(),
        "expiresIn": serializers.IntegerField(required=False),
        "refreshToken": serializers.CharField(required=False),
        "idToken": serializers.CharField(required=False),
    },
)
ENVIRONMENT = inline_serializer(
    "EnvironmentAsset", {"meta": serializers.DictField(), "spec": serializers.DictField()}
)
ENVIRONMENT_LIST = inline_serializer("EnvironmentList", {"entries": _objects()})
ACCEPTED = inline_serializer(
    "Accepted", {"code": serializers.IntegerField(), "message": serializers.CharField()}
)
PROJECT_PAGE = _page("ProjectPage", "projects")
DEPARTMENT_PAGE = _page("DepartmentPage", "departments")
CLUSTER_LIST = inline_serializer(
    "Cluster",
    {
        "uuid": serializers.UUIDField(),
        "name": serializers.CharField(),
        "tenantId": serializers.IntegerField(),
        "createdAt": serializers.DateTimeField(),
    },
    many=True,
)
POLICY_LIST = inline_serializer("PolicyList", {"policies": _objects()})
COMPLIANCE_PREVIEW = inline_serializer("CompliancePreview", {"compliance": serializers.DictField()})
COMPLIANCE_FIX = inline_serializer(
    "ComplianceFix",
    {
        "environment": ENVIRONMENT,
        "changes": _objects(),
        "compliance": serializers.DictField(),
        "unfixable": _objects(),
    },
)
