"""``GET /app/live/<token>``: the week view's cheap conditional poll of the merchant's change counter.

The open week page asks about once a second with ``If-None-Match``; this view reads one
cache key (``scheduling.changes``) and answers ``304 Not Modified`` with no body, or 200
``{"version": n}`` with ``ETag: "n"`` when the counter moved, and the page then re-fetches its
grid. No database query and no session: the token in the URL is the merchant's id signed
with ``SECRET_KEY`` (it reveals only a counter), so the request never loads the session or
the user. :class:`LivePollMiddleware` (second in ``MIDDLEWARE``, after Django's security
headers) answers these requests before the rest of the stack (static files, sessions, CSRF,
auth, messages) and the URL resolver run, since none of them has anything to do here; the
URL route stays for anything that reaches it otherwise. A poll holds a worker for a fraction
of a millisecond instead of a connection per open page (figures: docs/BENCHMARKS.md).
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


PREFIX = "/app/live/"


class LivePollMiddleware:
    """Serve ``GET /app/live/<token>`` at once; every other request goes down the stack."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if request.method == "GET" and path.startswith(PREFIX) and "/" not in path[len(PREFIX) :]:
            try:
                return _answer(request, path[len(PREFIX) :])
            except Http404:
                pass  # the normal 404 page
        return self.get_response(request)


@require_GET
def live_version(request, token: str) -> HttpResponse:
    return _answer(request, token)


def _answer(request, token: str) -> HttpResponse:
    version = changes_version(_merchant_id(token))
    etag = f'"{version}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        response = JsonResponse({"version": version})
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache, private"
    return response
