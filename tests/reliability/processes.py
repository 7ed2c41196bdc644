"""Real processes for the process-fault tests: a throw-away Redis server and Celery workers.

Each test gets its own ``redis-server`` on a free port (never the machine's shared Redis,
which others use), so it can be stopped and restarted at will, and its own ``celery -A
config worker`` subprocesses reading the pytest-django test database on PostgreSQL. Nothing
here is mocked: the workers are the production entry point with the test's environment.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from tests.reliability import secret_scan

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 90


def wait_for(condition, what: str, timeout: float = WAIT_SECONDS, logs: tuple[Path, ...] = ()):
    """Poll ``condition`` until it returns something truthy; fail with the workers' log tails."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    tails = "\n".join(f"--- {log.name} ---\n{log.read_text()[-3000:]}" for log in logs if log.exists())
    pytest.fail(f"timed out waiting for {what}\n{tails}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_services() -> None:
    """PostgreSQL (workers must share the test database) and a redis-server binary."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...): separate worker processes share the test database")
    if shutil.which("redis-server") is None:
        pytest.skip("needs the redis-server binary: these tests run a throw-away Redis they can stop")


class RedisServer:
    """``redis-server`` on its own port, no persistence: a restart comes back empty."""

    def __init__(self, tmp: Path):
        self.port = free_port()
        self.tmp = tmp
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        command = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.tmp),
        ]
        log = (self.tmp / "redis.log").open("a")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_for(self.ping, "redis-server to answer", timeout=20)

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.2).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        """Redis goes away at once (SIGKILL): connections drop, the data is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


class Worker:
    """One ``celery -A config worker --pool solo`` process; kill, pause and resume it at will."""

    def __init__(self, env: dict[str, str], log: Path):
        self.env = env
        self.log = log
        self.name = f"reliability-{uuid.uuid4().hex[:8]}@%h"
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            self.name,
        ]
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("a") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        wait_for(
            lambda: self.process.poll() is not None or " ready." in self.log.read_text()[offset:],
            "the worker to start",
            logs=(self.log,),
        )
        assert self.process.poll() is None, self.log.read_text()[-4000:]
        return self

    def kill(self) -> None:
        """SIGKILL: no cleanup, no ack, its database session and advisory locks die with it."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGCONT)
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def syncs_received(self) -> int:
        """Sync tasks this worker took from the queue."""
        return sum(1 for line in self.text().splitlines() if "calendar_sync_task[" in line and "received" in line)

    def text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def hand_log_to_secret_scan(self) -> None:
        secret_scan.add_text(f"worker log {self.log.name}", self.text())
