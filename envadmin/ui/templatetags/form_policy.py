"""What a project's policies ask of one form field, shown next to it (ui/policy_hints.py puts
them on the form)."""

from django import template
from django.forms.utils import flatatt

from ..policy_hints import form_value, refresh_attrs, shown_value

register = template.Library()


def _by(source) -> str:
    return f"{source.policy} for {source.kind}"


@register.simple_tag
def refreshes_hints(url):
    """The attributes of a control that re-renders the form's fields with fresh hints."""
    return flatatt(refresh_attrs(url))


@register.inclusion_tag("environments/_policy_hint.html")
def policy_hint(field):
    """The policy's word on `field`: what is fixed, required, allowed, and its default."""
    form = field.form
    hint = getattr(form, "policy_hints", {}).get(field.name)
    if hint is None:
        return {"hint": None}
    context = {
        "hint": hint,
        "id": f"{field.auto_id}-policy",
        "name": field.name,
        "url": form.hints_url,
        "range": hint.range_text(),
        "range_sources": ", ".join(_by(s) for s in hint.range_sources()),
        "allowed": [
            (", ".join(shown for _, shown in rule.allowed), _by(rule.source))
            for rule in hint.options
        ],
        "required": ", ".join(_by(s) for s in hint.required),
    }
    lock = getattr(form, "policy_locks", {}).get(field.name)
    if lock:
        fixed = hint.locks[0]
        context.update(
            lock=lock,
            fixed=shown_value(form_value(fixed.value, field.field), field.field),
            lock_source=_by(fixed.source),
        )
    elif hint.default:
        value = form_value(hint.default.value, field.field)
        current = field.value()
        same = (
            sorted(map(str, current)) == sorted(map(str, value))
            if isinstance(current, list) and isinstance(value, list)
            else str(current) == str(value)
        )
        context.update(default=shown_value(value, field.field), default_is_current=same)
    return context


@register.inclusion_tag("environments/_policy_rows.html")
def policy_rows_hint(form, name, anchor):
    """The policy's word on a list the form holds as rows (environment variables)."""
    hint = getattr(form, "row_hints", {}).get(name)
    if hint is None:
        return {"lines": []}
    lines = [
        f"Only these may be added: {', '.join(s.value) or 'none'} (set by {_by(s.source)})."
        for s in hint.can_add
    ] + [
        f"These may not be excluded: {', '.join(s.value)} (set by {_by(s.source)})."
        for s in hint.locked_items
    ]
    return {"lines": lines, "id": f"{anchor}-policy"}
