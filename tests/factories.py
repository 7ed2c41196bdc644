"""Factories for the models every test suite needs."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model

from merchants.models import BusinessHours, Merchant


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    email = factory.Sequence(lambda n: f"merchant{n}@example.com")
    username = factory.SelfAttribute("email")
    password = factory.django.Password("correct horse battery staple")


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Salon {n}")
    slug = factory.Sequence(lambda n: f"salon-{n}")
    time_zone = "Europe/Berlin"

    @factory.post_generation
    def hours(self, create, extracted, **kwargs):
        """Monday-Friday 09:00-17:00 unless ``hours=[(weekday, "HH:MM", "HH:MM"), ...]`` is given."""
        if not create:
            return
        spec = extracted if extracted is not None else [(d, "09:00", "17:00") for d in range(5)]
        BusinessHours.objects.bulk_create(
            BusinessHours(merchant=self, weekday=d, start=dt.time.fromisoformat(s), end=dt.time.fromisoformat(e))
            for d, s, e in spec
        )

    @factory.post_generation
    def rules(self, create, extracted, **kwargs):
        """Booking rules other than the product's defaults: ``rules={"buffer_minutes": 10, ...}``."""
        if not create or not extracted:
            return
        for name, value in extracted.items():
            setattr(self, name, value)
        self.save(update_fields=list(extracted))


# Booking rules that let tests about availability itself (grids, DST, sweeps) book any length,
# any time from now, up to a year and more ahead.
OPEN_RULES = {
    "slot_lengths": list(range(5, 24 * 60 + 1, 5)),
    "minimum_notice_minutes": 0,
    "max_days_ahead": 4000,
}
