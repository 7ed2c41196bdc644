"""Managing a booking (SPEC §11): the customer's token endpoints and the merchant's cancel.

- ``POST /api/v1/public/bookings/{token}/cancel``: 204;
- ``POST /api/v1/public/bookings/{token}/reschedule`` ``{"start", "end"}``: 200, under the
  rules of a new public booking (race-free: the same merchant lock);
- ``DELETE /api/v1/merchant/bookings/{id}``: 204; another merchant's booking is a 404.

The token is the one in the customer's emails (``scheduling.tokens``); an unknown or
tampered token is a 404. Cancelled bookings are kept with status ``cancelled``.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.serializers import StrictSerializer
from merchants.permissions import IsMerchant, merchant_for
from scheduling import services
from scheduling.api import (
    AUTH_ERRORS,
    BOOKING_REFUSALS,
    PublicBookingCreateView,
    PublicView,
    _check_range,
    _error,
    _pk_or_404,
)
from scheduling.fields import InstantField
from scheduling.models import Booking
from scheduling.selectors import booking_for_merchant
from scheduling.throttles import BookingAddressThrottle
from scheduling.tokens import booking_uid_from_token

TOKEN = OpenApiParameter(
    "token",
    str,
    OpenApiParameter.PATH,
    pattern=r"^[0-9a-f]{32}\.[A-Za-z0-9_-]{20,}$",
    description="The token of the customer's manage link (the booking's UID, a dot, its signature).",
)


def booking_for_token(token: str) -> Booking:
    uid = booking_uid_from_token(token)
    booking = Booking.objects.select_related("merchant").filter(uid=uid).first() if uid else None
    if booking is None:
        raise Http404("No such booking.")
    return booking


class PublicBookingCancelView(PublicView):
    @extend_schema(
        operation_id="public_bookings_cancel",
        tags=["public"],
        auth=[],
        request=None,
        parameters=[TOKEN],
        responses={
            204: None,
            404: _error("Unknown or tampered token."),
            409: _error("The booking has begun (`in_past`)."),
        },
        description="The customer cancels: the time is free at once, the merchant gets a notice and the "
        "customer a cancellation with a METHOD:CANCEL invitation. Cancelling again changes nothing (204).",
    )
    def post(self, request, token: str):
        services.booking_cancel(booking=booking_for_token(token), by=Booking.By.CUSTOMER)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PublicBookingRescheduleView(PublicView):
    throttle_classes = [BookingAddressThrottle]

    class RescheduleInputSerializer(StrictSerializer):
        start = InstantField()
        end = InstantField()

        def validate(self, attrs):
            _check_range(attrs["start"], attrs["end"])
            return attrs

    @extend_schema(
        operation_id="public_bookings_reschedule",
        tags=["public"],
        auth=[],
        parameters=[TOKEN],
        request=RescheduleInputSerializer,
        responses={
            200: PublicBookingCreateView.PublicBookingOutputSerializer,
            400: _error("Bad input."),
            404: _error("Unknown or tampered token."),
            409: _error(BOOKING_REFUSALS + ", or the booking was cancelled (`cancelled`)."),
            429: _error("Too many attempts from this address: `rate_limited`, with `Retry-After`."),
        },
        description="The customer moves the booking to another offered slot, under the rules of a new "
        "booking. Its invitation keeps its UID with a higher SEQUENCE; both parties get an email.",
    )
    def post(self, request, token: str):
        booking = booking_for_token(token)
        context = {"zone": booking.merchant.zone}
        serializer = self.RescheduleInputSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        booking = services.booking_reschedule(booking=booking, **serializer.validated_data)
        output = PublicBookingCreateView.PublicBookingOutputSerializer(booking, context=context)
        return Response(output.data)


class MerchantBookingDetailView(APIView):
    permission_classes = [IsMerchant]

    @extend_schema(
        operation_id="bookings_cancel",
        tags=["bookings"],
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        responses={204: None, 404: _error("No such booking of this merchant."), **AUTH_ERRORS},
        description="The merchant cancels a booking: it is kept with status `cancelled`, its time is free at "
        "once and the customer gets a cancellation email with a METHOD:CANCEL invitation.",
    )
    def delete(self, request, pk: str):
        booking = booking_for_merchant(merchant=merchant_for(request), booking_id=_pk_or_404(pk))
        if booking is None:
            raise Http404("No such booking.")
        services.booking_cancel(booking=booking, by=Booking.By.MERCHANT)
        return Response(status=status.HTTP_204_NO_CONTENT)
