from django.contrib import admin

from .models import Cluster, Department, Environment, Project, Template, Workload


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "created_at"]
    search_fields = ["name"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "cluster"]
    list_filter = ["cluster"]
    search_fields = ["name"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "department"]
    list_filter = ["department"]
    search_fields = ["name"]


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ["name", "scope", "scope_key", "read_only", "update_count", "updated_at"]
    list_filter = ["scope", "read_only"]
    search_fields = ["name"]
    # Edits belong to the API and UI, which validate them; the admin is for looking.
    readonly_fields = [f.name for f in Environment._meta.fields]


@admin.register(Workload)
class WorkloadAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "status", "project", "environment", "created_at"]
    list_filter = ["type", "status"]
    search_fields = ["name"]


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "scope", "scope_key", "environment"]
    search_fields = ["name"]
