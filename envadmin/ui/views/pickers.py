"""The form's pickers: an added env var row's credentials, and the image picker's steps
(registry, then repository, then tag), each an htmx partial of the image field's panel."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views import View

from envadmin.backends import get_backend
from envadmin.contract.errors import BackendError, NotFound

from ..asset_pickers import (
    MAX_ID,
    MAX_REPOSITORY,
    MAX_SEARCH,
    bounded,
    image_reference,
    usable_credentials,
)
from ..context import caller_for
from ..form_documents import placement_from_key
from ..policy_hints import refresh_attrs
from .base import PageView


def row_pickers(request) -> dict:
    """An added env var row's credential choices: those of the placement the page names
    (`placement`), and the refresh that re-renders the page's form (`form`, its path)."""
    key, _ = bounded(request.GET.get("placement"), MAX_ID * 2)
    form_url, _ = bounded(request.GET.get("form"), 300)
    backend = get_backend()
    placement = placement_from_key(key) if key else None
    picker = {"credentials": usable_credentials(backend, caller_for(request, backend), placement)}
    if form_url.startswith("/environments/"):
        picker["refresh"] = {**refresh_attrs(form_url), "hx-trigger": "change"}
    return picker


class ImagePickerView(PageView, View):
    """GET registry, repository, repository_search, tag_search: the picker as far as chosen.
    Every problem (a bound exceeded, a registry gone, Run:ai refusing) is said in the panel."""

    template_name = "environments/_image_picker.html"

    def get(self, request):
        errors = {}
        registry_id, errors["registry"] = bounded(request.GET.get("registry"), MAX_ID)
        repository, errors["repository"] = bounded(request.GET.get("repository"), MAX_REPOSITORY)
        repo_search, errors["repository_search"] = bounded(
            request.GET.get("repository_search"), MAX_SEARCH
        )
        tag_search, errors["tag_search"] = bounded(request.GET.get("tag_search"), MAX_SEARCH)
        context = {
            "registry_id": registry_id, "repository": repository,
            "repository_search": repo_search, "tag_search": tag_search,
        }  # fmt: skip
        try:
            context["registries"] = (
                self.backend.list_registries(self.caller, {}).get("entries") or []
            )
            if registry_id:
                context.update(self.registry_step(registry_id, repository, repo_search, tag_search))
        except NotFound as error:
            errors["registry"] = error.message
        except BackendError as error:
            if error.status == 401:
                raise  # signed out by Run:ai: the page view asks to sign in again
            context["failure"] = error.message
        context["errors"] = {name: text for name, text in errors.items() if text}
        # A parameter whose control is not shown (no registry or repository chosen yet).
        shown = {"registry"}
        if "registry" in context:
            shown |= {"repository", "repository_search"}
        if "tags" in context:
            shown.add("tag_search")
        context["stray_errors"] = [t for n, t in context["errors"].items() if n not in shown]
        # Only wanted as a partial: without htmx the image stays a free text field.
        return render(request, self.template_name, context)

    def registry_step(self, registry_id, repository, repo_search, tag_search) -> dict:
        registry = self.backend.get_registry(self.caller, registry_id)
        step = {"registry": registry}
        step["repositories"] = (
            self.backend.list_repositories(self.caller, registry_id, repo_search or None).get(
                "repositories"
            )
            or []
        )
        if repository:
            try:
                tags = (
                    self.backend.list_tags(
                        self.caller, registry_id, repository, tag_search or None
                    ).get("tags")
                    or []
                )
            except NotFound as error:
                step["repository_error"] = error.message
            else:
                url = (registry.get("spec") or {}).get("url", "")
                step["tags"] = [(tag, image_reference(url, repository, tag)) for tag in tags]
        return step


image_picker = login_required(ImagePickerView.as_view())
