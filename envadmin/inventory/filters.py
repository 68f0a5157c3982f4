"""Run:ai's environment list parameters as one FilterSet over the local model.

Placement parameters (scope, projectId, departmentId, clusterId, includeDescendants) combine into
a set of scope keys computed from the org tree (reference §2); the rest are column filters.
"""

import django_filters
from django import forms
from django.db.models import Q

from envadmin.contract.choices import DIST_FRAMEWORKS, SCOPE_ID_FIELDS, SCOPES, WORKLOAD_TYPES

from .models import Credential, Environment, scope_key

REPLICA_TYPES = ["Worker", "Master"]


class QueryBooleanField(forms.Field):
    """'true' or 'false' (any case); anything else is an error rather than silently ignored."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        lowered = str(value).strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise forms.ValidationError("Must be true or false.")


class QueryChoiceField(forms.ChoiceField):
    default_error_messages = {"invalid_choice": "'%(value)s' is not one of: %(choices)s."}

    def validate(self, value):
        if value and not self.valid_value(value):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value, "choices": ", ".join(k for k, _ in self.choices)},
            )


class QueryBooleanFilter(django_filters.Filter):
    field_class = QueryBooleanField


class QueryChoiceFilter(django_filters.ChoiceFilter):
    field_class = QueryChoiceField


class QueryIntegerFilter(django_filters.Filter):
    field_class = forms.IntegerField


def _bool_filter(method="filter_nothing", **kwargs):
    return QueryBooleanFilter(method=method, **kwargs)


def _choice_filter(choices, method="filter_nothing"):
    return QueryChoiceFilter(choices=[(c, c) for c in choices], method=method)


# Each names one node, narrowest first; the first one given wins and the others are refused.
NODE_PARAMETERS = {field: scope for scope, field in reversed(SCOPE_ID_FIELDS.items())}


class EnvironmentFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope") and cleaned.get("includeDescendants"):
            self.add_error(
                "includeDescendants",
                "scope and includeDescendants are mutually exclusive: send only one.",
            )
        self.check_one_node(cleaned)
        return cleaned

    def check_one_node(self, cleaned: dict):
        """Refuses every node parameter after the first (narrowest) one given."""
        given = [name for name in NODE_PARAMETERS if cleaned.get(name) not in (None, "")]
        for extra in given[1:]:
            message = f"{given[0]} is given: send only one of projectId, departmentId, clusterId."
            self.add_error(extra, message)


class PlacementFilters:
    """What every asset list shares: placement parameters as a set of visible scope keys."""

    def __init__(self, data=None, queryset=None, *, tree=None, visible=frozenset(), **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.tree = tree
        # Scope keys the caller may see: a node outside them reads as one that does not exist.
        self.visible = visible

    def get_form_class(self):
        """Built once per filter set class: its fields come from the declared filters alone,
        the same for every request (each form instance copies them); building them is most of
        a filter set's cost."""
        cls = type(self)
        if "built_form_class" not in cls.__dict__:
            cls.built_form_class = self.finished_form_class(super().get_form_class())
        return cls.built_form_class

    @staticmethod
    def finished_form_class(form_class):
        """What a subclass adds to its form class once built (labels, controls)."""
        return form_class

    def filter_nothing(self, queryset, name, value):
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        keys = self.placement_keys()
        return queryset if keys is None else queryset.filter(scope_key__any=keys)

    def placement_keys(self) -> set[str] | None:
        """Scope keys the placement parameters allow, or None when they do not restrict."""
        data = self.form.cleaned_data
        scope = data.get("scope")
        node = None
        for name, level in NODE_PARAMETERS.items():
            if data.get(name) not in (None, ""):
                node = scope_key(level, data[name])
                break

        if node is None:
            if scope in ("tenant", "system"):
                return {scope}
            if scope:  # every node of that level
                return {k for k, n in self.tree.nodes.items() if n.scope == scope}
            return None
        if node not in self.visible:
            # Unknown or out of reach alike: listing its ancestors' assets would confirm that a
            # node the caller cannot see exists.
            return set()
        if scope:
            # Exactly that node, when the scope names its level (or an ancestor's level).
            return {k for k in self.tree.chain(node) if self.tree.nodes[k].scope == scope}
        keys = set(self.tree.chain(node))
        if data.get("includeDescendants"):
            keys |= self.tree.subtree(node)
        return keys


class EnvironmentFilterSet(PlacementFilters, django_filters.FilterSet):
    # An exact name: " a" is not "a".
    name = django_filters.CharFilter(field_name="name", lookup_expr="exact", strip=False)
    scope = _choice_filter(SCOPES)
    projectId = QueryIntegerFilter(method="filter_nothing", min_value=-(2**31), max_value=2**31 - 1)
    departmentId = django_filters.CharFilter(method="filter_nothing")
    clusterId = django_filters.UUIDFilter(method="filter_nothing")
    includeDescendants = _bool_filter()
    usageInfo = _bool_filter()
    statusInfo = _bool_filter()
    isWorkspace = _bool_filter("filter_supports", field_name="supports_workspace")
    isTraining = _bool_filter("filter_supports", field_name="supports_training")
    isInference = _bool_filter("filter_supports", field_name="supports_inference")
    isDistributed = _bool_filter("filter_supports", field_name="supports_distributed")
    distributedFramework = _choice_filter(DIST_FRAMEWORKS, "filter_framework")
    # Compliance is computed elsewhere; here the parameters are only checked for shape.
    complyToProject = QueryIntegerFilter(method="filter_nothing")
    complyToWorkloadType = _choice_filter(WORKLOAD_TYPES)
    complyToReplicaType = _choice_filter(REPLICA_TYPES)

    class Meta:
        model = Environment
        fields: list[str] = []
        form = EnvironmentFilterForm

    def filter_supports(self, queryset, name, value):
        if value is None:
            return queryset
        condition = Q(**{name: True})
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_framework(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(supports_distributed=True, dist_framework=value)


class CredentialFilterSet(PlacementFilters, django_filters.FilterSet):
    """GET /api/v1/asset/credentials: its name and placement filters, as for environments."""

    name = django_filters.CharFilter(field_name="name", lookup_expr="exact", strip=False)
    scope = _choice_filter(SCOPES)
    projectId = QueryIntegerFilter(method="filter_nothing", min_value=-(2**31), max_value=2**31 - 1)
    departmentId = django_filters.CharFilter(method="filter_nothing", max_length=64)
    clusterId = django_filters.UUIDFilter(method="filter_nothing")
    usageInfo = _bool_filter()
    statusInfo = _bool_filter()

    class Meta:
        model = Credential
        fields: list[str] = []
        form = EnvironmentFilterForm
