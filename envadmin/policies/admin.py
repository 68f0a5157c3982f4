from django.contrib import admin

from .models import Policy


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "workload_type", "scope_key", "updated_by", "updated_at"]
    list_filter = ["workload_type", "scope"]
    # Policies are written through the policy API, which checks conflicts along the branch.
    readonly_fields = [f.name for f in Policy._meta.fields]
