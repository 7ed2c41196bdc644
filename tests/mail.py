"""A real SMTP server for tests (aiosmtpd in a thread on a free port), as pytest fixtures.

- ``smtp_server``: starts the server, points Django's email settings at it (SMTP backend,
  ``EMAIL_HOST``/``EMAIL_PORT``, no TLS, no login) and returns a :class:`Mailbox` of the
  messages it received, parsed (``email.message.EmailMessage``).
- ``smtp_down``: email settings point at a port where nothing listens (a mail server that
  is down), so tests can prove a failed send never fails what triggered it.

Registered for every test through ``pytest_plugins`` in ``tests/conftest.py``; the SMTP
conversation is real, only the delivery ends in the list.
https://aiosmtpd.aio-libs.org/en/latest/controller.html
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    envelope_from: str
    envelope_to: list[str]
    message: EmailMessage

    def __getitem__(self, header: str):
        return self.message[header]

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def attachments(self, content_type: str | None = None) -> list[EmailMessage]:
        found = list(self.message.iter_attachments())
        return [a for a in found if content_type is None or a.get_content_type() == content_type]


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _arrived: threading.Condition = field(init=False)

    def __post_init__(self):
        self._arrived = threading.Condition(self._lock)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.envelope_to]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """At least ``count`` messages (for mail sent from another thread or process)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} emails, got {len(self.messages)}")
                self._arrived.wait(left)
            return list(self.messages)

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()


def _point_settings_at(settings, host: str, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = host, port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5


@pytest.fixture
def smtp_server(settings):
    host, port = "127.0.0.1", free_port()
    mailbox = Mailbox(host, port)
    controller = Controller(mailbox, hostname=host, port=port)
    controller.start()
    _point_settings_at(settings, host, port)
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_down(settings):
    """Email settings pointing at a closed port: every send fails with a connection error."""
    _point_settings_at(settings, "127.0.0.1", free_port())
    settings.BOOKING_EMAIL_MAX_RETRIES = 2
