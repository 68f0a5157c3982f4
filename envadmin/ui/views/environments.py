"""Environments: the list (with its HTMX partial and CSV), detail, delete."""

from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from envadmin.audit.models import Revision
from envadmin.backends.bulk import MAX_ITEMS
from envadmin.backends.environment_rows import row_of
from envadmin.compliance.states import compliance_state
from envadmin.contract.choices import CSV_ROW_LIMIT, WORKLOAD_TYPES
from envadmin.contract.errors import BackendError, Forbidden, NotFound, PreconditionFailed
from envadmin.lifecycle.service import lifecycle_of

from .. import browse
from ..asset_pickers import usable_credentials
from ..compliance_fixes import may_create_in
from ..export import csv_response
from ..filters import EnvironmentListFilterSet
from ..lifecycle import STATE_CHOICES, lifecycle_context, replacement_choices
from ..models import Preference
from ..org_nodes import project_by_text
from ..params import whole
from .base import PageView, backend_error_page
from .gitops import yaml_response
from .revisions import history_rows

BULK_ACTIONS = [
    ("set-image", "Set image"),
    ("deprecate", "Deprecate"),
    ("archive", "Archive"),
    ("activate", "Make active"),
    ("delete", "Delete"),
]


def with_lifecycle(rows: list[dict]) -> list[dict]:
    """Rows with their lifecycle ({state, message, replacement}): the badge and the column."""
    states = lifecycle_of([row["id"] for row in rows])
    for row in rows:
        row["lifecycle"] = states[row["id"]]
    return rows


def wants_partial(request) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


@method_decorator(vary_on_headers("HX-Request"), name="dispatch")
class EnvironmentListView(PageView, View):
    template_name = "environments/list.html"

    @cached_property
    def query(self):
        """The list's filters and sort: the page's own query string (a bulk action posts it)."""
        return self.request.GET

    @cached_property
    def filterset(self) -> EnvironmentListFilterSet:
        return EnvironmentListFilterSet(self.query, org=self.org)

    def backend_params(self) -> dict:
        params = self.filterset.backend_params()
        params["usageInfo"] = "true"
        if "status" in self.columns():
            params["statusInfo"] = "true"  # asked only when shown: Run:ai works it out per row
        project, kind = self.review_as()
        if project:
            params["complyToProject"] = str(project)
            params["complyToWorkloadType"] = kind
            # "Review as" shows what the project can see, unless placement is filtered.
            if not {"projectId", "departmentId", "clusterId", "scope"} & params.keys():
                params["projectId"] = str(project)
        return params

    def window(self, offset: int, limit: int) -> tuple[list[dict], int, str | None]:
        """(rows, total, error) of one window of the list, filtered and sorted by the backend."""
        try:
            entries, total = self.backend.browse_environments(
                self.caller, self.backend_params(), names=self.org,
                filters=self.filterset.row_filters(), sort=self.query.get("sort", "name"),
                offset=offset, limit=limit, problems=self.org.problems,
            )  # fmt: skip
        except BackendError as error:
            return [], 0, error.message
        kind = self.review_as()[1] or None
        rows = [row_of(e, self.org, kind) for e in entries]
        return with_lifecycle(rows), total, None

    def page(self):
        """(page, total, error): the requested page; past the last one, the last one."""
        size = self.page_size()
        # Bounded first so that the offset fits the database.
        wanted = max(1, whole(self.request.GET.get("page"), 1, maximum=10**6))
        rows, total, error = self.window((wanted - 1) * size, size)
        page = Paginator(range(total), size).get_page(wanted)
        if page.number != wanted:
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
            return self.csv(self.window(0, CSV_ROW_LIMIT)[0])
        if request.GET.get("format") == "yaml":
            return self.yaml()
        page, total, error = self.page()
        actions = self.backend.allowed_actions(self.caller, [r["id"] for r in page.object_list])
        for row in page.object_list:
            row["actions"] = actions.get(row["id"], set())
        # Bulk actions are offered to who may change a row of the page; each item is still
        # judged on its own when applied.
        selectable = any(row["actions"] for row in page.object_list)
        partial = wants_partial(request)
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
            "form": self.filterset.form,
            # Compliance is known when reviewing as a project; a filter set without it shows too.
            "compliance_filter": bool(self.review_as()[0] or request.GET.get("compliance")),
            "page_sizes": browse.PAGE_SIZES,
            "page_size": self.page_size(),
            "can_create": self.backend.can_create(self.caller),
            "partial": partial,
            "selectable": selectable,
            "bulk_actions": BULK_ACTIONS,
            "bulk_limit": MAX_ITEMS,
        }
        template = f"{self.template_name}#table" if partial else self.template_name
        return render(request, template, context)

    def yaml(self):
        """The filtered list as an environments file (built-ins left out, as `envadmin export`)."""
        entries, _ = self.backend.browse_environments(
            self.caller, self.backend_params(), names=self.org,
            filters=self.filterset.row_filters(), offset=0, limit=CSV_ROW_LIMIT,
        )  # fmt: skip
        return yaml_response(self.backend, self.caller, entries)

    def csv(self, rows):
        reviewing = bool(self.review_as()[0])
        return csv_response(
            "environments.csv", *browse.csv_table(rows, self.columns(), reasons=reviewing)
        )


def _back(request) -> str:
    """Where to return after a preference change: the posted page, if it is one of ours."""
    back = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return back
    return reverse("environments:list")


def returning(back: str) -> dict:
    """The context of a page that returns to the list `back`: `back` itself, and the query
    that passes it on to the next page ("" for the plain list)."""
    plain = back == reverse("environments:list")
    return {"back": back, "back_query": "" if plain else "?" + urlencode({"next": back})}


def list_to_return_to(request, value: str | None) -> str:
    """`value` if it is this site's environments list (with its filters), else the plain list:
    a page a delete returns to must exist after it."""
    home = reverse("environments:list")
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        if urlsplit(value).path == home:
            return value
    return home


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


class ReviewAsView(PageView, View):
    """The header's review-as form: the shared project choice, and review mode with a type."""

    def post(self, request):
        text = request.POST.get("project", "").strip()
        kind = request.POST.get("workload_type", "")
        project = project_by_text(self.org, text) if text else None
        if text and project is None:
            messages.error(request, f"No project is called {text}: pick one from the list.")
            return redirect(_back(request))
        preference = self.preference
        preference.review_project = project
        preference.review_workload_type = kind if project and kind in WORKLOAD_TYPES else ""
        preference.save(update_fields=["review_project", "review_workload_type"])
        # Review mode on: the page's review banner says so, a message would say it twice.
        if not preference.review_workload_type:
            messages.info(request, "Review mode is off.")
        return redirect(_back(request))


save_review_as = ReviewAsView.as_view()


def credential_labels(backend, caller, document) -> dict[str, str]:
    """{asset id: "name (kind)"} of the credentials the env vars name, as far as the caller may
    see them; one list, read only when an env var names a credential. A credential out of
    sight, or a list that fails, leaves the page showing the asset id."""
    variables = (document.get("spec") or {}).get("environmentVariables") or []
    if not any(isinstance(v, dict) and v.get("credential") for v in variables):
        return {}
    found = usable_credentials(backend, caller, None)
    return {choice.id: choice.label for choice in found.choices}


class EnvironmentDetailView(PageView, View):
    template_name = "environments/detail.html"

    def get(self, request, asset_id):
        return self.detail(request, asset_id)

    def detail(self, request, asset_id, lifecycle_form=None, status=200):
        """The page; `lifecycle_form` ({values, errors, message}): a refused state change,
        shown again with its messages next to its fields."""
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
                found = judged.get("compliance")
                state = compliance_state(found, judged["meta"], kind)
                compliance.append((kind, found, state, judged.get("usageTimes")))
        row = row_of(document, self.org)
        actions = self.backend.allowed_actions(self.caller, [asset_id]).get(asset_id, set())
        can_copy = self.backend.can_create(self.caller)
        # A copy placed in the reviewed project and fixed to comply with its policies.
        copy_for = (
            project
            if can_copy
            and any(state == "not-compliant" for _, _, state, _ in compliance)
            and may_create_in(self.backend, self.caller, project)
            else None
        )
        revisions = Revision.objects.filter(asset_id=document["meta"].get("id", asset_id))
        # A tab switch through htmx swaps only the panel (the same template's partial).
        template = f"{self.template_name}#panel" if wants_partial(request) else self.template_name
        lifecycle = lifecycle_context(self.backend, self.caller, document)
        if "edit" in actions and tab == "overview":
            lifecycle["state_choices"] = STATE_CHOICES
            lifecycle["replacement_choices"] = replacement_choices(
                self.backend, self.caller, self.org, document["meta"]["id"]
            )
            current = lifecycle["lifecycle"]
            lifecycle["lifecycle_form"] = lifecycle_form or {"values": current, "errors": {}}
        return render(
            request,
            template,
            {
                **self.base_context(),
                **lifecycle,
                "document": document,
                "meta": document["meta"],
                "spec": document["spec"],
                "row": row,
                "actions": actions,
                # A copy is a creation: offered only to who may create somewhere.
                "can_copy": can_copy,
                "compliant_copy_for": copy_for,
                "compliance": compliance,
                **returning(list_to_return_to(request, request.GET.get("next"))),
                "tab": tab,
                # The user can see the environment: every kept version is theirs to read.
                "history_count": revisions.count(),
                "credential_labels": credential_labels(self.backend, self.caller, document)
                if tab == "overview"
                else {},
                "history": history_rows(revisions.order_by("-revision").defer("document")[:50])
                if tab == "history"
                else [],
            },
            status=status,
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
            "row": row_of(document, self.org),
            # What the user confirms is this version: a delete after a change is asked again.
            "version": document["meta"].get("updateCount"),
            "changed": changed,
            **returning(self.back()),
        }
        return render(self.request, self.template_name, context, status=status)

    def back(self) -> str:
        """The filtered list this page was opened from, to return to after the delete."""
        query = self.request.POST if self.request.method == "POST" else self.request.GET
        return list_to_return_to(self.request, query.get("next"))

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
            return HttpResponseClientRedirect(self.back())
        return redirect(self.back())
