"""The activity page: every recorded change the user may see, filterable, paged, as CSV."""

from django.core.paginator import Paginator
from django.db.models import Max
from django.shortcuts import render
from django.views import View

from envadmin.audit.filters import AuditEventFilterSet
from envadmin.audit.models import Action, Origin
from envadmin.audit.presentation import CSV_HEADER, csv_rows, deleted_among, with_change_lines
from envadmin.contract.choices import CSV_ROW_LIMIT, SCOPE_ID_FIELDS

from ..export import csv_response
from .base import PageView

PAGE_SIZE = 50


class ActivityView(PageView, View):
    template_name = "activity/page.html"

    def get(self, request):
        visible = self.backend.visible_audit_events(
            self.caller, local_superuser=request.user.is_superuser
        )
        filterset = AuditEventFilterSet(request.GET, visible)
        events = filterset.qs if filterset.is_valid() else visible.none()
        if request.GET.get("format") == "csv":
            return csv_response("activity.csv", CSV_HEADER, csv_rows(events[:CSV_ROW_LIMIT]))
        page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = with_change_lines(page.object_list)
        query = request.GET.copy()
        query.pop("page", None)
        query.pop("format", None)
        return render(
            request,
            self.template_name,
            {
                **self.base_context(),
                "page": page,
                "events": rows,
                "deleted": deleted_among(event.asset_id for event in rows),
                "filters": request.GET,
                "errors": filterset.errors,
                "query": query.urlencode(),
                "scope_choices": scope_choices(visible),
                "actors": visible.order_by("actor")
                .values_list("actor", flat=True)
                .distinct()[:200],
                # `observed` names revisions only: no event is ever recorded with it.
                "actions": [a for a in Action.values if a != Action.OBSERVED],
                "origins": Origin.choices,
            },
        )


def scope_choices(visible) -> list[tuple[str, str]]:
    """Each scope type, then each node that has events, by its path (one query, grouped)."""
    grouped = visible.order_by().values_list("scope_key").annotate(path=Max("scope_path"))
    nodes = sorted(
        ((key, path or key) for key, path in grouped if key), key=lambda item: item[1].lower()
    )
    types = [(kind, f"every {kind}") for kind in SCOPE_ID_FIELDS]
    return types + [(key, f"{path} ({key.partition(':')[0]})") for key, path in nodes]
