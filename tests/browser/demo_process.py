"""``manage.py demo`` in a child process, as a newcomer runs it: a fresh SQLite file, no services.

Used by ``test_demo_command.py`` and by ``screenshots.py``.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60


class DemoFailed(Exception):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Demo:
    base_url: str
    email: str
    password: str
    emulator_url: str
    events_page: str
    microsoft_url: str
    caldav_url: str
    caldav_user: str
    caldav_password: str
    log: Path


def _wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DemoFailed(f"manage.py demo exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise DemoFailed(f"manage.py demo did not start within {STARTUP_SECONDS} s:\n{log.read_text()}")


class DemoProcess:
    """``with DemoProcess(tmp_dir) as demo: ...``: runs the demo on free ports until the block ends."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Demo:
        port, emulator_port, caldav_port, microsoft_port = free_port(), free_port(), free_port(), free_port()
        # The embedded defaults: a SQLite file, tasks in-process, no Google settings.
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("GOOGLE_", "DJANGO_", "PUBLIC_BASE_URL", "REDIS_URL", "DATABASE_URL"))
        }
        env["DATABASE_URL"] = f"sqlite:///{self.directory / 'demo.sqlite3'}"
        log = self.directory / "demo.log"
        with log.open("w") as out:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "manage.py", "demo", f"127.0.0.1:{port}"),
                    *("--emulator-port", str(emulator_port), "--caldav-port", str(caldav_port)),
                    *("--microsoft-port", str(microsoft_port)),
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_serving(base + "/accounts/login/", self.process, log)
        except DemoFailed:
            self.__exit__()
            raise
        output = log.read_text()
        return Demo(
            base_url=base,
            email=re.search(r"email:\s+(\S+)", output).group(1),
            password=re.search(r"password:\s+(\S+)", output).group(1),
            emulator_url=re.search(r"Google emulator: (\S+)", output).group(1),
            events_page=re.search(r"Edit Google events live: (\S+)", output).group(1),
            microsoft_url=re.search(r"Microsoft emulator: (\S+)", output).group(1),
            caldav_url=re.search(r"CalDAV server:\s+(\S+)", output).group(1),
            caldav_user=re.search(r"user name:\s+(\S+)", output).group(1),
            caldav_password=re.findall(r"password:\s+(\S+)", output)[1],
            log=log,
        )

    def __exit__(self, *exc) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
