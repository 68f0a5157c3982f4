"""Container image references, per the grammar of the distribution project's `reference` package."""

import re

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|-+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

IMAGE_REFERENCE = re.compile(
    rf"(?P<name>{_NAME})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?", re.ASCII
)
NAME_MAX_LENGTH = 255


def image_reference_error(value: str) -> str | None:
    """Return why `value` is not a valid image reference, or None when it is."""
    match = IMAGE_REFERENCE.fullmatch(value)
    if not match:
        return (
            f"'{value}' is not a valid container image reference "
            "(expected [registry/]repository[:tag][@digest], lowercase repository)"
        )
    if len(match.group("name")) > NAME_MAX_LENGTH:
        return f"the image name may be at most {NAME_MAX_LENGTH} characters"
    return None


TAG = re.compile(_TAG, re.ASCII)
