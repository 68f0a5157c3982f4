"""The one CSV export every page uses: a header, rows of cells, at most CSV_ROW_LIMIT rows.

A spreadsheet runs a cell that starts like a formula (`=`, `+`, `-`, `@`, or a tab or carriage
return before one), so such a cell is written with a leading apostrophe, which spreadsheets
show as text. Every cell goes through `safe_cell`: a name or reason typed by any user is data.
"""

import csv
import io
from collections.abc import Iterable

from django.http import HttpResponse

from envadmin.contract.choices import CSV_ROW_LIMIT

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(header: list[str], rows: Iterable[Iterable]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(label) for label in header])
    for number, row in enumerate(rows):
        if number >= CSV_ROW_LIMIT:
            break
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable]) -> HttpResponse:
    response = HttpResponse(csv_text(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
