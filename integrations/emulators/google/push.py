"""Push notification delivery (Google -> the channel's address), off the request thread.

Each change to a watched calendar queues one empty-bodied POST per live channel with
Google's ``X-Goog-*`` headers. A delivery thread sends them in order; 500/502/503/504 are
retried with exponential backoff, any other non-2xx (or no answer at all) is dropped,
as https://developers.google.com/calendar/api/guides/push#receiving-notifications describes.
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .timeutil import rfc1123

logger = logging.getLogger(__name__)

USER_AGENT = "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)"
RETRY_STATUSES = {500, 502, 503, 504}
SUCCESS_STATUSES = {102, 200, 201, 202, 204}
# Host names no socket can reach (Django's test client); deliver these only through a custom sender.
UNROUTABLE_HOSTS = {"testserver"}

Sender = Callable[[str, dict[str, str]], int]


@dataclass
class Message:
    channel_id: str
    address: str
    token: str | None
    resource_id: str
    resource_uri: str
    expiration_ms: int
    state: str
    number: int
    generation: int
    attempt: int = 0
    extra: dict = field(default_factory=dict)

    def headers(self) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json; utf-8",
            "User-Agent": USER_AGENT,
            "X-Goog-Channel-ID": self.channel_id,
            "X-Goog-Channel-Expiration": rfc1123(self.expiration_ms / 1000),
            "X-Goog-Resource-ID": self.resource_id,
            "X-Goog-Resource-URI": self.resource_uri,
            "X-Goog-Resource-State": self.state,
            "X-Goog-Message-Number": str(self.number),
        }
        if self.token is not None:
            headers["X-Goog-Channel-Token"] = self.token
        return headers


def http_send(address: str, headers: dict[str, str], timeout: float = 5.0) -> int:
    """POST an empty body; http.client keeps header names exactly as Google spells them
    (urllib would rewrite them to ``X-goog-channel-id``), uses no proxy and follows no redirect."""
    parts = urlsplit(address)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", path, body=b"", headers={**headers, "Content-Length": "0"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


class PushDispatcher:
    def __init__(self, *, retry_delays: tuple[float, ...] = (0.05, 0.1, 0.2, 0.4, 0.8), timeout: float = 5.0):
        self.retry_delays = retry_delays
        self.timeout = timeout
        self.sender: Sender | None = None
        self.generation = 0
        self._cond = threading.Condition()
        self._heap: list = []
        self._counter = itertools.count()
        self._in_flight = 0
        self._paused = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.log: list[dict] = []
        self.is_live: Callable[[Message], bool] = lambda message: True

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        if self._thread and self._thread.is_alive():
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="google-emulator-push", daemon=True)
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

    # --- queue -------------------------------------------------------------------------

    def enqueue(self, message: Message) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic(), next(self._counter), message))
            self._cond.notify_all()

    def pause(self) -> None:
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def pending(self) -> int:
        with self._cond:
            return len(self._heap) + self._in_flight

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
        """Deliver everything queued in the calling thread (retries immediately), return the log entries."""
        entries: list[dict] = []
        while True:
            with self._cond:
                if not self._heap:
                    return entries
                _, _, message = heapq.heappop(self._heap)
            while True:
                entry = self._deliver(message, sender)
                entries.append(entry)
                if entry["outcome"] != "retrying":
                    break
                message.attempt += 1

    # --- delivery ----------------------------------------------------------------------

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
                _, _, message = heapq.heappop(self._heap)
                self._in_flight += 1
            try:
                entry = self._deliver(message, None)
                if entry["outcome"] == "retrying":
                    message.attempt += 1
                    with self._cond:
                        due = time.monotonic() + self.retry_delays[message.attempt - 1]
                        heapq.heappush(self._heap, (due, next(self._counter), message))
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _deliver(self, message: Message, sender: Sender | None) -> dict:
        headers = message.headers()
        entry = {
            "channelId": message.channel_id,
            "address": message.address,
            "state": message.state,
            "messageNumber": message.number,
            "attempt": message.attempt + 1,
            "headers": headers,
            "status": None,
            "error": None,
            "time": time.time(),
        }
        if message.generation != self.generation or not self.is_live(message):
            entry["outcome"] = "skipped"
            return self._record(entry)
        send = sender or self.sender
        host = urlsplit(message.address).hostname or ""
        try:
            if send is None and host in UNROUTABLE_HOSTS:
                entry["error"] = f"unroutable host {host!r}: register a sender to deliver there"
                entry["outcome"] = "dropped"
                return self._record(entry)
            status = send(message.address, headers) if send else http_send(message.address, headers, self.timeout)
            entry["status"] = int(status)
        except OSError as exc:
            # Nobody listening (or a reset/timeout): dropped, not retried, so test suites whose
            # webhook address is not served do not spend seconds on backoff.
            entry["error"] = f"{type(exc).__name__}: {exc}"
        retryable = entry["status"] in RETRY_STATUSES
        if entry["status"] in SUCCESS_STATUSES:
            entry["outcome"] = "delivered"
        elif retryable and message.attempt < len(self.retry_delays):
            entry["outcome"] = "retrying"
        else:
            entry["outcome"] = "dropped"
        return self._record(entry)

    def _record(self, entry: dict) -> dict:
        with self._cond:
            self.log.append(entry)
            if len(self.log) > 50_000:
                del self.log[:10_000]
        if entry["outcome"] != "delivered":
            logger.debug("push %s to %s: %s", entry["messageNumber"], entry["address"], entry["outcome"])
        return entry
