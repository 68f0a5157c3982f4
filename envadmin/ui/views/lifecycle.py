"""The detail page's state form (deprecate, archive, activate) and the Cleanup page (the
hygiene report)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views import View

from envadmin.contract.errors import BackendError, InvalidRequest
from envadmin.lifecycle.hygiene import UNUSED_DAYS_RANGE, hygiene_report, unused_days
from envadmin.lifecycle.service import change_lifecycle

from .base import PageView
from .environments import BULK_ACTIONS, EnvironmentDetailView


class LifecycleChangeView(EnvironmentDetailView):
    """POST of the state form; a refusal shows the detail page again with the message next to
    its field (or above the form, for a conflict or a missing right)."""

    http_method_names = ["post"]

    def post(self, request, asset_id):
        values = {
            "state": request.POST.get("state", ""),
            "message": request.POST.get("message", ""),
            "replacement": request.POST.get("replacement", "") or None,
        }
        try:
            answer = change_lifecycle(self.backend, self.caller, asset_id, values)
        except InvalidRequest as error:
            errors = error.field_errors or {"form": [error.message]}
            form = {"values": values, "errors": errors}
            return self.detail(request, asset_id, lifecycle_form=form, status=400)
        except BackendError as error:
            if error.status in (404, 503) or error.status >= 500:
                raise
            form = {"values": values, "errors": {"form": [error.message]}}
            return self.detail(request, asset_id, lifecycle_form=form, status=error.status)
        messages.success(request, f"Lifecycle set to {answer['state']}.")
        return redirect("environments:detail", asset_id=asset_id)


class CleanupView(PageView, View):
    """The hygiene report as a page: four sections, each entry linking to its environment."""

    template_name = "environments/cleanup.html"

    def get(self, request):
        raw = request.GET.get("unusedDays", "")
        error = None
        try:
            days = unused_days(raw)
        except InvalidRequest as refused:
            error = refused.field_errors["unusedDays"][0]
            days = unused_days(None)
        report = hygiene_report(self.backend, self.caller, self.org, unused_days=days)
        context = {
            **self.base_context(),
            "report": report,
            "unused_days": raw if error else days,
            "days_error": error,
            "days_range": UNUSED_DAYS_RANGE,
            # Ticked entries go to the list's bulk preview, which checks each one's rights.
            "bulk_actions": BULK_ACTIONS,
            "selectable": self.backend.can_create(self.caller),
        }
        return render(request, self.template_name, context, status=400 if error else 200)
