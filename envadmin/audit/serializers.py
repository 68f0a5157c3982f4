"""Audit events as the API answers them (camelCase, like the rest of the API)."""

from rest_framework import serializers


class ChangeSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="A path like spec.environmentVariables[HOME].value.")
    before = serializers.JSONField(allow_null=True, help_text="null: not set before.")
    after = serializers.JSONField(allow_null=True, help_text="null: not set after.")


class AuditEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    actor = serializers.CharField()
    actorType = serializers.CharField(source="actor_type", help_text="user | application")
    origin = serializers.CharField(help_text="ui | api")
    clientId = serializers.CharField(source="client_id")
    address = serializers.CharField(allow_null=True)
    action = serializers.CharField(help_text="create | update | restore | delete")
    assetId = serializers.CharField(source="asset_id")
    assetName = serializers.CharField(source="asset_name")
    scope = serializers.CharField(help_text="tenant | cluster | department | project")
    scopeKey = serializers.CharField(source="scope_key", help_text="tenant or scope:id")
    scopePath = serializers.CharField(source="scope_path")
    updateCount = serializers.IntegerField(source="update_count", allow_null=True)
    changes = ChangeSerializer(many=True)


class AuditPageSerializer(serializers.Serializer):
    events = AuditEventSerializer(many=True)
    next = serializers.IntegerField(required=False, help_text="The offset of the next page.")


class RevisionSerializer(serializers.Serializer):
    revision = serializers.IntegerField(help_text="1, 2, ... per environment, in change order.")
    action = serializers.CharField(help_text="create | update | restore | delete | observed")
    at = serializers.DateTimeField()
    actor = serializers.CharField(allow_null=True, help_text="null: unknown (observed).")
    origin = serializers.CharField(allow_null=True, help_text="ui | api | snapshot; null: unknown")
    updateCount = serializers.IntegerField(source="update_count", allow_null=True)
    changes = ChangeSerializer(many=True, help_text="From the revision before.")
    restoredFrom = serializers.JSONField(
        source="restored_from",
        allow_null=True,
        help_text="A restore: the revision number it went back to. An undeleted environment's "
        "first revision: {assetId, revision} of the deleted one.",
    )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["actor"] = data["actor"] or None
        data["origin"] = data["origin"] or None
        return data


class RevisionDetailSerializer(RevisionSerializer):
    document = serializers.DictField(help_text="The EnvironmentAsset as a read answered it.")


class RevisionListSerializer(serializers.Serializer):
    revisions = RevisionSerializer(many=True)


# GET .../compare answers {"from", "to", "changes"}: "from" is a Python keyword, so its schema
# is built from a dict of fields.
COMPARISON_FIELDS = {
    "from": serializers.IntegerField(),
    "to": serializers.IntegerField(),
    "changes": ChangeSerializer(many=True),
}


class DeletedEnvironmentSerializer(serializers.Serializer):
    id = serializers.CharField(source="asset_id")
    name = serializers.CharField(source="asset_name")
    scope = serializers.SerializerMethodField()
    scopePath = serializers.CharField(source="scope_path")
    deletedAt = serializers.DateTimeField(source="at")
    deletedBy = serializers.CharField(source="actor")
    lastRevision = serializers.IntegerField(source="revision")

    def get_scope(self, revision) -> str:
        return str((revision.document.get("meta") or {}).get("scope") or "")


class DeletedListSerializer(serializers.Serializer):
    entries = DeletedEnvironmentSerializer(many=True)
