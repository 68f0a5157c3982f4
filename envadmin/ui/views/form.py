"""Create, edit and copy: one form, the backend judges, errors land next to their fields.

One submit reports every problem it can find: the form's own errors, the contract's rules on
the rest of the document, and a name already taken in the placement, all at once.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms.utils import ErrorDict
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View
from django_htmx.http import HttpResponseClientRedirect

from envadmin.backends.revision_operations import creation_document
from envadmin.contract.choices import (
    SCOPE_ID_FIELDS,
    SUPPORTED_TYPE_KEYS,
    WORKLOAD_TYPE_KEYS,
)
from envadmin.contract.environment import validate_creation, validate_update
from envadmin.contract.errors import BackendError, InvalidRequest, PreconditionFailed
from envadmin.contract.fields import NAME_MAX

from .. import stale as stale_edit
from ..asset_pickers import Credentials, usable_credentials
from ..compliance_fixes import describe, fix_for_types
from ..form_documents import (
    build_meta,
    build_spec,
    initial_from_document,
    placement_from_key,
    placement_key,
)
from ..form_errors import apply_backend_errors, error_summary
from ..forms import ConnectionFormSet, EnvironmentForm, EnvironmentVariableFormSet
from ..lifecycle import copy_sources, lifecycle_context
from ..params import whole
from ..policy_hints import (
    apply_hints,
    form_value,
    load_hints,
    placement_project,
    preview_project,
    refresh_attrs,
    ticked_types,
)
from .base import PageView, backend_error_page
from .form_preview import ApplyFixesMixin
from .pickers import row_pickers

STALE_FORM = "This form could not be verified (it may be from an old page): reload and edit again."


def name_taken_message(name: str) -> str:
    return f"An environment named '{name}' already exists here: choose another name."


def cleaned_rows(formset) -> list[dict]:
    """Each row's valid fields, also when some rows (or fields) have errors."""
    return [getattr(row, "cleaned_data", {}) for row in formset.forms]


class EnvironmentFormView(ApplyFixesMixin, PageView, View):
    """mode: create | edit | copy."""

    template_name = "environments/form.html"
    mode = "create"

    def creatable(self) -> list[dict]:
        """Where the user may create; when the control plane is down, what they had chosen,
        so a posted form still comes back filled (with the error) instead of being lost."""
        if not hasattr(self, "_creatable"):
            try:
                self._creatable = self.backend.creatable_scopes(self.caller)
            except BackendError as error:
                if error.status < 500 or self.request.method != "POST":
                    raise
                self.degraded = error.message
                chosen = self.request.POST.get("placement", "")
                self._creatable = [placement_from_key(chosen)] if chosen else []
        return self._creatable

    def placements(self, document=None) -> list[dict]:
        placements = self.creatable()
        if self.mode == "edit" and document is not None:
            key = placement_key(document["meta"])
            if key not in {p["key"] for p in placements}:
                placements = [{"key": key, "label": key, "scope": document["meta"]["scope"]}]
        return placements

    def load(self, asset_id):
        return self.backend.get_environment(self.caller, asset_id, {})

    def forms(self, data=None, document=None):
        initial, variables, connections = {}, [], []
        if document is not None:
            initial, variables, connections = initial_from_document(
                document, placement_key(document["meta"])
            )
            if self.mode == "copy":
                initial["name"] = ""
        form = EnvironmentForm(
            data, initial=initial, placements=self.placements(document),
            placement_fixed=self.mode == "edit",
        )  # fmt: skip
        picker = {
            "credentials": self.credentials(form, document),
            "refresh": {**refresh_attrs(self.request.path), "hx-trigger": "change"},
        }
        env_vars = EnvironmentVariableFormSet(
            data, initial=variables, prefix="env", form_kwargs=picker
        )
        conns = ConnectionFormSet(data, initial=connections, prefix="conn")
        self.add_policy_hints(form)
        return form, env_vars, conns

    def credentials(self, form, document) -> Credentials:
        """The credentials an env var may use where the environment goes: an edit's stored
        placement, else the one chosen (or first offered)."""
        if self.mode == "edit" and document is not None:
            placement, key = document["meta"], placement_key(document["meta"])
        else:
            key = form["placement"].value() or next(iter(form.placements), "")
            placement = form.placements.get(key)
        # The placement an added row lists credentials for (templates/environments/form.html).
        form.credentials_placement = key
        # A request may build the forms twice (a policy default filled in): one listing.
        listed = self.__dict__.setdefault("_credentials", {})
        if key not in listed:
            listed[key] = usable_credentials(self.backend, self.caller, placement)
        return listed[key]

    def add_policy_hints(self, form):
        """What the policies of the judged project ask, for the ticked types, on each field.
        The project: the placement's when it is a project, else the compliance panel's."""
        kinds = ticked_types(form)
        project = placement_project(form)
        if project is None:
            choice = self.request.POST.get("preview_project")
            project = preview_project(choice, None, self.org, self.review_as()[0])
        hints = {}
        if project is not None and kinds:
            hints = load_hints(self.backend, self.caller, self.org, project, kinds)
        apply_hints(form, hints, self.request.path)
        form.hints_project = self.org.project_label(project) if project is not None else ""
        form.hints_types = kinds
        # Choosing another placement or workload type shows what the policies ask of it.
        refresh = {**refresh_attrs(self.request.path), "hx-trigger": "change"}
        for name in ("placement", *SUPPORTED_TYPE_KEYS):
            if not form.fields[name].disabled:
                form.fields[name].widget.attrs.update(refresh)

    def context(self, form, env_vars, conns, document=None, stale=None, version=None):
        """`version`: the signed version a re-shown form keeps (the one it was opened on, so a
        failed save does not move it to whatever is current); None signs `document`."""
        if version is None:
            version = stale_edit.sign(document) if self.mode == "edit" and document else ""
        return {
            **self.base_context(),
            "error_summary": error_summary(form, env_vars, conns),
            "form": form,
            "env_vars": env_vars,
            "connections": conns,
            "document": document,
            # The version the form is based on: a save after someone else's is refused.
            "version": version,
            "stale": stale,
            "mode": self.mode,
            # The panel's project choice ("": the placement's project) survives a re-shown form.
            "preview_project": self.request.POST.get("preview_project", ""),
            **self.lifecycle(document),
        }

    def lifecycle(self, document) -> dict:
        """The source's lifecycle (edit, copy: its badge, and a copy's warning with the
        replacement to copy instead), or the create form's copy sources."""
        if document is not None:
            return lifecycle_context(self.backend, self.caller, document)
        if self.mode == "create" and self.request.method == "GET":
            return {"copy_sources": copy_sources(self.backend, self.caller, self.org)}
        return {}

    def prepare(self, request, asset_id):
        """(stored document or None, a refusal page or None) for both GET and POST."""
        document = None
        if asset_id:
            try:
                document = self.load(asset_id)
            except BackendError as error:
                return None, backend_error_page(request, error, "Environment not available")
            allowed = self.backend.allowed_actions(self.caller, [asset_id]).get(asset_id, set())
            if self.mode == "edit" and "edit" not in allowed:
                messages.error(request, "You may not edit this environment; make a copy instead.")
                return None, redirect("environments:detail", asset_id=asset_id)
        if self.mode != "edit" and not self.creatable():
            messages.error(request, "You may not create environments.")
            return None, redirect("environments:list")
        return document, None

    def get(self, request, asset_id=None):
        copy_from = request.GET.get("copy_from", "")
        if self.mode == "create" and copy_from and len(copy_from) <= 64 and "/" not in copy_from:
            # The create form's "start from a copy" picker (a GET form, no script needed).
            return redirect("environments:copy", asset_id=copy_from)
        document, refusal = self.prepare(request, asset_id)
        if refusal:
            return refusal
        if self.mode == "copy" and "compliant_for" in request.GET:
            copy = self.compliant_copy(document, request.GET["compliant_for"])
            if copy is not None:
                return copy
        form, env_vars, conns = self.forms(document=document)
        return render(request, self.template_name, self.context(form, env_vars, conns, document))

    def compliant_copy(self, document, project_choice):
        """The copy form filled with `document` placed in the project and fixed to comply with
        the project's policies for every type it serves; None (a plain copy) when that project
        is not one the user may create in, or the fix cannot be had."""
        project = whole(project_choice)
        key = f"project:{project}"
        if project not in self.org.projects or key not in {p["key"] for p in self.creatable()}:
            messages.error(self.request, "You may not create environments in that project.")
            return None
        placed = creation_document(document)
        meta = {k: v for k, v in placed["meta"].items() if k not in SCOPE_ID_FIELDS.values()}
        placed["meta"] = {**meta, "scope": "project", "projectId": project}
        supported = meta.get("workloadSupportedTypes") or {}
        kinds = [label for label, kind in WORKLOAD_TYPE_KEYS.items() if supported.get(kind)]
        try:
            fixes = fix_for_types(self.backend, self.caller, placed, project, kinds)
        except BackendError as error:
            messages.error(self.request, f"No compliant copy could be prepared: {error.message}")
            return None
        fixed = {"meta": {**fixes.document["meta"], "id": document["meta"]["id"]},
                 "spec": fixes.document["spec"]}  # fmt: skip
        form, env_vars, conns = self.forms(document=fixed)
        name = f"{document['meta']['name']}-{self.org.projects[project]['name']}"
        form.initial["name"] = name[:NAME_MAX]
        context = self.context(form, env_vars, conns, document)
        context["applied_fixes"] = [describe(change, form) for change in fixes.changes]
        context["fixes_unfixable"] = fixes.unfixable
        context["fixes_project"] = self.org.project_label(project)
        return render(self.request, self.template_name, context)

    def post(self, request, asset_id=None):
        document, refusal = self.prepare(request, asset_id)
        if refusal:
            return refusal
        # A change of placement, workload type or panel project (policy_hints.refresh_attrs),
        # or a "Use policy default" button: the form again, with fresh hints, saving nothing.
        if "refresh_hints" in request.POST or "policy_default" in request.POST:
            return self.redisplay(document)
        if "apply_fixes" in request.POST:
            return self.apply_fixes(document)
        form, env_vars, conns = self.forms(request.POST, document)
        version, posted_version = None, None
        if self.mode == "edit":
            # Before anything else: a form on an old version is refused whatever else is wrong
            # with it, so no path (an error, then a second save) can carry it past the check.
            posted_version = request.POST.get("version", "")
            version = stale_edit.opened_version(posted_version, asset_id)
            if version is not None and version["n"] != document["meta"].get("updateCount"):
                return self.refuse_stale(version, document)
        valid = form.is_valid() & env_vars.is_valid() & conns.is_valid()
        if self.mode == "edit" and version is None:
            # Unverifiable (forged, or from an old page): the form keeps no version, so saving
            # it again is refused again; the user reloads and sees what is current.
            form.add_error(None, STALE_FORM)
            valid, posted_version = False, ""
        data = getattr(form, "cleaned_data", {})
        spec = build_spec(data, cleaned_rows(env_vars), cleaned_rows(conns))
        # An edit sends only the editable meta; create and copy also the placement chosen.
        placement = None if self.mode == "edit" else form.placements.get(data.get("placement"))
        meta = build_meta(data, placement)
        if valid:
            try:
                saved = self.save(meta, spec, asset_id, version)
            except PreconditionFailed as error:  # saved by someone else since we read it
                return self.refuse_stale(version, error.current or self.load(asset_id))
            except InvalidRequest as error:
                errors = error.field_errors or {"body": [error.message]}
                apply_backend_errors(errors, form, env_vars, conns)
            except BackendError as error:
                if error.status == 409:
                    form.add_error("name", name_taken_message(meta["name"]))
                else:
                    form.add_error(None, error.message)
            else:
                verb = {"create": "created", "copy": "created", "edit": "saved"}[self.mode]
                messages.success(request, f"Environment '{saved['meta']['name']}' was {verb}.")
                url = reverse("environments:detail", args=[saved["meta"]["id"]])
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        else:
            # Not sent to be saved, but the contract's rules still judge what the form could
            # read, so the user sees every problem now rather than one submit at a time.
            apply_backend_errors(self.contract_errors(meta, spec, document), form, env_vars, conns)
        self.check_name(form, meta, document, asset_id)
        # htmx 2 does not swap 4xx answers: the form comes back with 200 and its errors.
        context = self.context(form, env_vars, conns, document, version=posted_version)
        return render(request, self.template_name, context)

    def redisplay(self, document, data=None, extra=None):
        """The form as posted, with the hints of its placement and types, and a policy default
        filled in if one was asked for: nothing saved, no message shown (nothing was judged)."""
        data = self.request.POST.copy() if data is None else data
        form, env_vars, conns = self.forms(data, document)
        name = data.get("policy_default")
        hint = form.policy_hints.get(name)
        if hint and hint.default and name not in form.policy_locks:
            value = form_value(hint.default.value, form.fields[name])
            data.setlist(name, value if isinstance(value, list) else [value])
            form, env_vars, conns = self.forms(data, document)
        for each in (form, *env_vars.forms, *conns.forms):
            each._errors = ErrorDict()
        for formset in (env_vars, conns):
            formset._errors, formset._non_form_errors = [], formset.error_class()
        version = self.request.POST.get("version", "")
        context = self.context(form, env_vars, conns, document, version=version)
        return render(self.request, self.template_name, {**context, **(extra or {})})

    def refuse_stale(self, version: dict, current: dict):
        """Nothing saved: the current version with the user's changes on top, and theirs listed."""
        key = placement_key(current["meta"])
        placements = self.placements(current)
        stale = stale_edit.reapply(self.request.POST, version, current, key, placements)
        form = EnvironmentForm(initial=stale.initial, placements=placements, placement_fixed=True)
        picker = {"credentials": self.credentials(form, current)}
        env_vars = EnvironmentVariableFormSet(
            initial=stale.variables, prefix="env", form_kwargs=picker
        )
        conns = ConnectionFormSet(initial=stale.connections, prefix="conn")
        context = self.context(form, env_vars, conns, current, stale=stale)
        # 409 tells a script the save was refused; htmx 2 swaps only 2xx answers.
        status = 200 if self.request.htmx else 409
        return render(self.request, self.template_name, context, status=status)

    def save(self, meta, spec, asset_id, version=None):
        document = {"meta": meta, "spec": spec}
        if self.mode == "edit":
            return self.backend.update_environment(
                self.caller, asset_id, document, if_match=version["n"] if version else None
            )
        return self.backend.create_environment(self.caller, document)

    def contract_errors(self, meta, spec, stored) -> dict:
        """The contract's complaints about a document, as {path: [messages]}."""
        try:
            if self.mode == "edit":
                validate_update({"meta": meta, "spec": spec}, stored["meta"])
            else:
                validate_creation({"meta": meta, "spec": spec})
        except InvalidRequest as error:
            return error.field_errors or {"body": [error.message]}
        return {}

    def check_name(self, form, meta, stored, asset_id) -> None:
        """After a failed submit: a name taken where the environment goes is one more error,
        found now instead of once everything else is fixed."""
        name = meta.get("name")
        if not name or form.has_error("name"):
            return
        placement = stored["meta"] if self.mode == "edit" else meta
        if "scope" not in placement:
            return  # no placement chosen: that is the error to fix first
        try:
            taken = self.backend.environment_name_taken(
                self.caller, {**placement, "name": name}, exclude_id=asset_id
            )
        except BackendError:
            return  # the save will tell
        if taken:
            form.add_error("name", name_taken_message(name))


@login_required
def empty_row(request, kind):
    """A blank env var or connection row for the form (HTMX 'add' without a page reload)."""
    formsets = {"env": EnvironmentVariableFormSet, "conn": ConnectionFormSet}
    if kind not in formsets:
        raise Http404
    formset = formsets[kind](prefix=kind)
    index = request.GET.get("index", "0")
    if whole(index, maximum=1000) is None:
        return HttpResponse(status=400)
    extra = row_pickers(request) if kind == "env" else {}
    # As the formset builds its own extra forms: blank rows may stay empty.
    form = formset.form(
        prefix=formset.add_prefix(int(index)), empty_permitted=True, use_required_attribute=False,
        **extra,
    )  # fmt: skip
    return render(request, "environments/_formset_row.html", {"row": form})
