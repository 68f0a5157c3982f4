"""Building blocks for serializers that mirror the OpenAPI contract exactly."""

from rest_framework import serializers

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
# The contract sets no upper bound on most strings; these keep a request from filling the
# database while leaving room for any real value (our rule, documented in the README).
TEXT_MAX = 4096
NAME_MAX = 255


class StrictSerializer(serializers.Serializer):
    """Rejects keys the contract does not define, so no part of a request is silently dropped."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {key: ["This field is not part of the contract."] for key in unknown}
                )
        return super().to_internal_value(data)


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
