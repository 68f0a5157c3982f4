"""Environments: the list (with its HTMX partial and CSV), detail, delete."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from envadmin.audit.models import AuditEvent
from envadmin.audit.presentation import with_change_lines
from envadmin.contract.choices import CSV_ROW_LIMIT, DIST_FRAMEWORKS, TOOL_TYPES, WORKLOAD_TYPES
from envadmin.contract.errors import BackendError, Forbidden, NotFound, PreconditionFailed

from .. import browse
from ..export import csv_response
from ..models import Preference
from ..params import whole
from .base import PageView, backend_error_page

# Query parameters passed to the backend as they are: the API's own names and meanings.
API_PARAMETERS = [
    "scope", "projectId", "departmentId", "clusterId", "includeDescendants",
    "isWorkspace", "isTraining", "isInference", "isDistributed", "distributedFramework",
]  # fmt: skip
UI_FILTERS = ["q", "tool", "image", "created_by", "compliance"]


def wants_partial(request) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


@method_decorator(vary_on_headers("HX-Request"), name="dispatch")
class EnvironmentListView(PageView, View):
    template_name = "environments/list.html"

    def backend_params(self) -> dict:
        params = {k: v for k in API_PARAMETERS if (v := self.request.GET.get(k, "").strip())}
        # Pickers for cluster, department and project may all be set: the most specific wins.
        for broad, narrow in (("clusterId", "departmentId"), ("departmentId", "projectId"),
                              ("clusterId", "projectId")):  # fmt: skip
            if narrow in params:
                params.pop(broad, None)
        params["usageInfo"] = "true"
        project, kind = self.review_as()
        if project:
            params["complyToProject"] = str(project)
            params["complyToWorkloadType"] = kind
            # "Review as" shows what the project can see, unless placement is filtered.
            if not {"projectId", "departmentId", "clusterId", "scope"} & params.keys():
                params["projectId"] = str(project)
        return params

    def in_database(self) -> bool:
        """Whether the backend can filter, sort and page the list itself (the local one can):
        then a page costs the same whatever the number of environments. Compliance is judged
        per environment in Python, so sorting or filtering on it takes the whole list."""
        sort = self.request.GET.get("sort", "name").lstrip("-")
        return (
            hasattr(self.backend, "browse_environments")
            and sort != "compliance"
            and not self.request.GET.get("compliance")
        )

    def rows(self) -> tuple[list[dict], str | None]:
        """Every matching row, sorted (CSV, and backends that cannot page)."""
        if self.in_database():
            rows, _, error = self.window(0, CSV_ROW_LIMIT)
            return rows, error
        try:
            entries = self.backend.list_environments(self.caller, self.backend_params())["entries"]
        except BackendError as error:
            return [], error.message
        filters = {k: self.request.GET.get(k, "") for k in UI_FILTERS}
        rows = [row for e in entries if browse.matches(row := browse.row_of(e, self.org), filters)]
        return browse.sort_rows(rows, self.request.GET.get("sort", "name")), None

    def window(self, offset: int, limit: int) -> tuple[list[dict], int, str | None]:
        """(rows, total, error) of one window of the list, filtered and sorted by the backend."""
        get = self.request.GET.get
        try:
            entries, total = self.backend.browse_environments(
                self.caller, self.backend_params(), search=get("q", "").strip(),
                tool=get("tool", ""), image=get("image", "").strip(),
                created_by=get("created_by", "").strip(), sort=get("sort", "name"),
                offset=offset, limit=limit,
            )  # fmt: skip
        except BackendError as error:
            return [], 0, error.message
        return [browse.row_of(e, self.org) for e in entries], total, None

    def page(self):
        """(page, total, error): the requested page, fetched alone when the backend can."""
        size, number = self.page_size(), self.request.GET.get("page")
        if not self.in_database():
            rows, error = self.rows()
            return Paginator(rows, size).get_page(number), len(rows), error
        # Past the last page is clamped below; bound it first so the offset fits the database.
        wanted = max(1, whole(number, 1, maximum=10**6))
        rows, total, error = self.window((wanted - 1) * size, size)
        page = Paginator(range(total), size).get_page(wanted)
        if page.number != wanted:  # past the last page: show the last one
            rows, total, error = self.window((page.number - 1) * size, size)
        page.object_list = rows
        return page, total, error

    def columns(self) -> list[str]:
        chosen = [c for c in self.preference.columns if c in browse.COLUMN_KEYS]
        return chosen or browse.DEFAULT_COLUMNS

    def page_size(self) -> int:
        requested = self.request.GET.get("per_page")
        if whole(requested) in browse.PAGE_SIZES:
            if int(requested) != self.preference.page_size:
                self.preference.page_size = int(requested)
                self.preference.save(update_fields=["page_size"])
            return int(requested)
        return self.preference.page_size

    def get(self, request):
        if request.GET.get("format") == "csv":
            return self.csv(self.rows()[0])
        page, total, error = self.page()
        actions = self.backend.allowed_actions(self.caller, [r["id"] for r in page.object_list])
        for row in page.object_list:
            row["actions"] = actions.get(row["id"], set())
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            **self.base_context(),
            "page": page,
            "rows": page.object_list,
            "total": total,
            "error": error,
            "columns": [c for c in browse.COLUMNS if c.key in self.columns()],
            "all_columns": browse.COLUMNS,
            "chosen_columns": self.columns(),
            "sort": request.GET.get("sort", "name"),
            "query": query.urlencode(),
            "query_without_sort": _without(request.GET, "sort", "page"),
            "filters": request.GET,
            "tool_types": TOOL_TYPES,
            "frameworks": DIST_FRAMEWORKS,
            "compliance_states": browse.COMPLIANCE_STATES,
            "page_sizes": browse.PAGE_SIZES,
            "page_size": self.page_size(),
            "can_create": self.backend.can_create(self.caller),
            "org": self.org,
        }
        template = f"{self.template_name}#table" if wants_partial(request) else self.template_name
        return render(request, template, context)

    def csv(self, rows):
        return csv_response("environments.csv", *browse.csv_table(rows, self.columns()))


def _without(query, *keys) -> str:
    copy = query.copy()
    for key in keys:
        copy.pop(key, None)
    return copy.urlencode()


def _back(request) -> str:
    """Where to return after a preference change: the posted page, if it is one of ours."""
    back = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return back
    return reverse("environments:list")


@login_required
@require_POST
def save_columns(request):
    preference = Preference.of(request.user)
    chosen = [c for c in request.POST.getlist("columns") if c in browse.COLUMN_KEYS]
    preference.columns = chosen or browse.DEFAULT_COLUMNS
    preference.save(update_fields=["columns"])
    back = _back(request)
    if request.htmx:
        return HttpResponseClientRedirect(back)
    return redirect(back)


@login_required
@require_POST
def save_review_as(request):
    preference = Preference.of(request.user)
    project = request.POST.get("project", "")
    kind = request.POST.get("workload_type", "")
    preference.review_project = whole(project)
    preference.review_workload_type = kind if kind in WORKLOAD_TYPES else ""
    preference.save(update_fields=["review_project", "review_workload_type"])
    back = _back(request)
    if preference.review_project and preference.review_workload_type:
        messages.success(request, "Reviewing as the chosen project and workload type.")
    else:
        messages.info(request, "Review mode is off.")
    return redirect(back)


class EnvironmentDetailView(PageView, View):
    template_name = "environments/detail.html"

    def get(self, request, asset_id):
        try:
            document = self.backend.get_environment(
                self.caller, asset_id, {"usageInfo": "true", "statusInfo": "true"}
            )
        except BackendError as error:
            return backend_error_page(request, error, "Environment not available")
        tab = "history" if request.GET.get("tab") == "history" else "overview"
        project, _ = self.review_as()
        compliance = []
        if project and tab == "overview":
            for kind in WORKLOAD_TYPES:
                params = {"complyToProject": str(project), "complyToWorkloadType": kind}
                judged = self.backend.get_environment(self.caller, asset_id, params)
                compliance.append((kind, judged.get("compliance"), judged.get("usageTimes")))
        row = browse.row_of(document, self.org)
        actions = self.backend.allowed_actions(self.caller, [asset_id]).get(asset_id, set())
        events = AuditEvent.objects.filter(asset_id=document["meta"].get("id", asset_id))
        # A tab switch through htmx swaps only the panel (the same template's partial).
        template = f"{self.template_name}#panel" if wants_partial(request) else self.template_name
        return render(
            request,
            template,
            {
                **self.base_context(),
                "document": document,
                "meta": document["meta"],
                "spec": document["spec"],
                "row": row,
                "actions": actions,
                # A copy is a creation: offered only to who may create somewhere.
                "can_copy": self.backend.can_create(self.caller),
                "compliance": compliance,
                "tab": tab,
                # The user can see the environment: its whole recorded history is theirs to read.
                "history_count": events.count(),
                "history": with_change_lines(events[:50]) if tab == "history" else [],
            },
        )


class EnvironmentDeleteView(PageView, View):
    template_name = "environments/confirm_delete.html"

    def load(self, asset_id):
        document = self.backend.get_environment(self.caller, asset_id, {"usageInfo": "true"})
        if "delete" not in self.backend.allowed_actions(self.caller, [asset_id]).get(
            asset_id, set()
        ):
            raise Http404
        return document

    def get(self, request, asset_id):
        try:
            document = self.load(asset_id)
        except BackendError as error:
            return backend_error_page(request, error, "Environment not available")
        except Http404:
            return backend_error_page(
                request, NotFound("You may not delete this environment."), "Not allowed"
            )
        return self.confirm(document)

    def confirm(self, document, changed=None, status=200):
        context = {
            **self.base_context(),
            "document": document,
            "row": browse.row_of(document, self.org),
            # What the user confirms is this version: a delete after a change is asked again.
            "version": document["meta"].get("updateCount"),
            "changed": changed,
        }
        return render(self.request, self.template_name, context, status=status)

    def post(self, request, asset_id):
        seen = whole(request.POST.get("version"))
        try:
            document = self.backend.get_environment(self.caller, asset_id, {})
            if seen is None:  # not from the confirm page: confirm what is there now
                raise PreconditionFailed("Confirm the deletion of the environment as it is now.")
            self.backend.delete_environment(self.caller, asset_id, if_match=seen)
        except PreconditionFailed as error:
            try:
                current = self.load(asset_id)
            except Http404:
                refusal = Forbidden("You may not delete this environment.")
                return backend_error_page(request, refusal, "Could not delete")
            except BackendError as failure:
                return backend_error_page(request, failure, "Could not delete")
            return self.confirm(current, changed=error.message, status=409)
        except BackendError as error:
            return backend_error_page(request, error, "Could not delete")
        messages.success(request, f"Environment '{document['meta']['name']}' was deleted.")
        if request.htmx:
            return HttpResponseClientRedirect(reverse("environments:list"))
        return redirect("environments:list")
