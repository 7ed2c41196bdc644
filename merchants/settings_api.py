"""The merchant's own settings through the API (SPEC §11): business hours and booking rules.

- ``GET``/``PUT /api/v1/merchant/business-hours``: the whole week as a list of intervals
  ``{"weekday": 0-6 (Monday = 0), "start": "HH:MM", "end": "HH:MM"}``, several a day, any
  day. PUT replaces the week; it takes ``{"intervals": [...]}`` (or the bare list). Overlaps
  within a day or an end not after its start are a 400 naming the interval; nothing changes.
- ``GET``/``PATCH /api/v1/merchant/booking-rules``: ``slot_lengths`` (minutes),
  ``buffer_minutes``, ``minimum_notice_minutes``, ``max_days_ahead``.
"""

from __future__ import annotations

from collections.abc import Mapping

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.serializers import ErrorSerializer, StrictSerializer
from merchants import services
from merchants.permissions import IsMerchant, merchant_for

AUTH_ERRORS = {
    401: OpenApiResponse(ErrorSerializer, description="Not authenticated."),
    403: OpenApiResponse(ErrorSerializer, description="Authenticated, but not a merchant account."),
}
WEEKDAYS = {name.lower(): index for index, name in enumerate(services.WEEKDAY_NAMES)}


class WeekdayField(serializers.IntegerField):
    """0 (Monday) to 6 (Sunday); a day's English name is accepted too."""

    def to_internal_value(self, data):
        if isinstance(data, str) and data.strip().lower() in WEEKDAYS:
            return WEEKDAYS[data.strip().lower()]
        return super().to_internal_value(data)


class IntervalSerializer(StrictSerializer):
    weekday = WeekdayField(min_value=0, max_value=6, help_text="0 = Monday ... 6 = Sunday.")
    start = serializers.TimeField(format="%H:%M", input_formats=["%H:%M", "%H:%M:%S"])
    end = serializers.TimeField(format="%H:%M", input_formats=["%H:%M", "%H:%M:%S"])


class BusinessHoursSerializer(serializers.Serializer):
    time_zone = serializers.CharField(read_only=True, help_text="The merchant's zone: the times are wall-clock there.")
    intervals = IntervalSerializer(many=True)


class BusinessHoursInputSerializer(StrictSerializer):
    intervals = IntervalSerializer(many=True, allow_empty=True)

    def to_internal_value(self, data):
        if isinstance(data, list):  # the bare list
            data = {"intervals": data}
        return super().to_internal_value(data)


def _hours_body(merchant) -> dict:
    return BusinessHoursSerializer(
        {
            "time_zone": merchant.time_zone,
            "intervals": [
                {"weekday": h.weekday, "start": h.start, "end": h.end} for h in merchant.business_hours.all()
            ],
        }
    ).data


class BusinessHoursView(APIView):
    permission_classes = [IsMerchant]

    @extend_schema(
        operation_id="business_hours_get",
        tags=["settings"],
        responses={200: BusinessHoursSerializer, **AUTH_ERRORS},
        description="The week's opening intervals in the merchant's zone, sorted by day and start.",
    )
    def get(self, request):
        return Response(_hours_body(merchant_for(request)))

    @extend_schema(
        operation_id="business_hours_replace",
        tags=["settings"],
        request=BusinessHoursInputSerializer,
        responses={
            200: BusinessHoursSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Bad input, an overlap or an end not after its start."),
            **AUTH_ERRORS,
        },
        description="Replace the whole week. Several intervals a day, any day; intervals of one day may touch "
        "(09:00-12:00 and 12:00-17:00) but not overlap. A day without intervals is closed. Existing bookings "
        "stay as they are.",
    )
    def put(self, request):
        merchant = merchant_for(request)
        serializer = BusinessHoursInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.business_hours_replace(
            merchant=merchant,
            intervals=[(i["weekday"], i["start"], i["end"]) for i in serializer.validated_data["intervals"]],
        )
        merchant.refresh_from_db()
        return Response(_hours_body(merchant))


class BookingRulesSerializer(StrictSerializer):
    slot_lengths = serializers.ListField(
        child=serializers.IntegerField(min_value=5, max_value=24 * 60),
        allow_empty=False,
        max_length=24,
        help_text="Appointment lengths customers may book, in minutes. Default: [30, 60].",
    )
    buffer_minutes = serializers.IntegerField(min_value=0, max_value=240, help_text="Kept free after a booking.")
    minimum_notice_minutes = serializers.IntegerField(
        min_value=0, max_value=60 * 24 * 30, help_text="Default: 120 (two hours)."
    )
    max_days_ahead = serializers.IntegerField(min_value=1, max_value=730, help_text="Default: 60.")


def _rules_body(merchant) -> dict:
    return BookingRulesSerializer(merchant).data


class BookingRulesView(APIView):
    permission_classes = [IsMerchant]

    @extend_schema(
        operation_id="booking_rules_get",
        tags=["settings"],
        responses={200: BookingRulesSerializer, **AUTH_ERRORS},
        description="The rules public bookings follow; the merchant's own API bookings may take any free time.",
    )
    def get(self, request):
        return Response(_rules_body(merchant_for(request)))

    @extend_schema(
        operation_id="booking_rules_update",
        tags=["settings"],
        request=BookingRulesSerializer(partial=True),
        responses={200: BookingRulesSerializer, 400: OpenApiResponse(ErrorSerializer), **AUTH_ERRORS},
        description="Change some or all rules. Existing bookings stay as they are.",
    )
    def patch(self, request):
        serializer = BookingRulesSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not isinstance(request.data, Mapping) or not data:
            raise serializers.ValidationError("Give at least one rule to change.")
        merchant = services.booking_rules_update(merchant=merchant_for(request), **data)
        return Response(_rules_body(merchant))
