"""A flood of forged push notifications writes a bounded number of log lines (SPEC §12).

Each kind of forgery (no channel id, unknown channel, wrong token, wrong resource id,
unknown state) logs its first occurrence, then at most one line per
``FORGED_LOG_INTERVAL_SECONDS``, which says how many like it were held back
(``config/throttled_log.py``). The flood goes to the real watch endpoint against a real
channel (the merchant connected through the emulator, as in test_webhook_attacks.py).
"""

from __future__ import annotations

import logging
import math
import time
import uuid

from config.throttled_log import ThrottledLog
from integrations import webhooks
from tests.reliability import figures
from tests.reliability.test_webhook_attacks import (  # noqa: F401 - fixtures
    other_channel,
    post,
    real_headers,
    target,
)

PER_KIND = 400


def forged_kinds(attack) -> dict[str, object]:
    channel = attack.channel
    return {
        "no_channel_id": lambda n: {**real_headers(channel, n), "X-Goog-Channel-ID": None},
        "unknown_channel": lambda n: {**real_headers(channel, n), "X-Goog-Channel-ID": str(uuid.uuid4())},
        "wrong_token": lambda n: {**real_headers(channel, n), "X-Goog-Channel-Token": f"guess-{n}"},
        "wrong_resource": lambda n: {**real_headers(channel, n), "X-Goog-Resource-ID": f"res-{n}"},
        "unknown_state": lambda n: real_headers(channel, n, state=f"bogus-{n % 7}"),
    }


def test_a_flood_of_forged_notifications_writes_a_bounded_number_of_lines(target, caplog):  # noqa: F811
    kinds = forged_kinds(target)
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="integrations.webhooks"):
        for n in range(PER_KIND):
            for headers in kinds.values():
                response = post(target.client, headers(n))
                assert (response.status_code, response.content) == (200, b"")
    elapsed = time.monotonic() - started
    sent = PER_KIND * len(kinds)
    figures.count("log_flood.forged_requests", sent)

    lines = [r for r in caplog.records if r.name == "integrations.webhooks"]
    # One line per kind per interval begun during the flood (the flood takes seconds, the interval a minute).
    bound = len(kinds) * math.ceil(1 + elapsed / webhooks.FORGED_LOG_INTERVAL_SECONDS)
    assert len(kinds) <= len(lines) <= bound, [r.getMessage() for r in lines]
    assert all(r.levelno == logging.WARNING for r in lines)
    held_back = sum(webhooks.forged_log.suppressed(kind) for kind in kinds)
    assert held_back + len(lines) == sent
    figures.count("log_flood.lines_written", len(lines))
    figures.count("log_flood.lines_suppressed", held_back)
    target.assert_still_works()


def test_the_next_line_after_an_interval_says_how_many_were_held_back(caplog):
    now = [1000.0]
    log = ThrottledLog(logging.getLogger("tests.throttled"), interval=60.0, clock=lambda: now[0])

    with caplog.at_level(logging.WARNING, logger="tests.throttled"):
        written = [log.warning("wrong_token", "wrong token on channel %s", i) for i in range(50)]
        log.warning("unknown_channel", "unknown channel")  # another reason: its own budget
        now[0] += 59.0
        written.append(log.warning("wrong_token", "wrong token on channel %s", 50))
        now[0] += 1.5
        written.append(log.warning("wrong_token", "wrong token on channel %s", 51))

    assert written.count(True) == 2
    assert [r.getMessage() for r in caplog.records] == [
        "wrong token on channel 0",
        "unknown channel",
        "wrong token on channel 51 (50 more like this suppressed in the last 60 s)",
    ]
