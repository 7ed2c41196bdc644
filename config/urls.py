from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.health import health

api_v1 = [
    path("", include("merchants.api_urls")),
    path("", include("scheduling.urls")),
    path("", include("integrations.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script as a file (?script=), so the page needs no
    # inline script; Swagger UI does need its inline <style> block.
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="api-docs",
    ),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("health/", health, name="health"),
    path("", include("merchants.urls")),
    path("", include("scheduling.web_urls")),
    path("", include("integrations.web_urls")),
]

handler404 = "config.api.page_not_found"
handler500 = "config.api.server_error"
