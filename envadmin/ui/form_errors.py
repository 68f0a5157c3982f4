"""The backend's field errors put next to the environment form's fields, in the form's words,
and the error summary that lists every problem of a submit at the top of the form.

The backend names a field by its path in the document (`spec.connections[1].internalToolInfo
.containerPort`); a row's index counts only the rows that made it into the document, so blank and
removed formset rows are skipped when finding the row it means.
"""

import re

from envadmin.contract.environment import (
    ENV_VAR_NAME_RULE,
    REQUIRED,
    TTY_NEEDS_STDIN,
    UID_NEEDS_CUSTOM,
    VALUE_OR_INSTRUCTIONS,
)

from .form_documents import connection_from_row, variable_from_row

ROW_PATH = re.compile(r"^spec\.(environmentVariables|connections)\[(\d+)\]\.?(.*)$")
CONNECTION_FIELDS = {
    "internalToolInfo.toolType": "tool",
    "externalToolInfo.toolType": "tool",
    "internalToolInfo.containerPort": "containerPort",
    "internalToolInfo.connectionType": "connectionType",
    "internalToolInfo": "tool",
    "externalToolInfo": "externalUrl",
    "externalToolInfo.externalUrl": "externalUrl",
    "internalToolInfo.externalUrlInfo.externalUrl": "externalUrl",
    "internalToolInfo.servingPortInfo.protocol": "protocol",
    "name": "name",
}
VARIABLE_FIELDS = {
    "name": "name", "value": "value", "description": "description",
    "credential.assetId": "credential", "credential.key": "key", "configMap.name": "ref",
    "configMap.key": "key", "podFieldRef.path": "value", "credential": "source",
    "configMap": "source", "podFieldRef": "source",
}  # fmt: skip
META_FIELDS = {"name": "name", "description": "description"}
ROW_KINDS = {"environmentVariables": "Environment variable", "connections": "Tool"}

# The contract's messages that name its own keys, said with the form's labels and values.
FORM_MESSAGES = {
    TTY_NEEDS_STDIN: "A TTY needs stdin: set Stdin to Yes.",
    UID_NEEDS_CUSTOM: "Only used when “User and group ids from” is custom: choose custom, "
    "or leave this empty.",
    ENV_VAR_NAME_RULE: "Use letters, digits, '-', '_' and '.', not starting with a digit "
    "(for example MY_VAR).",
    VALUE_OR_INSTRUCTIONS: VALUE_OR_INSTRUCTIONS,
}
# What a missing part of an env var's source is, where the row's field label is too vague.
MISSING_IN_ROW = {
    "credential.assetId": "Choose the credential.",
    "configMap.name": "Give the config map's name.",
    "credential.key": "Give the key inside the credential.",
    "configMap.key": "Give the key inside the config map.",
    "podFieldRef.path": "Give the pod field's path (e.g. metadata.name).",
}
# DRF's and Django's words for "missing": with no field named, they say nothing to a person.
MISSING = {REQUIRED, "This field may not be null.", "This field may not be blank."}


def apply_backend_errors(field_errors: dict, form, variables, connections) -> None:
    """Put each message next to its field (or formset row); what has no field goes on top.

    `variables` and `connections` are the formsets the document was built from. A field that
    already shows an error of the form's own gets no second one: the document was built
    without its value, so what the backend says about it is a consequence, not news.
    """
    rows = {
        "environmentVariables": (_forms_in_document(variables, variable_from_row), VARIABLE_FIELDS),
        "connections": (_forms_in_document(connections, connection_from_row), CONNECTION_FIELDS),
    }
    for path, messages in field_errors.items():
        row_path = ROW_PATH.match(path)
        if row_path:
            kind, index, rest = row_path.group(1), int(row_path.group(2)), row_path.group(3)
            row_forms, names = rows[kind]
            if index < len(row_forms):
                row = row_forms[index]
                field = row_field(rest, names)
                field = field if field in row.fields else None
                missing = MISSING_IN_ROW.get(rest)
                _add(row, field, [missing if m in MISSING and missing else m for m in messages])
                continue
        field = form_field(path)
        if field and field in form.fields:
            _add(form, field, messages)
        else:
            label = path_label(path)
            _add(form, None, [f"{label}: {m}" if label else m for m in messages])


def _add(form, field: str | None, messages) -> None:
    if field is not None and form.has_error(field):
        return
    label = form[field].label if field else None
    for message in messages:
        text = in_form_words(str(message), label)
        if text not in form.errors.get(field or "__all__", []):
            form.add_error(field, text)


def in_form_words(message: str, label: str | None) -> str:
    """A backend message as the form says it: its labels, never "This field may not be null"."""
    if message in FORM_MESSAGES:
        return FORM_MESSAGES[message]
    if message in MISSING:
        return f"{label} is required." if label else "A required value is missing."
    return message


def row_field(rest: str, names: dict) -> str | None:
    """A row's form field for the path inside the row (exact, else the first prefix known)."""
    return names.get(rest) or next((v for k, v in names.items() if rest.startswith(k)), None)


def form_field(path: str) -> str | None:
    """The main form's field for a document path outside the rows, if it has one."""
    head, _, rest = path.partition(".")
    if head == "meta":
        return META_FIELDS.get(rest, "placement")
    if head == "spec":
        if rest.startswith("probes.readiness."):
            return "probe_" + rest.rsplit(".", 1)[1]
        return rest.split(".")[0].split("[")[0]
    return None


def path_label(path: str) -> str:
    """What a person calls a document path the form has no field for ("" for the body)."""
    row_path = ROW_PATH.match(path)
    if row_path:
        kind, index, rest = row_path.groups()
        return f"{ROW_KINDS[kind]} {int(index) + 1}" + (f", {rest}" if rest else "")
    if path == "body":
        return ""
    return path.partition(".")[2] or path


def _forms_in_document(formset, to_document) -> list:
    """The formset's forms that produced a document row, in document order."""
    rows = formset.forms
    return [row for row in rows if to_document(getattr(row, "cleaned_data", {})) is not None]


# --- the error summary ------------------------------------------------------------------------

# Where the form shows each formset: after the main form's group of that title.
ROWS_AFTER = {"Architecture and workload types": "connections", "Runtime": "variables"}


def error_summary(form, variables, connections) -> list[dict]:
    """Every error the form shows, in page order: {"text", "href"} ("href" links to the field's
    control; None for what belongs to no field)."""
    formsets = {
        "connections": (connections, "Tool"),
        "variables": (variables, "Environment variable"),
    }
    items = [{"text": str(message), "href": None} for message in form.non_field_errors()]
    for title, fields in form.grouped():
        for field in fields:
            items += _field_items(field, "")
        if title in ROWS_AFTER:
            formset, what = formsets[ROWS_AFTER[title]]
            items += _rows_items(formset, what)
    return items


def _rows_items(formset, what: str) -> list[dict]:
    if not formset.is_bound:
        return []
    items = [{"text": f"{what}s: {message}", "href": None} for message in formset.non_form_errors()]
    for number, row in enumerate(formset.forms, start=1):
        first = next(iter(row), None)
        for message in row.non_field_errors():
            href = f"#{first.id_for_label}" if first else None
            items.append({"text": f"{what} {number}: {message}", "href": href})
        for field in row:
            if field.name != "DELETE":
                items += _field_items(field, f"{what} {number}, ")
    return items


def _field_items(field, context: str) -> list[dict]:
    label = str(field.label)
    items = []
    for message in field.errors:
        # "Name is required." needs no "Name: " before it.
        said = message if message.lower().startswith(label.lower()) else f"{label}: {message}"
        items.append({"text": context + said, "href": f"#{field.id_for_label}"})
    return items
