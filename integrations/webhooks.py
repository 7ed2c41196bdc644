"""Google's push notifications (SPEC §3, §5). Filled in by the sync engine work."""

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@require_POST
def google_calendar_watch(request):
    return HttpResponse(status=200)
