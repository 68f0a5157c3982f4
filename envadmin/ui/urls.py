from django.urls import include, path

from .views import activity, bulk, form, form_preview, gitops, lifecycle, pickers, review, revisions
from .views import environments as env

environment_patterns = (
    [
        path("", env.EnvironmentListView.as_view(), name="list"),
        path("new", form.EnvironmentFormView.as_view(mode="create"), name="create"),
        path("preview", form_preview.CompliancePreviewView.as_view(), name="preview"),
        path("row/<str:kind>", form.empty_row, name="row"),
        path("image-picker", pickers.ImagePickerView.as_view(), name="image-picker"),
        path("columns", env.save_columns, name="columns"),
        path("import", gitops.ImportView.as_view(), name="import"),
        path("review-as", env.save_review_as, name="review-as"),
        path("cleanup", lifecycle.CleanupView.as_view(), name="cleanup"),
        path("bulk/preview", bulk.BulkPreviewView.as_view(), name="bulk-preview"),
        path("bulk/apply", bulk.BulkApplyView.as_view(), name="bulk-apply"),
        path("bulk/summary", bulk.BulkSummaryView.as_view(), name="bulk-summary"),
        path("recently-deleted", revisions.DeletedEnvironmentsView.as_view(), name="deleted"),
        path(
            "recently-deleted/<str:asset_id>/bring-back",
            revisions.DeletedEnvironmentsView.as_view(),
            name="undelete",
        ),
        path("<str:asset_id>", env.EnvironmentDetailView.as_view(), name="detail"),
        path("<str:asset_id>/compare", revisions.RevisionCompareView.as_view(), name="compare"),
        path(
            "<str:asset_id>/revisions/<str:number>/restore",
            revisions.RevisionRestoreView.as_view(),
            name="restore",
        ),
        path("<str:asset_id>/edit", form.EnvironmentFormView.as_view(mode="edit"), name="update"),
        path("<str:asset_id>/copy", form.EnvironmentFormView.as_view(mode="copy"), name="copy"),
        path("<str:asset_id>/delete", env.EnvironmentDeleteView.as_view(), name="delete"),
        path("<str:asset_id>/lifecycle", lifecycle.LifecycleChangeView.as_view(), name="lifecycle"),
    ],
    "environments",
)

review_patterns = (
    [
        path("compliance", review.ComplianceReviewView.as_view(), name="compliance"),
        path("policies", review.PolicyView.as_view(), name="policies"),
        path("org", review.OrgTreeView.as_view(), name="org"),
    ],
    "review",
)

urlpatterns = [
    path("environments/", include(environment_patterns)),
    path("", include(review_patterns)),
    path("activity", activity.ActivityView.as_view(), name="activity"),
]
