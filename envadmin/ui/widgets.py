"""The list's filter controls, written in Python.

Django renders a widget through a template, and a <select>'s choices through a template per
option after normalizing each one: for the list's dozen controls and its project picker (every
project the user can see) that cost more than the rest of the page. These write the same markup
directly; values go through Django's escape.
"""

from django import forms
from django.utils.html import escape
from django.utils.safestring import mark_safe

from .templatetags.ui import options


def _attributes(attrs: dict) -> str:
    return "".join(
        f" {key}" if value is True else f' {key}="{escape(value)}"'
        for key, value in attrs.items()
        if value is not None and value is not False
    )


class OptionsSelect(forms.Select):
    """A <select> of `options`, (value, label) pairs, set as they are (no normalizing)."""

    def __init__(self, attrs=None, options=()):
        super().__init__(attrs)
        self.options = list(options)

    def render(self, name, value, attrs=None, renderer=None):
        attributes = _attributes(self.build_attrs(self.attrs, attrs))
        return mark_safe(
            f'<select name="{escape(name)}"{attributes}>{options(self.options, value)}</select>'
        )


class SearchBox(forms.SearchInput):
    def render(self, name, value, attrs=None, renderer=None):
        attributes = _attributes(self.build_attrs(self.attrs, attrs))
        shown = "" if value in (None, "") else f' value="{escape(value)}"'
        return mark_safe(f'<input type="search" name="{escape(name)}"{shown}{attributes}>')


class TrueCheckbox(forms.CheckboxInput):
    """A checkbox that sends "true" when ticked and nothing when not, as Run:ai's boolean
    parameters read; the field judges whatever text the URL holds."""

    def value_from_datadict(self, data, files, name):
        return data.get(name)

    def render(self, name, value, attrs=None, renderer=None):
        attributes = _attributes(self.build_attrs(self.attrs, attrs))
        checked = " checked" if str(value).lower() in ("true", "1") else ""
        return mark_safe(
            f'<input type="checkbox" name="{escape(name)}" value="true"{attributes}{checked}>'
        )
