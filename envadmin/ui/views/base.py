"""What every page view needs: the backend, the caller, the user's preferences, errors."""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render

from envadmin.backends import get_backend
from envadmin.contract.choices import WORKLOAD_TYPES
from envadmin.contract.errors import BackendError
from envadmin.contract.usable import UnusableAnswer, usable_entries

from ..context import OrgIndex, caller_for
from ..models import Preference

logger = logging.getLogger(__name__)
# What reading a field of an answer of the wrong shape raises.
SHAPE_ERRORS = (KeyError, TypeError, AttributeError, IndexError)


class PageView(LoginRequiredMixin):
    """Mixin for the admin's pages."""

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.backend = get_backend()

    @property
    def caller(self):
        if not hasattr(self, "_caller"):
            self._caller = caller_for(self.request, self.backend)
        return self._caller

    @property
    def preference(self) -> Preference:
        if not hasattr(self, "_preference"):
            self._preference = Preference.of(self.request.user)
        return self._preference

    degraded: str = ""

    def dispatch(self, request, *args, **kwargs):
        try:
            return self.dispatch_reading_upstream(request, *args, **kwargs)
        except BackendError as error:
            if error.status == 401 and request.user.is_authenticated:
                logout(request)
                messages.error(request, f"{error.message} Please sign in again.")
                return redirect_to_login(request.get_full_path())
            if error.status >= 500:
                unusable = isinstance(error, UnusableAnswer)  # Run:ai answered, oddly
                return render(
                    request,
                    "degraded.html",
                    {**self.safe_context(), "error": error, "unusable": unusable,
                     "degraded": "" if unusable else error.message},
                    status=error.status,
                )  # fmt: skip
            # Any other refusal (a Run:ai 403 on org units, say) is a page, never a 500.
            return backend_error_page(request, error, "Not available")

    def dispatch_reading_upstream(self, request, *args, **kwargs):
        """In proxy mode, a page that trips over the shape of a Run:ai answer (lists of
        entries are screened first: this catches single documents) says so as a bad gateway
        answer naming Run:ai; in local mode the same error is envadmin's own bug."""
        if settings.ENVADMIN_BACKEND != "runai":
            return super().dispatch(request, *args, **kwargs)
        try:
            return super().dispatch(request, *args, **kwargs)
        except SHAPE_ERRORS as error:
            logger.exception("Run:ai's answer did not fit %s", request.path)
            raise UnusableAnswer(
                "Run:ai sent an answer this page could not use.",
                f"{type(error).__name__}: {error}",
            ) from error

    @property
    def org(self) -> OrgIndex:
        if not hasattr(self, "_org"):
            try:
                self._org = OrgIndex.load(self.backend, self.caller)
            except BackendError as error:
                if error.status < 500:
                    raise
                # The control plane is down: pages still render, with a banner and no names.
                self.degraded = error.message
                self._org = OrgIndex()
        return self._org

    def usable(self, answer) -> list[dict]:
        """The entries of a list answer the page can show; the rest named in the banner."""
        entries, problems = usable_entries(
            answer.get("entries") if isinstance(answer, dict) else None
        )
        self.org.problems.extend(p for p in problems if p not in self.org.problems)
        return entries

    def safe_context(self) -> dict:
        try:
            return self.base_context()
        except BackendError:
            return {}

    def review_as(self) -> tuple[int | None, str]:
        """The project and workload type the user reviews as, if both are set and still valid."""
        pref = self.preference
        if pref.review_project in self.org.projects and pref.review_workload_type in WORKLOAD_TYPES:
            return pref.review_project, pref.review_workload_type
        return None, ""

    def chosen_project(self) -> int | None:
        """The project last chosen on any page (review-as, compliance, policies), if the user
        still sees it: one choice the pages share."""
        project = self.preference.review_project
        return project if project in self.org.projects else None

    def choose_project(self, project: int) -> None:
        """Remember `project` as the shared choice; in review mode, the review follows it."""
        if self.preference.review_project != project:
            self.preference.review_project = project
            self.preference.save(update_fields=["review_project"])

    def base_context(self) -> dict:
        project, kind = self.review_as()
        chosen = self.chosen_project()
        return {
            "degraded": self.degraded,
            "upstream_problems": self.org.problems,
            "review_project": project,
            "review_project_label": self.org.project_label(project) if project else "",
            "chosen_project_label": self.org.project_label(chosen) if chosen else "",
            "review_workload_type": kind,
            "workload_types": WORKLOAD_TYPES,
            "projects": self.org.project_choices,
        }


def backend_error_page(request, error: BackendError, title="Something went wrong"):
    """A backend refusal as a page with its status (404 stays 404, 403 stays 403). The page
    says the message once, in its body: no flash message repeats it."""
    return render(
        request,
        "error.html",
        {"title": title, "error": error},
        status=error.status if 400 <= error.status < 600 else 500,
    )
