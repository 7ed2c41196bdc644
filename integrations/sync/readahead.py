"""Read-ahead for listings: fetch page n+1 in a thread while the caller maps and writes page n.

A full sync is a chain of ``fetch page -> map -> write`` steps; the fetch is mostly waiting
for the provider (hundreds of milliseconds per page at Google or Graph) and the write mostly
waiting for the database, so running the next fetch during the current write brings a full
sync towards ``max(fetching, writing)`` instead of their sum (docs/BENCHMARKS.md).

Rules, because the database and the caller's transaction live on the calling thread:

- one page ahead at most: the thread asks for page n+1 only once page n was handed over, so
  memory stays one page and nothing is fetched that a failing write would waste;
- errors come back in order: a failure fetching page n+1 is raised where the caller asks
  for page n+1, after page n was applied, exactly as without read-ahead;
- no database work on the thread: work that must run on the caller's thread (saving
  refreshed tokens, marking a dead grant) goes through :func:`on_caller_thread`, which runs
  it there while the caller waits for a page, and returns its result to the thread;
- leaving early (the caller's write failed) stops the thread after the fetch under way and
  closes the listing before :func:`read_ahead` returns, so no request outlives the sync.

While a read-ahead runs, the interpreter's thread switch interval is at most 1 ms (the
default is 5 ms): the listing thread mostly waits on its socket, and each time data
arrives (every ~64 KB, some 25 times per 2,500-event page) it must take the GIL back from
the thread writing the previous page, which would otherwise hold it up to 5 ms each time
(measured: the fetch of 9 pages at 200 ms each took ~1 s longer than alone; bench/sync.py).
https://docs.python.org/3/library/sys.html#sys.setswitchinterval

Only listings whose client says ``reads_ahead = True`` are read ahead (their listing does
no database work of its own); the engine decides (``engine._apply_pages``).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

_NEXT, _STOP = "next", "stop"  # caller -> thread
_PAGE, _END, _ERROR, _CALL, _DONE = "page", "end", "error", "call", "done"  # thread -> caller

_local = threading.local()

SWITCH_INTERVAL = 0.001  # seconds, while any read-ahead runs in this process
_switch_lock = threading.Lock()
_switch_users = 0
_switch_before = 0.0


@contextlib.contextmanager
def _short_switch_interval() -> Iterator[None]:
    global _switch_users, _switch_before
    with _switch_lock:
        if _switch_users == 0:
            _switch_before = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch_before, SWITCH_INTERVAL))
        _switch_users += 1
    try:
        yield
    finally:
        with _switch_lock:
            _switch_users -= 1
            if _switch_users == 0:
                sys.setswitchinterval(_switch_before)


class _Call:
    """Work the listing thread hands to the caller's thread, and its outcome."""

    def __init__(self, fn: Callable[..., Any], args: tuple, kwargs: dict):
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed back to the thread that asked, raised there
            self.error = exc
        finally:
            self.done.set()


def on_caller_thread(fn: Callable[..., T], *args, **kwargs) -> T:
    """Run ``fn`` on the thread that consumes the listing (the one with the database connection).

    Called outside a read-ahead thread, it simply calls ``fn``. Inside one, it waits until the
    consumer has run ``fn`` (at the latest when it asks for the next page) and returns its
    result or raises its exception.
    """
    ahead = getattr(_local, "ahead", None)
    if ahead is None:
        return fn(*args, **kwargs)
    call = _Call(fn, args, kwargs)
    ahead.answers.put((_CALL, call))
    call.done.wait()
    if call.error is not None:
        raise call.error
    return call.result


class _ReadAhead:
    def __init__(self, pages: Iterator[T]):
        self._pages = pages
        self._requests: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.answers: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="sync-read-ahead", daemon=True)

    # -- the listing thread

    def _work(self) -> None:
        _local.ahead = self
        try:
            while self._requests.get() == _NEXT:
                try:
                    page = next(self._pages)
                except StopIteration:
                    self.answers.put((_END, None))
                    return
                except BaseException as exc:  # noqa: BLE001 - raised on the caller's thread, in order
                    self.answers.put((_ERROR, exc))
                    return
                self.answers.put((_PAGE, page))
        finally:
            try:
                close = getattr(self._pages, "close", None)
                if close is not None:
                    close()  # a generator's own cleanup runs here, on the thread that ran it
            except Exception:
                logger.exception("closing a read-ahead listing failed")
            finally:
                _local.ahead = None
                self.answers.put((_DONE, None))  # the thread is gone (after an END or ERROR, or not)

    # -- the caller's thread

    def _answer(self) -> tuple[str, Any]:
        """The thread's next answer; work it hands over runs here meanwhile."""
        while True:
            kind, value = self.answers.get()
            if kind != _CALL:
                return kind, value
            value.run()

    def __iter__(self) -> Iterator[T]:
        self._thread.start()
        self._requests.put(_NEXT)
        while True:
            kind, value = self._answer()
            if kind == _END:
                return
            if kind == _ERROR:
                raise value
            if kind == _DONE:  # never without an END or ERROR first; a listing cut short is no listing
                raise RuntimeError("the read-ahead thread stopped before the listing ended")
            self._requests.put(_NEXT)  # page n+1 is fetched while the caller handles page n
            yield value

    def close(self) -> None:
        """Stop the thread (after the fetch under way, if any) and wait for it."""
        if not self._thread.is_alive() and not self._thread.ident:
            return  # never started
        self._requests.put(_STOP)
        # Serve what the thread still hands over (a token refresh mid-fetch) until it ends.
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                kind, value = self.answers.get(timeout=0.1)
                if kind == _CALL:
                    value.run()
        self._thread.join()


@contextlib.contextmanager
def read_ahead(pages: Iterator[T]) -> Iterator[Iterator[T]]:
    """``pages`` fetched one ahead in a thread, for use as ``with read_ahead(pages) as ahead: for page in ahead``."""
    ahead = _ReadAhead(pages)
    with _short_switch_interval():
        try:
            yield iter(ahead)
        finally:
            ahead.close()
