"""The audit trail's filters, one FilterSet for the API and the activity page alike."""

import re
from datetime import UTC

import django_filters
from django import forms

from envadmin.contract.choices import SCOPES
from envadmin.inventory.filters import QueryChoiceFilter

from .models import Action, AuditEvent, Origin

SCOPE_KEY = re.compile(r"^(cluster|department|project):[^\s:]{1,64}$")


class ScopeField(forms.CharField):
    """A scope type (`project`: every project) or one node as a scope key (`project:7`)."""

    def clean(self, value):
        value = super().clean(value)
        if value and value not in SCOPES and not SCOPE_KEY.match(value):
            raise forms.ValidationError(
                "Expected a scope type (tenant, cluster, department, project) or one node "
                "as scope:id, such as project:7."
            )
        return value


class InstantField(forms.DateTimeField):
    """An ISO 8601 date or time; one the database cannot store is refused, never a 500."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is not None:
            try:
                moment.astimezone(UTC)
            except (OverflowError, ValueError):
                raise forms.ValidationError("Out of range.", code="invalid") from None
        return moment


class ScopeFilter(django_filters.Filter):
    field_class = ScopeField


class InstantFilter(django_filters.Filter):
    field_class = InstantField


class AuditEventFilterSet(django_filters.FilterSet):
    assetId = django_filters.CharFilter(field_name="asset_id", max_length=64)
    # Part of the subject, any case: "res" finds researcher and researcher2.
    actor = django_filters.CharFilter(field_name="actor", lookup_expr="icontains", max_length=255)
    scope = ScopeFilter(method="filter_scope", max_length=80)
    action = QueryChoiceFilter(choices=Action.choices)
    origin = QueryChoiceFilter(choices=Origin.choices)
    since = InstantFilter(field_name="at", lookup_expr="gte")
    until = InstantFilter(field_name="at", lookup_expr="lte")

    class Meta:
        model = AuditEvent
        fields: list[str] = []

    def filter_scope(self, queryset, name, value):
        if ":" not in value:
            return queryset.filter(scope=value)
        kind, _, node = value.partition(":")
        # Cluster uuids are stored in lower case; Run:ai accepts them in either.
        return queryset.filter(scope_key=f"{kind}:{node.lower() if kind == 'cluster' else node}")
