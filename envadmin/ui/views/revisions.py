"""Versions of an environment in the web admin: compare two, restore one (after a confirm that
shows what would change), and the recently deleted environments with "Bring back"."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from envadmin.audit.models import Origin
from envadmin.audit.presentation import with_change_lines
from envadmin.backends.revision_operations import DELETED_FILTERS
from envadmin.contract import diff
from envadmin.contract.errors import BackendError, Forbidden, NotFound, PreconditionFailed

from ..params import whole
from .base import PageView, backend_error_page

ORIGIN_LABELS = dict(Origin.choices)


def history_rows(revisions) -> list:
    """Revisions as the History tab lists them: with change lines and a readable origin."""
    rows = with_change_lines(revisions)
    for revision in rows:
        revision.origin_label = ORIGIN_LABELS.get(revision.origin, revision.origin or "unknown")
    return rows


class RevisionCompareView(PageView, View):
    """Two revisions side by side; by default the newest and the one before it."""

    template_name = "environments/compare.html"

    def get(self, request, asset_id):
        try:
            listed = list(
                self.backend.revisions(self.caller, asset_id).values_list("revision", "action")
            )
            if not listed:
                raise NotFound("This environment has no revisions.")
            numbers = [number for number, _ in listed]
            before = self.backend.revision(
                self.caller, asset_id, request.GET.get("from") or numbers[min(1, len(numbers) - 1)]
            )
            after = self.backend.revision(
                self.caller, asset_id, request.GET.get("to") or numbers[0]
            )
        except BackendError as error:
            return backend_error_page(request, error, "Revisions not available")
        return render(
            request,
            self.template_name,
            {
                **self.base_context(),
                "asset_id": asset_id,
                "name": after.asset_name or before.asset_name,
                "before": before,
                "after": after,
                "numbers": numbers,
                "rows": diff.side_by_side(before.document, after.document),
                "left_label": f"Revision {before.revision}",
                "right_label": f"Revision {after.revision}",
                "deleted": listed[0][1] == "delete",
            },
        )


class RevisionRestoreView(PageView, View):
    template_name = "environments/confirm_restore.html"

    def load(self, asset_id, number):
        current = self.backend.get_environment(self.caller, asset_id, {})
        if "edit" not in self.backend.allowed_actions(self.caller, [asset_id]).get(asset_id, set()):
            raise Forbidden("You may not change this environment.")
        return current, self.backend.revision(self.caller, asset_id, number)

    def confirm(self, current, revision, problem=None, status=200):
        context = {
            **self.base_context(),
            "meta": current["meta"],
            "revision": revision,
            # What the user confirms is going from this version: a change meanwhile asks again.
            "version": current["meta"].get("updateCount"),
            "rows": diff.side_by_side(current, revision.document),
            "left_label": "Now",
            "right_label": f"Revision {revision.revision}",
            "problem": problem,
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, asset_id, number):
        try:
            current, revision = self.load(asset_id, number)
        except BackendError as error:
            return backend_error_page(request, error, "Cannot restore")
        return self.confirm(current, revision)

    def post(self, request, asset_id, number):
        seen = whole(request.POST.get("version"))
        try:
            current, revision = self.load(asset_id, number)
            if seen is None:
                raise PreconditionFailed("Confirm the restore of the environment as it is now.")
            self.backend.restore_environment(self.caller, asset_id, number, if_match=seen)
        except PreconditionFailed as error:
            return self._again(asset_id, number, error.message)
        except BackendError as error:
            if error.status == 409:  # the old name is taken now: say so on the same page
                return self._again(asset_id, number, f"{error.message} {error.details or ''}")
            return backend_error_page(request, error, "Could not restore")
        messages.success(
            request,
            f"Environment '{revision.asset_name}' was restored to revision {revision.revision}.",
        )
        return redirect(reverse("environments:detail", args=[asset_id]) + "?tab=history")

    def _again(self, asset_id, number, problem):
        try:
            current, revision = self.load(asset_id, number)
        except BackendError as failure:
            return backend_error_page(self.request, failure, "Could not restore")
        return self.confirm(current, revision, problem=problem, status=409)


class DeletedEnvironmentsView(PageView, View):
    template_name = "environments/deleted.html"

    def get(self, request):
        params = {k: v for k, v in request.GET.items() if k in DELETED_FILTERS and v}
        entries = self.backend.deleted_environments(self.caller, params)
        return render(
            request,
            self.template_name,
            {**self.base_context(), "entries": entries, "name": params.get("name", "")},
        )

    def post(self, request, asset_id):
        try:
            created = self.backend.undelete_environment(self.caller, asset_id)
        except BackendError as error:
            messages.error(request, f"Not brought back: {error.message} {error.details or ''}")
            return redirect("environments:deleted")
        name = created["meta"]["name"]
        messages.success(request, f"Environment '{name}' was brought back.")
        return redirect("environments:detail", created["meta"]["id"])
