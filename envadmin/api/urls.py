from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from envadmin.contract.policy import POLICY_PATHS

from . import assets, bulk, lifecycle, revisions, schema, views  # noqa: F401 (schema registers the bearer security scheme)
from .audit import AuditView
from .errors import api_not_found
from .impact import PolicyImpactView

app_name = "api"

urlpatterns = [
    path("v1/token", views.TokenView.as_view(), name="token"),
    path("v1/asset/environment", views.EnvironmentListView.as_view(), name="environments"),
    path(
        "v1/asset/environment/<str:asset_id>",
        views.EnvironmentDetailView.as_view(),
        name="environment",
    ),
    path("v1/org-unit/projects", views.ProjectListView.as_view(), name="projects"),
    path(
        "v1/org-unit/projects/<str:project_id>", views.ProjectDetailView.as_view(), name="project"
    ),
    path("v1/org-unit/departments", views.DepartmentListView.as_view(), name="departments"),
    path(
        "v1/org-unit/departments/<str:department_id>",
        views.DepartmentDetailView.as_view(),
        name="department",
    ),
    path("v1/clusters", views.ClusterListView.as_view(), name="clusters"),
    path("v1/clusters/<str:cluster_uuid>", views.ClusterDetailView.as_view(), name="cluster"),
    path("v2/policy", views.PolicyListView.as_view(), name="policies"),
    # One literal route per type, as the contract spells its paths.
    *(
        path(f"v2/policy/{kind}", views.PolicyView.as_view(), {"policy_path": kind}, name=kind)
        for kind in POLICY_PATHS
    ),
    path(
        "v1/authorization/permitted-scopes",
        assets.PermittedScopesView.as_view(),
        name="permitted-scopes",
    ),
    path("v1/authorization/me/access-rules", assets.MeAccessRulesView.as_view(), name="me-rules"),
    path("v1/asset/credentials", assets.CredentialListView.as_view(), name="credentials"),
    path("v1/asset/registries", assets.RegistryListView.as_view(), name="registries"),
    path(
        "v1/asset/registries/<str:registry_id>",
        assets.RegistryDetailView.as_view(),
        name="registry",
    ),
    path(
        "v1/asset/registries/<str:registry_id>/repositories",
        assets.RepositoryListView.as_view(),
        name="repositories",
    ),
    path(
        "v1/asset/registries/<str:registry_id>/repositories/tags",
        assets.TagListView.as_view(),
        name="repository-tags",
    ),
    path("v1/audit/log", assets.AuditLogView.as_view(), name="audit-log"),
    path("v1/audit/log/file", assets.AuditLogFileView.as_view(), name="audit-log-file"),
    path(
        "envadmin/v1/compliance-preview",
        views.CompliancePreviewView.as_view(),
        name="compliance-preview",
    ),
    path(
        "envadmin/v1/compliance-fix",
        views.ComplianceFixView.as_view(),
        name="compliance-fix",
    ),
    path("envadmin/v1/audit", AuditView.as_view(), name="audit"),
    path("envadmin/v1/policy-impact", PolicyImpactView.as_view(), name="policy-impact"),
    path("envadmin/v1/bulk", bulk.BulkView.as_view(), name="bulk"),
    path(
        "envadmin/v1/environments/deleted",
        revisions.DeletedListView.as_view(),
        name="deleted-environments",
    ),
    path(
        "envadmin/v1/environments/<str:asset_id>/undelete",
        revisions.UndeleteView.as_view(),
        name="undelete",
    ),
    path(
        "envadmin/v1/environments/<str:asset_id>/revisions",
        revisions.RevisionListView.as_view(),
        name="revisions",
    ),
    path(
        "envadmin/v1/environments/<str:asset_id>/revisions/<str:number>",
        revisions.RevisionDetailView.as_view(),
        name="revision",
    ),
    path(
        "envadmin/v1/environments/<str:asset_id>/revisions/<str:number>/restore",
        revisions.RevisionRestoreView.as_view(),
        name="restore",
    ),
    path(
        "envadmin/v1/environments/<str:asset_id>/compare",
        revisions.RevisionCompareView.as_view(),
        name="compare",
    ),
    path(
        "envadmin/v1/environments/<str:asset_id>/lifecycle",
        lifecycle.LifecycleView.as_view(),
        name="lifecycle",
    ),
    path("envadmin/v1/hygiene", lifecycle.HygieneView.as_view(), name="hygiene"),
    path(
        "schema/",
        SpectacularAPIView.as_view(
            custom_settings={
                "POSTPROCESSING_HOOKS": [
                    "drf_spectacular.hooks.postprocess_schema_enums",
                    "envadmin.api.schema.document_error_responses",
                ]
            }
        ),
        name="schema",
    ),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^.*$", api_not_found),
]
