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
    action = serializers.CharField(help_text="create | update | delete")
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
