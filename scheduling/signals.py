"""What other apps hook into bookings without scheduling importing them (Django signals).

- ``booking_changed`` is sent once a booking's creation, move or cancellation has
  committed (``booking_id``): integrations copies it into the merchant's own calendars
  (SPEC §10).
- ``live_check`` is sent before a public booking takes the merchant's row lock
  (``merchant``, ``start``, ``end``): a receiver answers True when a provider says the
  interval is busy right now (SPEC §11), None when it cannot tell. Any True refuses the
  booking; receivers keep to their own deadline.
https://docs.djangoproject.com/en/5.2/topics/signals/
"""

from django.dispatch import Signal

booking_changed = Signal()
live_check = Signal()
