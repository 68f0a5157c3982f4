"""The backend's field errors put next to the environment form's fields.

The backend names a field by its path in the document (`spec.connections[1].internalToolInfo
.containerPort`); a row's index counts only the rows that made it into the document, so blank and
removed formset rows are skipped when finding the row it means.
"""

import re

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
    "credential.assetId": "ref", "credential.key": "key", "configMap.name": "ref",
    "configMap.key": "key", "podFieldRef.path": "value", "credential": "source",
    "configMap": "source", "podFieldRef": "source",
}  # fmt: skip
META_FIELDS = {"name": "name", "description": "description"}


def apply_backend_errors(field_errors: dict, form, variables, connections) -> None:
    """Put each message next to its field (or formset row); what has no field goes on top.

    `variables` and `connections` are the validated formsets the document was built from.
    """
    rows = {
        "environmentVariables": (_forms_in_document(variables, variable_from_row), VARIABLE_FIELDS),
        "connections": (_forms_in_document(connections, connection_from_row), CONNECTION_FIELDS),
    }
    for path, messages in field_errors.items():
        text = " ".join(messages)
        row_path = ROW_PATH.match(path)
        if row_path:
            kind, index, rest = row_path.group(1), int(row_path.group(2)), row_path.group(3)
            row_forms, names = rows[kind]
            if index < len(row_forms):
                row = row_forms[index]
                field = row_field(rest, names)
                row.add_error(field if field in row.fields else None, text)
                continue
        field = form_field(path)
        if field and field in form.fields:
            form.add_error(field, text)
        else:
            form.add_error(None, f"{path}: {text}")


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


def _forms_in_document(formset, to_document) -> list:
    """The formset's forms that produced a document row, in document order."""
    return [row for row in formset.forms if to_document(row.cleaned_data) is not None]
