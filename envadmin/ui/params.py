"""Whole numbers from query strings and forms, safely: "²" passes str.isdigit() but not int(),
and a 30-digit page number overflows the database."""

INT32_MAX = 2**31 - 1


def whole(value, default=None, maximum: int = INT32_MAX):
    """A non-negative int of plain ASCII digits, at most `maximum`; else `default`."""
    text = str(value if value is not None else "").strip()
    if not text or not (text.isascii() and text.isdigit()) or len(text) > 12:
        return default
    number = int(text)
    return number if number <= maximum else default
