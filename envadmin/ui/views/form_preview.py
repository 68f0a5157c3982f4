"""The form's draft compliance: the panel judged while the user types, and the fixes it offers
applied to the form (nothing saved)."""

import json

from django.shortcuts import render
from django.views import View

from envadmin.contract.choices import SCOPE_ID_FIELDS, WORKLOAD_TYPE_KEYS
from envadmin.contract.errors import BackendError, InvalidRequest

from ..compliance_fixes import apply_to_data, describe, fix_for_types
from ..form_documents import build_meta, build_spec
from ..form_errors import apply_backend_errors, error_summary
from ..forms import ConnectionFormSet, EnvironmentForm, EnvironmentVariableFormSet
from ..params import whole
from ..policy_hints import preview_project, reason_target
from .base import PageView


class ApplyFixesMixin:
    """For the environment form view: its "apply fixes" submit."""

    def apply_fixes(self, document):
        """The form as posted with the fixes of the draft compliance panel made, field by field
        (everything else as typed), and a notice of each change; nothing saved."""
        data = self.request.POST.copy()
        form, env_vars, conns = self.forms(data, document)
        applied, unfixable, project = [], [], None
        try:
            draft, kinds, project = posted_draft(self, form, env_vars, conns)
            if project is not None and kinds:
                fixes = fix_for_types(self.backend, self.caller, draft, project, kinds)
                applied = [describe(change, form) for change in fixes.changes]
                unfixable = fixes.unfixable
                data = apply_to_data(data, fixes.changes)
        except BackendError as error:
            unfixable = [error.message]
        extra = {
            "applied_fixes": applied,
            "fixes_unfixable": unfixable,
            "fixes_project": self.org.project_label(project) if project is not None else "",
        }
        response = self.redisplay(document, data, extra)
        # The panel judges the form again once the fixed fields are in place; the event goes to
        # the form itself, as the button that asked may have been swapped out meanwhile.
        response["HX-Trigger-After-Settle"] = json.dumps({"fixes-applied": {"target": "#env-form"}})
        return response


def posted_draft(view, form, env_vars, conns) -> tuple[dict, list[str], int | None]:
    """({meta, spec}, workload types, project) the draft compliance panel judges for a posted
    environment form (editing: placement and types come from the stored asset, as they are
    fixed). Raises BackendError when the stored asset cannot be read."""
    request = view.request
    form.is_valid(), env_vars.is_valid(), conns.is_valid()
    data = getattr(form, "cleaned_data", {})
    spec = build_spec(
        data,
        [getattr(x, "cleaned_data", {}) for x in env_vars.forms] if env_vars.is_bound else [],
        [getattr(x, "cleaned_data", {}) for x in conns.forms] if conns.is_bound else [],
    )
    placement = form.placements.get(request.POST.get("placement"))
    meta = build_meta({**data, "name": data.get("name") or "draft"}, placement)
    if request.POST.get("asset_id"):
        stored = view.backend.get_environment(view.caller, request.POST["asset_id"], {})
        fixed = ("scope", *SCOPE_ID_FIELDS.values(), "workloadSupportedTypes")
        meta.update({k: v for k, v in stored["meta"].items() if k in fixed})
    supported = meta.get("workloadSupportedTypes") or {}
    kinds = [label for label, key in WORKLOAD_TYPE_KEYS.items() if supported.get(key)]
    own = whole(meta.get("projectId")) if meta.get("scope") == "project" else None
    choice = request.POST.get("preview_project")
    project = preview_project(choice, own, view.org, view.review_as()[0])
    return {"meta": meta, "spec": spec}, kinds, project


class CompliancePreviewView(PageView, View):
    """The draft's compliance while the user types (the form posts here through HTMX), for
    every workload type it serves, each reason linked to its field; when it does not comply,
    the fixes that would make it, with a button to apply them to the form."""

    template_name = "environments/_preview.html"

    def post(self, request):
        form = EnvironmentForm(request.POST, placements=self.backend.creatable_scopes(self.caller))
        env_vars = EnvironmentVariableFormSet(request.POST, prefix="env")
        conns = ConnectionFormSet(request.POST, prefix="conn")
        context = {"blocks": [], "problems": []}
        try:
            draft, kinds, project = posted_draft(self, form, env_vars, conns)
        except BackendError as error:
            context["problems"] = [{"text": error.message, "href": None}]
            return render(request, self.template_name, context)
        if project is None:
            context["hint"] = "Choose a project to see the draft's compliance."
            return render(request, self.template_name, context)
        context["project_label"] = self.org.project_label(project)
        if not kinds:
            context["hint"] = "Tick a workload type to see the draft's compliance."
            return render(request, self.template_name, context)
        for kind in kinds:
            body = {"environment": draft, "projectId": project, "workloadType": kind}
            try:
                compliance = self.backend.preview_compliance(self.caller, body)["compliance"]
            except InvalidRequest as error:  # the draft itself: the same for every type
                # Said as the form's error summary says it: labels, links to the fields.
                errors = error.field_errors or {"body": [error.message]}
                apply_backend_errors(errors, form, env_vars, conns)
                context["problems"] = error_summary(form, env_vars, conns)
                break
            except BackendError as error:
                context["problems"] = [{"text": error.message, "href": None}]
                break
            reasons = [self.reason(form, reason) for reason in compliance.get("reason") or []]
            context["blocks"].append({"kind": kind, "compliance": compliance, "reasons": reasons})
        if not context["problems"] and not all(
            b["compliance"]["compliance"] for b in context["blocks"]
        ):
            context.update(self.offered_fixes(form, draft, project, kinds))
        return render(request, self.template_name, context)

    def offered_fixes(self, form, draft, project, kinds) -> dict:
        """The fixes the panel offers, and where the form posts to apply them: the page the
        panel is on (an edit, a copy or a new environment)."""
        url = self.request.htmx.current_url_abs_path if self.request.htmx else None
        if not url or not url.startswith("/environments/"):
            return {}
        try:
            fixes = fix_for_types(self.backend, self.caller, draft, project, kinds)
        except BackendError:
            return {}  # the panel already says what is wrong; no offer then
        if not fixes.changes:
            return {}
        return {
            "fixes": [describe(change, form) for change in fixes.changes],
            "fix_url": url,
            "fix_unfixable": fixes.unfixable,
        }

    @staticmethod
    def reason(form, reason: dict) -> dict:
        """A reason named by the form's label for its field, linked to it."""
        path, details = reason.get("field"), reason["details"]
        target = reason_target(form, path)
        if target is None:
            return {"details": details}
        label, anchor = target
        short = path.split(".", 1)[1] if path.startswith(("master.", "worker.")) else path
        if details.startswith(short + " "):
            details = label + details[len(short) :]
        return {"details": details, "label": label, "anchor": anchor, "field": path}
