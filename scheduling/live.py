"""``GET /app/live/<token>``: the week view's cheap conditional poll of the merchant's change counter.

The open week page asks about once a second with ``If-None-Match``; this view reads one
cache key (``scheduling.changes``) and answers ``304 Not Modified`` with no body, or 200
``{"version": n}`` with ``ETag: "n"`` when the counter moved, and the page then re-fetches its
grid. No database query and no session: the token in the URL is the merchant's id signed
with ``SECRET_KEY`` (it reveals only a counter), so the request never loads the session or
the user. A poll holds a worker for well under a millisecond of work instead of a
connection per open page (figures: docs/BENCHMARKS.md).
https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Status/304
"""

from __future__ import annotations

from django.core import signing
from django.http import Http404, HttpResponse, HttpResponseNotModified, JsonResponse
from django.views.decorators.http import require_GET

from scheduling.changes import changes_version

SALT = "scheduling.live"


def live_token(merchant_id: int) -> str:
    return signing.Signer(salt=SALT, sep=".").sign(str(merchant_id))


def _merchant_id(token: str) -> int:
    try:
        value = signing.Signer(salt=SALT, sep=".").unsign(token)
    except signing.BadSignature as exc:
        raise Http404("No such feed.") from exc
    return int(value)


@require_GET
def live_version(request, token: str) -> HttpResponse:
    version = changes_version(_merchant_id(token))
    etag = f'"{version}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        response = JsonResponse({"version": version})
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache, private"
    return response
