"""API access for merchants: an authenticated user who owns a merchant account.

Use ``permission_classes = [IsMerchant]`` and :func:`merchant_for` in ``/merchant/`` views.
"""

from rest_framework.permissions import IsAuthenticated

from merchants.models import Merchant


class IsMerchant(IsAuthenticated):
    """Authenticated (else 401) and owns a merchant (else 403, e.g. a staff-only user)."""

    message = "This account has no merchant profile."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        try:
            request.user.merchant  # noqa: B018 - loads and caches the reverse one-to-one
        except Merchant.DoesNotExist:
            return False
        return True


def merchant_for(request) -> Merchant:
    """The merchant owning the request's user; only call behind :class:`IsMerchant`."""
    return request.user.merchant
