"""The product's URLs plus ``/bench/bare``: a view that answers 200 with an empty body.

The webhook benchmark compares the watch endpoint with this view served by the same
gunicorn, middleware included, so the ratio isolates what the endpoint itself costs.
"""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from bench.harness import BARE_PATH
from config.urls import urlpatterns as product_urlpatterns


@csrf_exempt
def bare(request):
    return HttpResponse(status=200)


urlpatterns = [path(BARE_PATH.lstrip("/"), bare, name="bench-bare"), *product_urlpatterns]
