"""Account pages: sign-up (login and logout are Django's auth views, see ``merchants/urls.py``).

Sign-up never tells whether an email has an account (SPEC §12): step 1 always ends on the
same "check your inbox" page; the emailed link (step 2) is where the password is chosen and
the account created (``merchants.services.signup_request``).
"""

from django.conf import settings
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from config.api import ApplicationError
from merchants.forms import SignupForm, SignupPasswordForm
from merchants.services import merchant_create, signup_link_read, signup_request


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated and hasattr(request.user, "merchant"):
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        signup_request(
            email=form.cleaned_data["email"], name=form.cleaned_data["name"], time_zone=form.cleaned_data["time_zone"]
        )
        return redirect("signup-sent")
    return render(request, "registration/signup.html", {"form": form})


@require_http_methods(["GET"])
def signup_sent(request):
    return render(request, "registration/signup_sent.html")


@require_http_methods(["GET", "POST"])
def signup_confirm(request):
    token = request.POST.get("token") or request.GET.get("token") or ""
    try:
        signup = signup_link_read(token)
    except ApplicationError as exc:
        return render(request, "registration/signup_confirm.html", {"link_error": exc.message}, status=400)
    form = SignupPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            merchant = merchant_create(
                email=signup["email"],
                password=form.cleaned_data["password"],
                name=signup["name"],
                time_zone=signup["time_zone"],
            )
        except ApplicationError as exc:
            form.add_error("password" if exc.message.startswith("Password") else None, exc.message)
        else:
            login(request, merchant.user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(settings.LOGIN_REDIRECT_URL)
    context = {"form": form, "token": token, "signup": signup}
    return render(request, "registration/signup_confirm.html", context)
