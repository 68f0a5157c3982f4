"""The environments list's filters: Run:ai's list parameters, as the API defines them, plus the
page's own (search, tool, image, creator, compliance), with the form that renders them.

The page never filters a queryset with this FilterSet: the backend does, in its database or over
its list. What the FilterSet gives the page is one definition of every parameter (the API's
own, inherited), its validation with a message per control, and the controls themselves.
"""

import django_filters
from django import forms
from django.utils.html import escape
from django.utils.safestring import mark_safe

from envadmin.backends.environment_rows import RowFilters
from envadmin.contract.choices import COMPLIANCE_STATES, TOOL_TYPES, WORKLOAD_TYPES
from envadmin.inventory.filters import (
    EnvironmentFilterForm,
    EnvironmentFilterSet,
    QueryChoiceFilter,
)

from .context import OrgIndex
from .templatetags.ui import options

ANY = ("", "Any")
# The checkbox of each workload type, in the vocabulary's order.
WORKLOAD_TYPE_FILTERS = {f"is{kind}": kind for kind in WORKLOAD_TYPES}
LABELS = {
    "scope": "Scope", "clusterId": "Cluster", "departmentId": "Department",
    "projectId": "Project", "includeDescendants": "Include descendants",
    "distributedFramework": "Framework", **WORKLOAD_TYPE_FILTERS,
}  # fmt: skip
# Cluster, department, project: of several pickers set, the narrower wins.
NARROWER = (
    ("clusterId", "departmentId"),
    ("departmentId", "projectId"),
    ("clusterId", "projectId"),
)


class OptionsSelect(forms.Select):
    """A <select> written in Python: the project picker lists every project, and Django's
    template per option would cost more than the rest of the filters together."""

    def render(self, name, value, attrs=None, renderer=None):
        attributes = "".join(
            f' {key}="{escape(val)}"' if val is not True else f" {key}"
            for key, val in self.build_attrs(self.attrs, attrs).items()
            if val not in (None, False)
        )
        return mark_safe(
            f'<select name="{escape(name)}"{attributes}>{options(self.choices, value)}</select>'
        )


class TrueCheckbox(forms.CheckboxInput):
    """A checkbox that sends "true" when ticked and nothing when not, as Run:ai's boolean
    parameters read; the field judges whatever text the URL holds."""

    def __init__(self, attrs=None):
        super().__init__(attrs, check_test=lambda value: str(value).lower() in ("true", "1"))

    def format_value(self, value):
        return "true"

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class ListFilterForm(EnvironmentFilterForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "f-%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def check_one_node(self, cleaned: dict):
        """The page's cluster, department and project pickers may all be set: the narrowest
        one is passed on (EnvironmentListFilterSet.backend_params)."""

    workload_type_names = tuple(WORKLOAD_TYPE_FILTERS)

    def workload_type_fields(self):
        return [self[name] for name in WORKLOAD_TYPE_FILTERS]


class EnvironmentListFilterSet(EnvironmentFilterSet):
    # Set by the page itself (usage, "review as"), never read from its URL.
    name = usageInfo = statusInfo = None
    complyToProject = complyToWorkloadType = complyToReplicaType = None

    q = django_filters.CharFilter(label="Search", method="filter_nothing")
    tool = QueryChoiceFilter(
        label="Tool", choices=[(t, t) for t in TOOL_TYPES], method="filter_nothing"
    )
    image = django_filters.CharFilter(label="Image contains", method="filter_nothing")
    created_by = django_filters.CharFilter(label="Created by", method="filter_nothing")
    compliance = QueryChoiceFilter(
        label="Compliance", choices=list(COMPLIANCE_STATES.items()), method="filter_nothing"
    )

    class Meta(EnvironmentFilterSet.Meta):
        form = ListFilterForm

    def __init__(self, data, *, org: OrgIndex, **kwargs):
        super().__init__(data, **kwargs)
        self.dress(self.form, org)

    @staticmethod
    def dress(form, org: OrgIndex):
        """Labels and controls: the org's nodes as choices, a checkbox per boolean."""
        fields = form.fields
        for name, label in LABELS.items():
            fields[name].label = label
        for name in ("q", "image", "created_by"):
            fields[name].widget = forms.SearchInput()
        fields["q"].widget.attrs["placeholder"] = "Name, image, tool, scope…"
        for name in ("includeDescendants", *WORKLOAD_TYPE_FILTERS):
            fields[name].widget = TrueCheckbox()
        nodes = {
            "clusterId": list(org.clusters.items()),
            "departmentId": [(key, d["name"]) for key, d in org.departments.items()],
            "projectId": sorted(
                ((key, org.project_label(key)) for key in org.projects), key=lambda c: c[1]
            ),
        }
        for name in ("scope", "distributedFramework", "tool", "compliance"):
            nodes[name] = list(fields[name].choices)
        for name, choices in nodes.items():
            fields[name].widget = OptionsSelect(choices=[ANY, *choices])

    def backend_params(self) -> dict[str, str]:
        """Run:ai's list parameters as the URL gave them, leaving out any with an error."""
        errors = self.form.errors
        params = {
            name: value
            for name in RUNAI_PARAMETERS
            if name not in errors and (value := str(self.data.get(name, "")).strip())
        }
        for broad, narrow in NARROWER:
            if narrow in params:
                params.pop(broad, None)
        return params

    def row_filters(self) -> RowFilters:
        """The page's own filters, leaving out any with an error."""
        self.form.is_valid()
        cleaned = self.form.cleaned_data
        return RowFilters(
            search=cleaned.get("q") or "",
            tool=cleaned.get("tool") or "",
            image=cleaned.get("image") or "",
            created_by=cleaned.get("created_by") or "",
            compliance=cleaned.get("compliance") or "",
        )


# The parameters the page passes on to the backend: the API's, in the API's meaning.
RUNAI_PARAMETERS = [
    name
    for name in EnvironmentListFilterSet.base_filters
    if name in EnvironmentFilterSet.base_filters
]
