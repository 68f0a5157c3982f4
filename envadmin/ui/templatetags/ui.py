"""Cells and badges of the environments table, and the list's filter controls: one place
renders each kind of value.

The table's rows are written in Python with plain string formatting rather than as template
tags or format_html: a page has hundreds of cells and a few hundred links, and Django's
lazy-aware helpers (format_html, reverse per link) cost more than all the page's queries. Every
value still goes through `_e`, which escapes exactly as Django's `escape` does.
"""

import re
from html import escape as _html_escape
from urllib.parse import quote

from django import template
from django.forms import CheckboxInput
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from envadmin.compliance.states import NOT_SUPPORTED
from envadmin.compliance.states import compliance_state as judged_state
from envadmin.compliance.verdicts import Verdicts

register = template.Library()


def _e(value) -> str:
    """conditional_escape without its lazy-string wrapper: safe strings pass as they are."""
    if type(value) is str:  # nearly every value: the fast path
        return _html_escape(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return _html_escape(str(value))


@register.filter
def split(value: str):
    return value.split()


_SEPARATORS = re.compile(r"([/:._-]+)")


@register.filter
def breakable(value) -> str:
    """The value escaped, with a <wbr> after each run of / : . _ -: an image or variable name
    wraps at its separators, not mid-word, when its column or a phone is narrow."""
    if value is None or value == "":
        return value
    return mark_safe(_SEPARATORS.sub(r"\1<wbr>", _e(value)))


_UUID = re.compile(r"[0-9a-fA-F-]{1,64}").fullmatch


class _Links:
    """The environment links of one page: each URL pattern reversed once, not once per row."""

    PLACEHOLDER = "00000000-0000-0000-0000-000000000000"

    def __init__(self, back: str = ""):
        self.org = _e(reverse("review:org"))
        self._patterns = {}
        # The filtered list a detail or delete page returns to, after a delete say.
        self.back = _e("?next=" + quote(back, safe="")) if back else ""

    def _pattern(self, name: str) -> tuple[str, str, str, str]:
        pattern = self._patterns.get(name)
        if pattern is None:
            url = reverse(f"environments:{name}", args=[self.PLACEHOLDER])
            pattern = url.split(self.PLACEHOLDER, 1)
            pattern = self._patterns[name] = (*pattern, _e(pattern[0]), _e(pattern[1]))
        return pattern

    def around(self, name: str) -> tuple[str, str]:
        """The escaped markup before and after an id that needs no quoting (`_UUID`)."""
        return self._pattern(name)[2:]

    def of(self, name: str, asset_id) -> str:
        pattern = self._pattern(name)
        if type(asset_id) is str and _UUID(asset_id):  # nothing in it to quote or escape
            return pattern[2] + asset_id + pattern[3]
        # As reverse() quotes a path argument (RFC 3986 sub-delimiters and "/~:@" kept).
        return _e(quote(str(asset_id), safe="!$&'()*+,;=/~:@").join(pattern[:2]))

    def returning(self, name: str, asset_id) -> str:
        """The link, carrying the list to return to."""
        return self.of(name, asset_id) + self.back


@register.simple_tag(takes_context=True)
def table_rows(context, rows, columns, can_create=False, selectable=False):
    """The <tr>s of the environments table: the chosen cells, then the actions the user may
    take (row["actions"], from the backend). A filtered list passes itself on to the detail
    and delete links, to come back to. `selectable`: a first cell with a checkbox of the bulk
    form (#bulk-form) on each row the user may change."""
    request = context.get("request")
    links = _Links(request.get_full_path() if request is not None and request.GET else "")
    # Each cell opens with "<td": its column's label goes in there, for the phone's cards.
    labelled = [(CELLS[c.key], f'<td data-label="{_e(c.label)}"') for c in columns]
    html = []
    for row in rows:
        cells = "".join([opening + cell(row, links)[3:] for cell, opening in labelled])
        actions = row.get("actions") or ()
        select = ""
        if selectable:
            box = (
                f'<input type="checkbox" name="ids" value="{_e(row["id"])}" form="bulk-form" '
                f'aria-label="Select {_e(row["name"])}">'
                if actions
                else ""
            )
            select = f'<td class="select" data-label="Select">{box}</td>'
        html.append(
            f'<tr data-name="{_e(row["name"])}">{select}{cells}<td class="actions">'
            + (f'<a href="{links.of("copy", row["id"])}">Copy</a>' if can_create else "")
            + (f'<a href="{links.of("update", row["id"])}">Edit</a>' if "edit" in actions else "")
            + (
                f'<a href="{links.returning("delete", row["id"])}">Delete</a>'
                if "delete" in actions
                else ""
            )
            + "</td></tr>\n"
        )
    return mark_safe("".join(html))


@register.simple_tag
def matrix_rows(rows, workload_types, copy_for=None, project_label="") -> str:
    """The <tr>s of the compliance matrix (rows: views.review.MatrixLine): an environment's
    links, then its cell per workload type; a row violating a policy offers a compliant copy
    when `copy_for` is set. Environments share most answers (one image, one violation), and
    alike rows often share their cells tuple: each is written once per page."""
    links, written, scopes, html = _Links(), {}, {}, []
    # Each row's two links are the same markup around its id: their parts, made once.
    detail = links.around("detail")
    copy = links.around("copy") if copy_for is not None else None
    copy_tail = f'?compliant_for={_e(copy_for)}">Make a compliant copy for {_e(project_label)}</a>'
    kinds = tuple(workload_types)
    marked = {}  # id(cells) -> (markup, violates), this page's
    for row in rows:
        found = marked.get(id(row.cells))
        if found is None:
            found = marked[id(row.cells)] = _cells_markup(row.cells, kinds, written)
        cells, violates = found
        asset = row.id
        plain = type(asset) is str and _UUID(asset)  # nothing in it to quote or escape
        link = detail[0] + asset + detail[1] if plain else links.of("detail", asset)
        if violates and copy is not None:
            href = copy[0] + asset + copy[1] if plain else links.of("copy", asset)
            fix = f'<br><a class="button small" href="{href}{copy_tail}'
        else:
            fix = ""
        scope = scopes.get(row.scope)
        if scope is None:  # a page has a few placements, each on many rows
            scope = scopes[row.scope] = _e(row.scope)
        name = _e(row.name)
        html.append(
            f'<tr data-name="{name}"><th scope="row"><a href="{link}">{name}</a><br>'
            f'<small class="muted">{scope}</small>{fix}</th>{cells}</tr>\n'
        )
    return mark_safe("".join(html))


def _cells_markup(cells: tuple, kinds: tuple, written: dict) -> tuple[str, bool]:
    key = (id(cells), kinds)
    found = _CELLS_MARKUP.get(key)
    if found is None or found[0] is not cells:
        found = (cells, *_matrix_cells(cells, kinds, written))
        _CELLS_MARKUP.put(key, found)
    return found[1], found[2]


# The markup of a cells tuple, kept across requests: a backend shares one tuple between alike
# rows and requests (backends.base.MatrixRow) and never changes it. An entry holds its tuple, so
# no other object can take the id it is keyed by while it lives.
_CELLS_MARKUP = Verdicts(limit=20_000)


def _matrix_cells(cells: tuple, workload_types, written: dict) -> tuple[str, bool]:
    """(the <td>s of one cells tuple, whether one of them violates a policy); each distinct
    cell's markup is kept in `written` by what it shows."""
    shown, violates = [], False
    for kind, (compliance, state) in zip(workload_types, cells, strict=True):
        reasons = (compliance or {}).get("reason") or []
        key = (kind, state, *[(r.get("field"), r.get("rule"), r.get("details")) for r in reasons])
        cell = written.get(key)
        if cell is None:
            cell = written[key] = compliance_badge_with_reasons(compliance, state, kind)
        shown.append(f"<td>{cell}</td>")
        violates = violates or state == "not-compliant"
    return "".join(shown), violates


_NONE = '<span class="muted">—</span>'


def _chips(items) -> str:
    """Chips of (extra attributes already escaped, text) pairs."""
    return (
        "".join([f'<span class="chip"{attrs}>{_e(text)}</span>' for attrs, text in items]) or _NONE
    )


def _count_popover(items, line) -> str:
    if not items:
        return '<span class="badge count zero">0</span>'
    lines = "".join([f"<li>{line(item)}</li>" for item in items])
    return (
        f'<details class="pop"><summary class="badge count">{len(items)}</summary>'
        f"<ul>{lines}</ul></details>"
    )


def _time(value) -> str:
    if not value:
        return _NONE
    return f'<time datetime="{value.isoformat()}">{value.strftime("%Y-%m-%d %H:%M")}</time>'


@register.simple_tag
def compliance_badge_with_reasons(compliance, state=None, workload_type="") -> str:
    """The badge of a compliance object, its reasons opening from it (the list, the matrix).
    `state` is compliance.states' (None: judged from the object alone, with no "n/a")."""
    reasons = (compliance or {}).get("reason") or []
    if not reasons:
        return state_badge(compliance, state, workload_type)
    return mark_safe(
        f'<details class="pop">{_badge("summary", compliance, state, workload_type)}'
        f"<ul>{_reason_items(reasons)}</ul></details>"
    )


@register.simple_tag
def state_badge(compliance, state=None, workload_type="") -> str:
    """The badge alone (the detail page lists the reasons beside it)."""
    return mark_safe(_badge("span", compliance, state, workload_type))


def _badge(tag, compliance, state, workload_type) -> str:
    state = _state(compliance, state)
    css, text = badge_of(compliance, state)
    title = f' title="Does not support {_e(workload_type)}"' if state == NOT_SUPPORTED else ""
    return f'<{tag} class="badge {_e(css)}"{title}>{_e(text)}</{tag}>'


@register.simple_tag
def reason_list(reasons, css="plain") -> str:
    """A compliance object's reasons as a list: each with its field and rule, if it has them."""
    return mark_safe(f'<ul class="{_e(css)}">{_reason_items(reasons)}</ul>')


def _reason_items(reasons) -> str:
    return "".join([f"<li>{_reason(r)}</li>" for r in reasons])


def _reason(reason) -> str:
    if reason.get("field"):
        return f"<code>{_e(reason['field'])}</code> <em>{_e(reason.get('rule') or '')}</em>: " + _e(
            reason["details"]
        )
    return _e(reason["details"])


def _types(row) -> list:
    shown = []
    for kind in row["workload_types"]:
        label = kind
        if kind == "distributed" and row["dist_framework"]:
            label = f"{kind} ({row['dist_framework']})"
        shown.append(("", label))
    return shown


def _workload(w) -> str:
    return f'{_e(w["name"])} · {_e(w["type"])} · <span class="status">{_e(w.get("status"))}</span>'


def _compliance(row) -> str:
    return compliance_badge_with_reasons(
        row["compliance"], row["compliance_state"], row["judged_type"]
    )


def _tool(t) -> tuple[str, str]:
    return f' title="{_e(t["connection"] or "")}"', t["tool"]


@register.simple_tag
def lifecycle_badge(lifecycle, with_message=False) -> str:
    """Deprecated or archived: a badge (its message as a tooltip, or beside it); nothing for an
    active environment."""
    state = (lifecycle or {}).get("state") or "active"
    if state == "active":
        return ""
    message = lifecycle.get("message") or ""
    title = f' title="{_e(message)}"' if message and not with_message else ""
    badge = f'<span class="badge lifecycle {_e(state)}"{title}>{_e(state.capitalize())}</span>'
    note = f' <span class="lifecycle-note">{_e(message)}</span>' if message and with_message else ""
    return mark_safe(badge + note)


def _lifecycle_note(r) -> str:
    lifecycle = r.get("lifecycle") or {}
    if (lifecycle.get("state") or "active") == "active":
        return ""
    message = Truncator(lifecycle.get("message") or "").chars(80)
    note = f'<span class="lifecycle-note">{_e(message)}</span>' if message else ""
    return f" {lifecycle_badge(lifecycle)}{note}"


CELLS = {
    "name": lambda r, links: (
        f'<td class="name"><a href="{links.returning("detail", r["id"])}">{_e(r["name"])}</a>'
        f"{_lifecycle_note(r)}</td>"
    ),
    "description": lambda r, links: (
        f'<td class="description">{_e(Truncator(r["description"]).chars(80))}</td>'
    ),
    "scope": lambda r, links: (
        f'<td><a href="{links.org}" class="scope scope-{_e(r["scope"])}" title="{_e(r["scope"])}">'
        f"{_e(r['scope_path'])}</a></td>"
    ),
    "image": lambda r, links: f'<td class="mono">{breakable(r["image"])}</td>',
    "architecture": lambda r, links: f"<td>{_e(r['architecture'])}</td>",
    "tools": lambda r, links: f"<td>{_chips([_tool(t) for t in r['tools']])}</td>",
    "workloads": lambda r, links: f"<td>{_count_popover(r['workloads'], _workload)}</td>",
    "workload_types": lambda r, links: f"<td>{_chips(_types(r))}</td>",
    "templates": lambda r, links: (
        f"<td>{_count_popover(r['templates'], lambda t: _e(t['name']))}</td>"
    ),
    "created_by": lambda r, links: f"<td>{_e(r['created_by'])}</td>",
    "created_at": lambda r, links: f"<td>{_time(r['created_at'])}</td>",
    "updated_at": lambda r, links: f"<td>{_time(r['updated_at'])}</td>",
    "cluster": lambda r, links: f"<td>{_e(r['cluster'] or '—')}</td>",
    "compliance": lambda r, links: f"<td>{_compliance(r)}</td>",
    "lifecycle": lambda r, links: f"<td>{lifecycle_badge(r.get('lifecycle')) or _e('active')}</td>",
    "status": lambda r, links: _sync_status(r["status"]),
}


def _sync_status(status) -> str:
    """Run:ai's sync status, its message (why it failed, say) as a tooltip."""
    title = f' title="{_e(status["message"])}"' if status["message"] else ""
    return f'<td class="sync-status"{title}>{_e(status["status"]) or _NONE}</td>'


def _state(compliance, state) -> str:
    return judged_state(compliance, {}, None) if state is None else state


def badge_of(compliance, state) -> tuple[str, str]:
    """(css class, text) of a compliance state: text as well as colour."""
    if state == NOT_SUPPORTED:
        return ("na", "n/a")
    if state == "imposed":
        return ("info", "Imposed")
    if state == "compliant":
        return ("ok", "Compliant")
    if state == "not-compliant":
        count = len((compliance or {}).get("reason") or [])
        return ("bad", f"Not compliant ({count})")
    return ("muted", "—")


@register.filter
def compliance_badge(compliance):
    """(css class, text) of a compliance object judged alone (a draft's: no "n/a")."""
    return badge_of(compliance, _state(compliance, None))


FLAGS = [
    ("runAsNonRoot", "Run as non-root"), ("readOnlyRootFilesystem", "Read-only root filesystem"),
    ("allowPrivilegeEscalation", "Privilege escalation"), ("hostIpc", "Host IPC"),
    ("hostNetwork", "Host network"), ("createHomeDir", "Create home dir"), ("stdin", "Stdin"),
    ("tty", "TTY"),
]  # fmt: skip


@register.filter
def flags(spec: dict):
    """The boolean settings an environment sets, labelled (none when Run:ai sent no spec)."""
    if not isinstance(spec, dict):
        return []
    return [(label, spec[key]) for key, label in FLAGS if spec.get(key) is not None]


@register.filter
def next_sort(column, current):
    """The sort a click on a column header asks for (browse.Column.next_sort)."""
    return column.next_sort(current)


@register.filter
def get(mapping, key):
    return (mapping or {}).get(key)


@register.simple_tag
def filter_control(field, css=""):
    """One control of the list's filter form: its label, the control (before its label for a
    checkbox), its messages. Written here rather than as an include: the form has a dozen."""
    if isinstance(field.field.widget, CheckboxInput):
        return mark_safe(
            f'<div class="field check"><label>{field} {_e(field.label)}</label>'
            f"{field_errors(field)}</div>"
        )
    wrapper = f"field {css}".strip()
    return mark_safe(
        f'<div class="{_e(wrapper)}"><label for="{_e(field.auto_id)}">{_e(field.label)}</label>'
        f"{field}{field_errors(field)}</div>"
    )


@register.simple_tag
def field_errors(field, oob=False):
    """The messages of a filter control, in the element its aria-describedby names; a checkbox
    of a group is named in them. With `oob`, for htmx to swap in place: the filter form stays on
    the page while the table is swapped."""
    named = field.name in getattr(field.form, "workload_type_names", ())
    label = f"{_e(field.label)}: " if named else ""
    messages = "".join([f'<p class="error">{label}{_e(e)}</p>' for e in field.errors])
    swap = ' hx-swap-oob="true"' if oob else ""
    return mark_safe(
        f'<div class="field-errors" id="{_e(field.auto_id)}_error"{swap}>{messages}</div>'
    )


@register.simple_tag
def options(choices, selected=None):
    """<option>s of (value, label) pairs, the `selected` one marked. Built in Python: the
    project pickers list every project, several times per page."""
    chosen = "" if selected is None else str(selected)
    return mark_safe(
        "".join(
            [
                f'<option value="{_e(value)}"{" selected" if str(value) == chosen else ""}>'
                f"{_e(label)}</option>"
                for value, label in choices
            ]
        )
    )


@register.simple_tag
def path_options(choices):
    """Valueless <option>s of the (id, path) pairs' paths: the review-as datalist of every
    page, one option per project, built in Python for the same reason as `options`."""
    return mark_safe("".join([f'<option value="{_e(path)}"></option>' for _, path in choices]))


@register.filter
def row_name(row) -> str:
    """ "Environment variable 2" for the form row prefixed env-1: it tells each row's fields apart
    (their labels end with it, visually hidden), as the row's place on the page does."""
    index = row.prefix.rsplit("-", 1)[-1]
    return f"{row.legend} {int(index) + 1}" if index.isdigit() else row.legend
