from django.contrib import admin

from .models import AccessRule, ServiceAccount


@admin.register(AccessRule)
class AccessRuleAdmin(admin.ModelAdmin):
    list_display = ["subject_type", "subject", "role", "scope_key"]
    list_filter = ["subject_type", "role"]
    search_fields = ["subject", "scope_key"]


@admin.register(ServiceAccount)
class ServiceAccountAdmin(admin.ModelAdmin):
    list_display = ["name", "client_id", "created_at"]
    search_fields = ["name", "client_id"]
    # The secret is shown once by create_service_account; the hash is never editable here.
    readonly_fields = ["client_id", "secret_hash", "created_at"]
