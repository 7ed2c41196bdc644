"""Merchant web pages of the scheduling app, included at the site root."""

from django.urls import path

from scheduling import web

urlpatterns = [
    path("app/", web.week, name="week"),
]
