"""The environments list's filters: Run:ai's list parameters, as the API defines them, plus the
page's own (search, tool, image, creator, compliance), with the form that renders them.

The page never filters a queryset with this FilterSet: the backend does, in its database or over
its list. What the FilterSet gives the page is one definition of every parameter (the API's
own, inherited), its validation with a message per control, and the controls themselves.
"""

import django_filters

from envadmin.backends.environment_rows import RowFilters
from envadmin.contract.choices import (
    COMPLIANCE_STATES,
    SCOPE_ID_FIELDS,
    TOOL_TYPES,
    WORKLOAD_TYPES,
)
from envadmin.inventory.filters import (
    EnvironmentFilterForm,
    EnvironmentFilterSet,
    QueryChoiceFilter,
)

from .context import OrgIndex
from .widgets import OptionsSelect, SearchBox, TrueCheckbox

ANY = ("", "Any")
# The checkbox of each workload type, in the vocabulary's order.
WORKLOAD_TYPE_FILTERS = {f"is{kind}": kind for kind in WORKLOAD_TYPES}
LABELS = {
    "scope": "Scope", "clusterId": "Cluster", "departmentId": "Department",
    "projectId": "Project", "includeDescendants": "Include descendants",
    "distributedFramework": "Framework", **WORKLOAD_TYPE_FILTERS,
}  # fmt: skip
LIFECYCLE_CHOICES = [
    ("active", "Active"), ("deprecated", "Deprecated"), ("archived", "Archived"),
    ("all", "Any, archived too"),
]  # fmt: skip
ORG_PICKERS = tuple(SCOPE_ID_FIELDS.values())  # broadest first
# Cluster, department, project: of several pickers set, the narrower wins.
NARROWER = tuple(
    (broad, narrow)
    for index, broad in enumerate(ORG_PICKERS)
    for narrow in ORG_PICKERS[index + 1 :]
)


class ListFilterForm(EnvironmentFilterForm):
    workload_type_names = tuple(WORKLOAD_TYPE_FILTERS)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "f-%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def check_one_node(self, cleaned: dict):
        """The page's cluster, department and project pickers may all be set: the narrowest
        one is passed on (EnvironmentListFilterSet.backend_params)."""

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
        label="Compliance",
        choices=list({**COMPLIANCE_STATES, "not-supported": "n/a (type not supported)"}.items()),
        method="filter_nothing",
    )

    # envadmin's own lifecycle: empty (the default) hides archived environments.
    lifecycle = QueryChoiceFilter(
        label="Lifecycle", choices=LIFECYCLE_CHOICES, method="filter_nothing"
    )

    class Meta(EnvironmentFilterSet.Meta):
        form = ListFilterForm

    def __init__(self, data, *, org: OrgIndex, **kwargs):
        super().__init__(data, **kwargs)
        fields = self.form.fields
        fields["clusterId"].widget.options = [ANY, *org.clusters.items()]
        departments = [(key, d["name"]) for key, d in org.departments.items()]
        fields["departmentId"].widget.options = [ANY, *departments]
        fields["projectId"].widget.options = [ANY, *org.project_choices]

    @staticmethod
    def finished_form_class(form_class):
        """Labels and controls, once (see PlacementFilters.get_form_class); only the org
        pickers' choices differ per request, set on the form itself."""
        dress(form_class.base_fields)
        return form_class

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
            lifecycle=lifecycle_filter(cleaned.get("lifecycle") or ""),
        )


def lifecycle_filter(chosen: str) -> str:
    """The page's lifecycle choice as RowFilters.lifecycle: by default, all but archived."""
    return {"": "current", "all": ""}.get(chosen, chosen)


def dress(fields: dict):
    """Labels and controls: a picker per choice, a checkbox per boolean, a box per text."""
    for name, label in LABELS.items():
        fields[name].label = label
    for name in ("q", "image", "created_by"):
        fields[name].widget = SearchBox()
    fields["q"].widget.attrs["placeholder"] = "Name, image, tool, scope…"
    for name in ("includeDescendants", *WORKLOAD_TYPE_FILTERS):
        fields[name].widget = TrueCheckbox()
    for name in ORG_PICKERS:
        fields[name].widget = OptionsSelect(options=[ANY])
    for name in ("scope", "distributedFramework", "tool", "compliance"):
        fields[name].widget = OptionsSelect(options=[ANY, *fields[name].choices])
    fields["lifecycle"].widget = OptionsSelect(
        options=[("", "Active and deprecated"), *fields["lifecycle"].choices]
    )


# The parameters the page passes on to the backend: the API's, in the API's meaning.
RUNAI_PARAMETERS = [
    name
    for name in EnvironmentListFilterSet.base_filters
    if name in EnvironmentFilterSet.base_filters
]
