"""Failures in the contract's terms: each maps to a status and the body {code, message, details}."""


class BackendError(Exception):
    status = 500
    default_message = "Something went wrong."

    def __init__(self, message: str | None = None, details: str | None = None):
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)

    def body(self) -> dict:
        body = {"code": self.status, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidRequest(BackendError):
    status = 400
    default_message = "Bad request."

    def __init__(self, message=None, details=None, field_errors=None):
        super().__init__(message, details)
        # {"spec.image": ["..."]}: lets a form put each message next to its field.
        self.field_errors = field_errors or {}

    @classmethod
    def from_field_errors(cls, errors) -> "InvalidRequest":
        flat = flatten_errors(errors)
        first_path, first_messages = next(iter(flat.items()))
        lines = [f"{path}: {' '.join(messages)}" for path, messages in flat.items()]
        message = f"{first_path}: {first_messages[0]}"
        details = "; ".join(lines)
        return cls(message, details if details != message else None, field_errors=flat)


class Unauthorized(BackendError):
    status = 401
    default_message = "Authentication is required: send 'Authorization: Bearer <token>'."


class Forbidden(BackendError):
    status = 403
    default_message = "You do not have sufficient permissions."


class NotFound(BackendError):
    status = 404
    default_message = "Resource id not found."


class Conflict(BackendError):
    status = 409
    default_message = "Resource with this name already exists"


class PreconditionFailed(BackendError):
    """If-Match named a version the environment or policy no longer has (envadmin's own)."""

    status = 412
    default_message = "The environment was changed since you read it."

    def __init__(self, message=None, details=None, current: dict | None = None, etag=None):
        super().__init__(message, details)
        # The stored document as it is now, so a face can show what changed.
        self.current = current
        # The entity tag of the current version, when it is not the environment's updateCount.
        self.etag = etag


class Unavailable(BackendError):
    status = 503
    default_message = "Please try again in few minutes."


def flatten_errors(errors, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error structure as {"spec.connections[0].name": [messages]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            if key in ("non_field_errors", "__all__"):
                path = prefix or "body"
            elif isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_errors(value, path))
    elif isinstance(errors, list):
        if errors and all(isinstance(item, str) for item in errors):
            flat[prefix or "body"] = [str(item) for item in errors]
        else:
            for index, item in enumerate(errors):
                if item:
                    flat.update(flatten_errors(item, f"{prefix}[{index}]"))
    else:
        flat[prefix or "body"] = [str(errors)]
    return flat
