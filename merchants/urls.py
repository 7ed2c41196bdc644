"""Account pages, included at the site root."""

from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from merchants import settings_page, views
from merchants.forms import EmailAuthenticationForm

urlpatterns = [
    path("", RedirectView.as_view(url="/app/", permanent=False), name="home"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/signup/sent/", views.signup_sent, name="signup-sent"),
    path("accounts/signup/confirm/", views.signup_confirm, name="signup-confirm"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("app/settings", settings_page.settings_page, name="settings"),
]
