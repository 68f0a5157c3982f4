"""Cells and badges of the environments table: one place renders each kind of value."""

from django import template
from django.template.loader import render_to_string

register = template.Library()


@register.filter
def split(value: str):
    return value.split()


@register.simple_tag
def cell(row: dict, key: str):
    return render_to_string("environments/_cell.html", {"row": row, "key": key})


@register.filter
def compliance_badge(compliance):
    """(css class, text) of a compliance object: text as well as colour."""
    if compliance is None:
        return ("muted", "—")
    if compliance.get("imposed"):
        return ("info", "Imposed")
    if compliance.get("compliance"):
        return ("ok", "Compliant")
    count = len(compliance.get("reason") or [])
    return ("bad", f"Not compliant ({count})")


FLAGS = [
    ("runAsNonRoot", "Run as non-root"), ("readOnlyRootFilesystem", "Read-only root filesystem"),
    ("allowPrivilegeEscalation", "Privilege escalation"), ("hostIpc", "Host IPC"),
    ("hostNetwork", "Host network"), ("createHomeDir", "Create home dir"), ("stdin", "Stdin"),
    ("tty", "TTY"),
]  # fmt: skip


@register.filter
def flags(spec: dict):
    """The boolean settings an environment sets, labelled."""
    return [(label, spec[key]) for key, label in FLAGS if spec.get(key) is not None]


@register.filter
def get(mapping, key):
    return (mapping or {}).get(key)
