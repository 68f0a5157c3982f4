"""envadmin's own: the compliance a policy change would change, asked before saving it."""

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from envadmin.compliance.impact import MAX_CHANGES
from envadmin.contract.choices import WORKLOAD_TYPE_KEYS

from .views import BackendView

REQUEST = inline_serializer(
    "PolicyImpactRequest",
    {
        "workloadType": serializers.ChoiceField(choices=list(WORKLOAD_TYPE_KEYS)),
        "meta": serializers.DictField(help_text="As a PUT of the policy sends it; name optional."),
        "policy": serializers.DictField(
            allow_null=True, help_text="The new policy, or null: the node's policy deleted."
        ),
    },
)
COMPLIANCE = serializers.DictField(help_text="{imposed, compliance, reason[]}")
ANSWER = inline_serializer(
    "PolicyImpact",
    {
        "summary": inline_serializer(
            "PolicyImpactSummary",
            {
                name: serializers.IntegerField()
                for name in (
                    "becomeNonCompliant",
                    "becomeCompliant",
                    "reasonsChanged",
                    "projects",
                    "environments",
                )
            },  # fmt: skip
        ),
        "changes": inline_serializer(
            "PolicyImpactChange",
            {
                "projectId": serializers.IntegerField(),
                "projectName": serializers.CharField(),
                "assetId": serializers.CharField(),
                "assetName": serializers.CharField(),
                "before": COMPLIANCE,
                "after": COMPLIANCE,
            },
            many=True,
        ),
        "truncated": serializers.BooleanField(),
        "judged": inline_serializer(
            "PolicyImpactJudged",
            {name: serializers.IntegerField() for name in ("projects", "environments", "pairs")},
        ),
    },
)


class PolicyImpactView(BackendView):
    @extend_schema(
        operation_id="policy_impact",
        request=REQUEST,
        responses={200: ANSWER},
        examples=[
            OpenApiExample(
                "A department's new rule",
                request_only=True,
                value={
                    "workloadType": "Workspace",
                    "meta": {"scope": "department", "departmentId": "7"},
                    "policy": {"rules": {"imagePullPolicy": {"options": [{"value": "Always"}]}}},
                },
            )
        ],
        description="envadmin's own: what saving this policy on its node (the body of a PUT "
        "/api/v2/policy/<type>), or deleting it (`policy: null`), would change in the compliance "
        "of every project under the node with every environment it can see, for the workload "
        "type. Nothing is saved. Lists the pairs whose {imposed, compliance, reason[]} changes "
        f"(at most {MAX_CHANGES}, `truncated` says when there were more; the summary counts "
        "them all). Open to whoever may write that policy (else 403); an invalid policy, or a "
        "rule another policy of the branch already holds, answers the 400 the PUT would. Only "
        "projects and environments the caller may see are judged.",
    )
    def post(self, request):
        return Response(self.backend.policy_impact(request.user, request.data))
