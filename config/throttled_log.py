"""Log lines an attacker can trigger, bounded: at most one line per reason per interval.

A flood of forged requests (push notifications with a wrong token, say) would otherwise
write one line each. :class:`ThrottledLog` writes the first line of a reason, counts the
ones that follow within ``interval`` seconds without writing them, and adds that count to
the next line it writes for the reason ("... (41 more like this suppressed in the last
60 s)"). Per process: a flood costs each web process one line per reason per interval.
Reasons must be a small fixed set (never a value from the request).

    forged = ThrottledLog(logger, interval=60.0)
    forged.warning("wrong_token", "push notification for channel %s with a wrong token ignored", pk)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable


class ThrottledLog:
    def __init__(self, logger: logging.Logger, *, interval: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.logger = logger
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        # reason -> [when the current interval ends, lines suppressed in it, when it started]
        self._reasons: dict[str, list[float]] = {}

    def log(self, level: int, reason: str, message: str, *args) -> bool:
        """Log ``message % args`` unless ``reason`` already logged within the interval; True if written."""
        now = self._clock()
        with self._lock:
            state = self._reasons.get(reason)
            if state is not None and now < state[0]:
                state[1] += 1
                return False
            suppressed, since = (int(state[1]), now - state[2]) if state is not None else (0, 0.0)
            self._reasons[reason] = [now + self.interval, 0, now]
        if suppressed:
            message += " (%d more like this suppressed in the last %d s)"
            args = (*args, suppressed, round(since))
        self.logger.log(level, message, *args)
        return True

    def warning(self, reason: str, message: str, *args) -> bool:
        return self.log(logging.WARNING, reason, message, *args)

    def reset(self) -> None:
        """Forget every reason (a new test starts with nothing suppressed)."""
        with self._lock:
            self._reasons.clear()

    def suppressed(self, reason: str) -> int:
        """Lines held back for ``reason`` in its current interval (for tests and figures)."""
        with self._lock:
            state = self._reasons.get(reason)
            return int(state[1]) if state is not None else 0
