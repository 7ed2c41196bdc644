"""Scheduling endpoints (SPEC §3): blocked times and bookings for the merchant, and the
public availability and booking endpoints for customers.

Views validate (every 400 happens here, through ``config.api.exception_handler``) and
call one selector or service. Instants go out as ISO 8601 in the merchant's time zone.
https://www.django-rest-framework.org/api-guide/views/
"""

import datetime as dt

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.serializers import ErrorSerializer, StrictSerializer
from merchants.models import Merchant
from merchants.permissions import IsMerchant, merchant_for
from scheduling import selectors, services
from scheduling.fields import CustomerNameField, InstantField, RangeBoundField, TimeZoneNameField
from scheduling.localtime import local_midnight
from scheduling.models import BlockedTime
from scheduling.throttles import BookingAddressThrottle, BookingMerchantThrottle

MAX_RANGE = dt.timedelta(days=366)
DEFAULT_LIST_RANGE = dt.timedelta(days=366)
DEFAULT_AVAILABILITY_RANGE = dt.timedelta(days=7)
BOOKING_REFUSALS = (
    "Not bookable (409, `code`): overlaps a booking, the buffer after one or a blocked time (`unavailable`), "
    "lies outside business hours (`outside_business_hours`), has begun (`in_past`), is not one of the offered "
    "slots: a length the merchant does not offer or a start off the slot grid (`not_offered`), starts inside "
    "the minimum notice (`too_soon`) or beyond how far ahead bookings open (`too_far_ahead`)"
)


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


AUTH_ERRORS = {
    401: _error("Not authenticated."),
    403: _error("Authenticated, but not a merchant account."),
}


def _check_range(start: dt.datetime, end: dt.datetime) -> None:
    if end <= start:
        raise serializers.ValidationError({"end": ["Must be after start."]})
    if end - start > MAX_RANGE:
        raise serializers.ValidationError({"end": [f"The range may span at most {MAX_RANGE.days} days."]})


class RangeQuerySerializer(serializers.Serializer):
    """``start``/``end`` of a listing; default: from today's local midnight, 366 days."""

    start = RangeBoundField(
        required=False,
        help_text="ISO 8601 date-time with offset, or a date / date-time in the merchant's zone. "
        "Default: today 00:00 in the merchant's zone.",
    )
    end = RangeBoundField(
        required=False, help_text="Exclusive. Default: start + 366 days. At most 366 days after start."
    )

    def validate(self, attrs):
        start = attrs.get("start") or local_midnight(
            timezone.now().astimezone(self.context["zone"]).date(), self.context["zone"]
        )
        end = attrs.get("end") or start + DEFAULT_LIST_RANGE
        _check_range(start, end)
        return {"start": start, "end": end}


def _pk_or_404(pk: str) -> int:
    """Path ids are matched as strings so that ``/blocked-times/abc`` is a JSON 404, not an HTML one."""
    if not pk.isdigit() or int(pk) >= 2**63:
        raise Http404
    return int(pk)


class BlockedTimesView(APIView):
    permission_classes = [IsMerchant]

    class BlockedTimeOutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        start = InstantField()
        end = InstantField()
        all_day = serializers.BooleanField()
        source = serializers.ChoiceField(choices=BlockedTime.Source.choices)
        source_name = serializers.CharField(
            source="provider_name",
            allow_null=True,
            help_text="The provider's display name (e.g. `Google Calendar`); null for manual blocks.",
        )
        calendar = serializers.SerializerMethodField(help_text="The synced calendar's name; null for manual blocks.")
        reason = serializers.SerializerMethodField(
            help_text="Why a synced block blocks, never what the event was: `busy` (a busy event), `tentative` "
            "(a tentative event, blocked because block_tentative is on), `all_day` (an all-day event, blocked "
            "because block_all_day is on). Null for manual blocks."
        )
        note = serializers.SerializerMethodField(help_text="The merchant's own note; null for synced blocks.")

        def get_calendar(self, obj) -> str | None:
            return obj.calendar.summary if obj.calendar_id else None

        @extend_schema_field(serializers.ChoiceField(choices=BlockedTime.Reason.choices, allow_null=True))
        def get_reason(self, obj) -> str | None:
            return (obj.reason or None) if obj.is_synced else None

        def get_note(self, obj) -> str | None:
            return None if obj.is_synced else obj.note

    class BlockedTimeInputSerializer(StrictSerializer):
        start = InstantField()
        end = InstantField()
        note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

        def validate(self, attrs):
            _check_range(attrs["start"], attrs["end"])
            return attrs

    @extend_schema(
        operation_id="blocked_times_list",
        tags=["blocked times"],
        parameters=[RangeQuerySerializer],
        responses={200: BlockedTimeOutputSerializer(many=True), 400: _error("Bad range."), **AUTH_ERRORS},
        description="The merchant's blocked times overlapping [start, end).",
    )
    def get(self, request):
        merchant = merchant_for(request)
        context = {"zone": merchant.zone}
        query = RangeQuerySerializer(data=request.query_params, context=context)
        query.is_valid(raise_exception=True)
        blocked = selectors.blocked_times_in_range(merchant=merchant, **query.validated_data)
        return Response(self.BlockedTimeOutputSerializer(blocked, many=True, context=context).data)

    @extend_schema(
        operation_id="blocked_times_create",
        tags=["blocked times"],
        request=BlockedTimeInputSerializer,
        responses={201: BlockedTimeOutputSerializer, 400: _error("Bad input."), **AUTH_ERRORS},
        description="Create a manual blocked time. Instants need a UTC offset; at most 366 days long.",
    )
    def post(self, request):
        merchant = merchant_for(request)
        context = {"zone": merchant.zone}
        serializer = self.BlockedTimeInputSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        blocked = services.blocked_time_create(merchant=merchant, **serializer.validated_data)
        return Response(self.BlockedTimeOutputSerializer(blocked, context=context).data, status=status.HTTP_201_CREATED)


class BlockedTimeDetailView(APIView):
    permission_classes = [IsMerchant]

    @extend_schema(
        operation_id="blocked_times_delete",
        tags=["blocked times"],
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        responses={
            204: None,
            404: _error("No such blocked time of this merchant."),
            409: _error("A synced blocked time: read-only."),
            **AUTH_ERRORS,
        },
    )
    def delete(self, request, pk: str):
        blocked = get_object_or_404(BlockedTime, pk=_pk_or_404(pk), merchant=merchant_for(request))
        services.blocked_time_delete(blocked_time=blocked)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BookingOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    start = InstantField()
    end = InstantField()
    customer_name = serializers.CharField()
    customer_email = serializers.EmailField()
    # A plain string in the schema: an enum named "status" would collide with the connections' one.
    status = serializers.CharField(help_text="`confirmed`, or `cancelled` (kept for history; its time is free).")
    created_at = InstantField()


class BookingInputSerializer(StrictSerializer):
    start = InstantField()
    end = InstantField()
    customer_name = CustomerNameField()
    customer_email = serializers.EmailField(max_length=254)

    def validate(self, attrs):
        _check_range(attrs["start"], attrs["end"])
        return attrs


class BookingsView(APIView):
    permission_classes = [IsMerchant]

    @extend_schema(
        operation_id="bookings_create",
        tags=["bookings"],
        request=BookingInputSerializer,
        responses={
            201: BookingOutputSerializer,
            400: _error("Bad input."),
            409: _error("Overlaps a booking or blocked time (`unavailable`) or has begun (`in_past`)."),
            **AUTH_ERRORS,
        },
        description="The merchant books a customer in: any free time, inside or outside business hours, "
        "without the booking rules that apply to customers. The customer gets the confirmation email.",
    )
    def post(self, request):
        merchant = merchant_for(request)
        context = {"zone": merchant.zone}
        serializer = BookingInputSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        booking = services.booking_create(merchant=merchant, public=False, **serializer.validated_data)
        return Response(BookingOutputSerializer(booking, context=context).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="bookings_list",
        tags=["bookings"],
        parameters=[RangeQuerySerializer],
        responses={200: BookingOutputSerializer(many=True), 400: _error("Bad range."), **AUTH_ERRORS},
        description="The merchant's bookings overlapping [start, end).",
    )
    def get(self, request):
        merchant = merchant_for(request)
        context = {"zone": merchant.zone}
        query = RangeQuerySerializer(data=request.query_params, context=context)
        query.is_valid(raise_exception=True)
        bookings = selectors.bookings_in_range(merchant=merchant, **query.validated_data)
        return Response(BookingOutputSerializer(bookings, many=True, context=context).data)


class PublicView(APIView):
    """Customers' endpoints: no login, and no session either (so no CSRF token is demanded)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @staticmethod
    def merchant(slug: str) -> Merchant:
        return get_object_or_404(Merchant, slug=slug)


class PublicBookingCreateView(PublicView):
    throttle_classes = [BookingAddressThrottle, BookingMerchantThrottle]

    class PublicBookingInputSerializer(BookingInputSerializer):
        customer_time_zone = TimeZoneNameField(
            help_text="Optional: the customer's IANA zone, so emails show their times too."
        )

    class PublicBookingOutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        start = InstantField()
        end = InstantField()
        customer_name = serializers.CharField()
        customer_email = serializers.EmailField()

    @extend_schema(
        operation_id="public_bookings_create",
        tags=["public"],
        auth=[],
        request=PublicBookingInputSerializer,
        responses={
            201: PublicBookingOutputSerializer,
            400: _error("Bad input."),
            404: _error("No merchant with this slug."),
            409: _error(
                BOOKING_REFUSALS + ", or the email already holds `BOOKING_MAX_ACTIVE_PER_EMAIL` upcoming "
                "bookings with this merchant (`too_many_bookings`)."
            ),
            429: _error(
                "Too many bookings from this address (`BOOKING_RATE_PER_ADDRESS`) or for this merchant "
                "(`BOOKING_RATE_PER_MERCHANT`): `rate_limited`, with `Retry-After`."
            ),
        },
        description="Book one of the offered slots (as the availability endpoint lists them). The customer "
        "gets a confirmation email with a calendar invitation and the link to manage the booking; the "
        "merchant gets a notice. `customer_name` may hold no control or formatting characters.",
    )
    def post(self, request, slug: str):
        merchant = self.merchant(slug)
        context = {"zone": merchant.zone}
        serializer = self.PublicBookingInputSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        booking = services.booking_create(merchant=merchant, **serializer.validated_data)
        return Response(
            self.PublicBookingOutputSerializer(booking, context=context).data, status=status.HTTP_201_CREATED
        )


class SlotSerializer(serializers.Serializer):
    start = InstantField()
    end = InstantField()


class AvailabilityOutputSerializer(serializers.Serializer):
    time_zone = serializers.CharField(help_text="The merchant's IANA time zone; slots carry its offset.")
    slots = SlotSerializer(many=True)


class PublicAvailabilityView(PublicView):
    class AvailabilityQuerySerializer(serializers.Serializer):
        start = RangeBoundField(required=False, help_text="Default: now.")
        end = RangeBoundField(
            required=False, help_text="Exclusive. Default: start + 7 days. At most 366 days after start."
        )
        duration = serializers.IntegerField(
            required=False,
            min_value=5,
            max_value=24 * 60,
            help_text="Slot length in minutes, one of the merchant's offered lengths. Default: the shortest.",
        )

        def validate(self, attrs):
            start = attrs.get("start") or timezone.now()
            end = attrs.get("end") or start + DEFAULT_AVAILABILITY_RANGE
            _check_range(start, end)
            offered = self.context["slot_lengths"]
            minutes = attrs.get("duration") or min(offered)
            if minutes not in offered:
                lengths = ", ".join(str(m) for m in sorted(offered))
                raise serializers.ValidationError({"duration": [f"Not offered; this merchant offers {lengths}."]})
            return {"start": start, "end": end, "duration": dt.timedelta(minutes=minutes)}

    @extend_schema(
        operation_id="public_availability",
        tags=["public"],
        auth=[],
        parameters=[AvailabilityQuerySerializer],
        responses={
            200: AvailabilityOutputSerializer,
            400: _error("Bad query."),
            404: _error("No merchant with this slug."),
        },
        description=(
            "Free slots: business hours minus bookings minus blocked times, never any event detail. "
            "Slots are `duration` minutes long and step by `duration` from the start of each business-hours "
            "interval (touching intervals count as one), in elapsed time, so across a DST change every slot is "
            "still exactly `duration` long and wall-clock times that do not exist are never offered. "
            "The merchant's booking rules apply: `duration` must be an offered length, slots start no sooner "
            "than the minimum notice and no later than how far ahead bookings open, and the buffer after every "
            "booking stays free. Only whole slots inside [start, end) are offered."
        ),
    )
    def get(self, request, slug: str):
        merchant = self.merchant(slug)
        query = self.AvailabilityQuerySerializer(
            data=request.query_params, context={"zone": merchant.zone, "slot_lengths": merchant.slot_lengths}
        )
        query.is_valid(raise_exception=True)
        slots = selectors.public_slots(merchant=merchant, **query.validated_data)
        zone = merchant.zone
        # Rendered by hand: a year of 5-minute slots is ~100,000 items, too many for field-by-field
        # serialization; the shape is AvailabilityOutputSerializer's.
        return Response(
            {
                "time_zone": merchant.time_zone,
                "slots": [
                    {"start": s.astimezone(zone).isoformat(), "end": e.astimezone(zone).isoformat()} for s, e in slots
                ],
            }
        )
