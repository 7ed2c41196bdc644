from django.urls import path

from merchants import api

app_name = "merchants_api"

urlpatterns = [
    path("auth/token", api.AuthTokenView.as_view(), name="auth-token"),
]
