"""Cells and badges of the environments table: one place renders each kind of value."""

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

register = template.Library()


@register.filter
def split(value: str):
    return value.split()


@register.simple_tag
def cell(row: dict, key: str):
    """One <td> of the environments table. Written in Python rather than as an included
    template: a page has hundreds of cells, and this keeps the page as cheap as the admin's."""
    return CELLS[key](row)


def _chips(items) -> str:
    return format_html_join("", '<span class="chip"{}>{}</span>', items) or _NONE


_NONE = mark_safe('<span class="muted">—</span>')


def _count_popover(items, line) -> str:
    if not items:
        return mark_safe('<span class="badge count zero">0</span>')
    lines = format_html_join("", "<li>{}</li>", ((line(item),) for item in items))
    return format_html(
        '<details class="pop"><summary class="badge count">{}</summary><ul>{}</ul></details>',
        len(items), lines,
    )  # fmt: skip


def _time(value) -> str:
    if not value:
        return _NONE
    return format_html(
        '<time datetime="{}">{}</time>', value.isoformat(), value.strftime("%Y-%m-%d %H:%M")
    )


def _compliance(row) -> str:
    compliance = row["compliance"]
    css, text = compliance_badge(compliance)
    reasons = (compliance or {}).get("reason") or []
    if not reasons:
        return format_html('<span class="badge {}">{}</span>', css, text)
    items = format_html_join("", "<li>{}</li>", ((_reason(r),) for r in reasons))
    return format_html(
        '<details class="pop"><summary class="badge {}">{}</summary><ul>{}</ul></details>',
        css, text, items,
    )  # fmt: skip


def _reason(reason) -> str:
    if reason.get("field"):
        return format_html(
            "<code>{}</code> {}: {}", reason["field"], reason.get("rule") or "", reason["details"]
        )
    return reason["details"]


def _types(row) -> list:
    shown = []
    for kind in row["workload_types"]:
        label = kind
        if kind == "distributed" and row["dist_framework"]:
            label = f"{kind} ({row['dist_framework']})"
        shown.append(("", label))
    return shown


CELLS = {
    "name": lambda r: format_html(
        '<td class="name"><a href="{}">{}</a></td>',
        reverse("environments:detail", args=[r["id"]]),
        r["name"],
    ),  # fmt: skip
    "description": lambda r: format_html(
        '<td class="description">{}</td>', Truncator(r["description"]).chars(80)
    ),
    "scope": lambda r: format_html(
        '<td><a href="{}" class="scope scope-{}" title="{}">{}</a></td>',
        reverse("review:org"),
        r["scope"],
        r["scope"],
        r["scope_path"],
    ),  # fmt: skip
    "image": lambda r: format_html('<td class="mono">{}</td>', r["image"]),
    "architecture": lambda r: format_html("<td>{}</td>", r["architecture"]),
    "tools": lambda r: format_html(
        "<td>{}</td>",
        _chips((format_html(' title="{}"', t["connection"] or ""), t["tool"]) for t in r["tools"]),
    ),
    "workloads": lambda r: format_html(
        "<td>{}</td>",
        _count_popover(
            r["workloads"],
            lambda w: format_html(
                '{} · {} · <span class="status">{}</span>', w["name"], w["type"], w.get("status")
            ),
        ),
    ),
    "workload_types": lambda r: format_html("<td>{}</td>", _chips(_types(r))),
    "templates": lambda r: format_html(
        "<td>{}</td>", _count_popover(r["templates"], lambda t: t["name"])
    ),
    "created_by": lambda r: format_html("<td>{}</td>", r["created_by"]),
    "created_at": lambda r: format_html("<td>{}</td>", _time(r["created_at"])),
    "updated_at": lambda r: format_html("<td>{}</td>", _time(r["updated_at"])),
    "cluster": lambda r: format_html("<td>{}</td>", r["cluster"] or "—"),
    "compliance": lambda r: format_html("<td>{}</td>", _compliance(r)),
}


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


@register.simple_tag
def options(choices, selected=None):
    """<option>s of (value, label) pairs, the `selected` one marked. Built in Python: the
    project pickers list every project, several times per page."""
    chosen = "" if selected is None else str(selected)
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, mark_safe(" selected") if str(value) == chosen else "", label)
         for value, label in choices),
    )  # fmt: skip
