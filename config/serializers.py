"""Input serializers that refuse what they do not know (SPEC §3: unknown fields are a 400).

DRF silently drops unknown keys; a typo such as ``"strat"`` would then turn into a
confusing "start: required" or, worse, a default. :class:`StrictSerializer` names them.
https://www.django-rest-framework.org/api-guide/serializers/#validation
"""

from collections.abc import Mapping

from rest_framework import serializers
from rest_framework.settings import api_settings


class StrictSerializer(serializers.Serializer):
    """A plain input serializer whose body must be a JSON object with only known fields."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {api_settings.NON_FIELD_ERRORS_KEY: [f"Unknown field(s): {', '.join(unknown)}."]}
                )
        return super().to_internal_value(data)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """The one error shape, ``{"error": {"code", "message"}}``, for OpenAPI responses."""

    error = ErrorDetailSerializer()
