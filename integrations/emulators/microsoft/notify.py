"""Change and lifecycle notification delivery (Graph -> the subscriber), off the request thread,
and the synchronous validation handshake.

A delivery is one POST with ``{"value": [...]}``; any 2xx counts as delivered, anything
else (or no answer) is retried after the configured delays, then dropped (Graph retries
for up to 4 hours with exponential backoff; the emulator's delays are short and
configurable). https://learn.microsoft.com/en-us/graph/change-notifications-delivery-webhooks
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import json
import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

# sender(url, headers, body) -> (status, content-type, body text), or just the status
Sender = Callable[[str, dict[str, str], bytes], tuple[int, str, str]]
UNROUTABLE_HOSTS = {"testserver"}


def http_send(url: str, headers: dict[str, str], body: bytes, timeout: float) -> tuple[int, str, str]:
    parts = urlsplit(url)
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", path, body=body, headers={**headers, "Content-Length": str(len(body))})
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        return response.status, response.getheader("Content-Type") or "", text
    finally:
        connection.close()


@dataclass
class Delivery:
    url: str
    items: list[dict]
    kind: str  # "change" or "lifecycle"
    subscription_ids: tuple[str, ...]
    generation: int
    attempt: int = 0

    def body(self) -> bytes:
        return json.dumps({"value": self.items}).encode()


class Dispatcher:
    def __init__(self, *, retry_delays: tuple[float, ...], timeout: float = 5.0):
        self.retry_delays = retry_delays
        self.timeout = timeout
        self.sender: Sender | None = None
        self.generation = 0
        self.log: list[dict] = []
        self.is_live: Callable[[Delivery], bool] = lambda delivery: True
        self._cond = threading.Condition()
        self._heap: list = []
        self._counter = itertools.count()
        self._in_flight = 0
        self._paused = False
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread and self._thread.is_alive():
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="microsoft-emulator-notify", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread:
            self._thread.join(timeout=5)
        self._thread = None

    def clear(self) -> None:
        with self._cond:
            self.generation += 1
            self._heap.clear()
            self.log = []
            self._paused = False
            self.sender = None
            self._cond.notify_all()

    def enqueue(self, delivery: Delivery) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic(), next(self._counter), delivery))
            self._cond.notify_all()

    def pause(self) -> None:
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def wait(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while (self._heap and not self._paused) or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    def deliver_now(self, sender: Sender | None = None) -> list[dict]:
        """Deliver everything queued in the calling thread (retries at once); the log entries."""
        entries: list[dict] = []
        while True:
            with self._cond:
                if not self._heap:
                    return entries
                _, _, delivery = heapq.heappop(self._heap)
            while True:
                entry = self._deliver(delivery, sender)
                entries.append(entry)
                if entry["outcome"] != "retrying":
                    break
                delivery.attempt += 1

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    if self._heap and not self._paused:
                        due = self._heap[0][0] - time.monotonic()
                        if due <= 0:
                            break
                        self._cond.wait(due)
                    else:
                        self._cond.wait()
                if self._stopping:
                    return
                _, _, delivery = heapq.heappop(self._heap)
                self._in_flight += 1
            try:
                entry = self._deliver(delivery, None)
                if entry["outcome"] == "retrying":
                    delivery.attempt += 1
                    with self._cond:
                        due = time.monotonic() + self.retry_delays[delivery.attempt - 1]
                        heapq.heappush(self._heap, (due, next(self._counter), delivery))
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _deliver(self, delivery: Delivery, sender: Sender | None) -> dict:
        headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "text/plain"}
        entry = {
            "url": delivery.url,
            "kind": delivery.kind,
            "value": delivery.items,
            "attempt": delivery.attempt + 1,
            "status": None,
            "error": None,
            "time": time.time(),
        }
        if delivery.generation != self.generation or not self.is_live(delivery):
            entry["outcome"] = "skipped"
            return self._record(entry)
        send = sender or self.sender
        host = urlsplit(delivery.url).hostname or ""
        try:
            if send is None and host in UNROUTABLE_HOSTS:
                raise OSError(f"unroutable host {host!r}: register a sender to deliver there")
            if send:
                answer = send(delivery.url, headers, delivery.body())
            else:
                answer = http_send(delivery.url, headers, delivery.body(), self.timeout)
            entry["status"] = int(answer[0] if isinstance(answer, tuple) else answer)
        except OSError as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
        if entry["status"] is not None and 200 <= entry["status"] < 300:
            entry["outcome"] = "delivered"
        elif delivery.attempt < len(self.retry_delays):
            entry["outcome"] = "retrying"
        else:
            entry["outcome"] = "dropped"
        return self._record(entry)

    def _record(self, entry: dict) -> dict:
        with self._cond:
            self.log.append(entry)
            if len(self.log) > 50_000:
                del self.log[:10_000]
        return entry


def validate_endpoint(
    url: str, token: str, *, sender: Sender | None, timeout: float, require_text_plain: bool
) -> str | None:
    """POST ``?validationToken=`` to ``url``; None when the answer is right, else why not."""
    from urllib.parse import quote

    target = url + ("&" if "?" in url else "?") + "validationToken=" + quote(token, safe="")
    headers = {"Content-Type": "text/plain; charset=utf-8"}
    started = time.monotonic()
    try:
        if sender is not None:
            answer = sender(target, headers, b"")
            status, content_type, text = answer if isinstance(answer, tuple) else (answer, "", "")
        else:
            if (urlsplit(url).hostname or "") in UNROUTABLE_HOSTS:
                return "unroutable host: register a notification sender"
            status, content_type, text = http_send(target, headers, b"", timeout)
    except (OSError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    if time.monotonic() - started > timeout:
        return "the endpoint answered after the timeout"
    if status != 200:
        return f"the endpoint answered {status}"
    if require_text_plain and not (content_type or "").lower().startswith("text/plain"):
        return f"the endpoint answered Content-Type {content_type!r}"
    if text != token:
        return "the endpoint did not echo the validation token"
    return None
