"""Building blocks for serializers that mirror the OpenAPI contract exactly."""

from collections.abc import Mapping

from rest_framework import serializers
from rest_framework.fields import SkipField

# Defined in choices (plain Python) and still imported from here by the serializers.
from .choices import INT32_MAX, INT64_MAX, NAME_MAX  # noqa: F401

# The contract sets no upper bound on most strings; these keep a request from filling the
# database while leaving room for any real value (our rule, documented in the README).
TEXT_MAX = 4096
UNKNOWN_KEY = "This field is not part of the contract."


class StrictSerializer(serializers.Serializer):
    """Rejects keys the contract does not define, so no part of a request is silently dropped,
    and reports every problem of an object at once: unknown keys, each field's own errors, and
    the rules between fields (`field_rules`), which DRF's `validate()` would only reach once
    every field is fine."""

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            return super().to_internal_value(data)  # DRF's "expected a dictionary"
        errors = {key: [UNKNOWN_KEY] for key in sorted(set(data) - set(self.fields))}
        valid: dict = {}
        for field in self._writable_fields:
            check = getattr(self, f"validate_{field.field_name}", None)
            try:
                value = field.run_validation(field.get_value(data))
                if check is not None:
                    value = check(value)
            except serializers.ValidationError as error:
                errors[field.field_name] = error.detail
            except SkipField:
                pass
            else:
                self.set_value(valid, field.source_attrs, value)
        # A field with an error of its own gets no second message from a rule about it.
        for key, messages in self.field_rules(valid, failed=frozenset(errors)).items():
            errors.setdefault(key, messages)
        if errors:
            raise serializers.ValidationError(errors)
        return valid

    def field_rules(self, attrs: dict, failed: frozenset) -> dict[str, list[str]]:
        """{field: [messages]} broken by rules between fields, judged on the fields that passed
        (`attrs`); `failed` names the fields that have errors of their own."""
        return {}


class UniqueNamesListField(serializers.ListField):
    """A list of objects with unique names (env vars, connections): a repeated name is reported
    beside the items' own errors, not only once every item is valid."""

    def __init__(self, *, what: str, **kwargs):
        self.what = what
        super().__init__(**kwargs)

    def run_child_validation(self, data):
        result, errors = None, {}
        try:
            result = super().run_child_validation(data)
        except serializers.ValidationError as error:
            errors = dict(error.detail)
        seen = set()
        for index, item in enumerate(data):
            name = item.get("name") if isinstance(item, Mapping) else None
            if not isinstance(name, str):
                continue
            if name in seen:
                item_errors = errors.get(index, {})
                if isinstance(item_errors, Mapping) and "name" not in item_errors:
                    message = f"Another {self.what} is already named '{name}'."
                    errors[index] = {**item_errors, "name": [message]}
            seen.add(name)
        if errors:
            raise serializers.ValidationError({index: errors[index] for index in sorted(errors)})
        return result


class StrictBooleanField(serializers.BooleanField):
    """JSON booleans only: DRF would otherwise take "yes", 1 or "false" as a boolean."""

    default_error_messages = {"invalid": "Must be a boolean (true or false)."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    """JSON integers only: no strings, floats or booleans."""

    default_error_messages = {"invalid": "Must be an integer."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """JSON strings only (DRF would turn 12 into "12"), never trimmed: kept as sent."""

    default_error_messages = {"invalid": "Must be a string."}

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("max_length", TEXT_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictChoiceField(serializers.ChoiceField):
    default_error_messages = {"invalid_choice": "'{input}' is not one of: {choices}."}

    def __init__(self, choices, **kwargs):
        self._choice_list = list(choices)
        super().__init__(choices=self._choice_list, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or data not in self._choice_list:
            self.fail("invalid_choice", input=data, choices=", ".join(self._choice_list))
        return data


def optional(field_class, *args, **kwargs):
    """A field the contract marks optional and nullable."""
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_null", True)
    return field_class(*args, **kwargs)


class StrictUUIDField(serializers.UUIDField):
    """A uuid sent as a JSON string (DRF would turn the integer 1 into a uuid), kept as str."""

    default_error_messages = {"invalid": "Must be a UUID string."}

    def __init__(self, **kwargs):
        kwargs.setdefault("format", "hex_verbose")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))
