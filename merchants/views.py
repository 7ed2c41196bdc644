"""Account pages: sign-up (login and logout are Django's auth views, see ``merchants/urls.py``)."""

from django.conf import settings
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from config.api import ApplicationError
from merchants.forms import SignupForm
from merchants.services import merchant_create


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated and hasattr(request.user, "merchant"):
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            merchant = merchant_create(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                name=form.cleaned_data["name"],
                time_zone=form.cleaned_data["time_zone"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            login(request, merchant.user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "registration/signup.html", {"form": form})
