"""A password validator for AUTH_PASSWORD_VALIDATORS: the password must not contain the email.

Django's ``UserAttributeSimilarityValidator`` refuses passwords *similar* to the email; a
long password that merely contains it ("anna@example.com is my password") passes there.
"""

from django.core.exceptions import ValidationError


class NotContainingEmailValidator:
    def validate(self, password: str, user=None) -> None:
        email = (getattr(user, "email", "") or "").strip().casefold()
        if email and email in password.casefold():
            raise ValidationError("The password must not contain your email address.", code="password_contains_email")

    def get_help_text(self) -> str:
        return "Your password must not contain your email address."
