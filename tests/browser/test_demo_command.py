"""The README's run command, as a newcomer uses it: ``manage.py demo`` on a fresh SQLite file with no
services, log in with the printed credentials, connect through the emulator's consent page, see
the week fill, change an event on the emulator's page and see the week follow."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from merchants.demo import current_monday
from merchants.management.commands.demo import DEMO_TIME_ZONE
from tests.browser.conftest import new_page
from tests.browser.week import demo_busy_blocks, week_blocks

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"manage.py demo exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"manage.py demo did not start within {STARTUP_SECONDS} s:\n{log.read_text()}")


@pytest.fixture
def demo(tmp_path):
    port, emulator_port = free_port(), free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GOOGLE_", "DJANGO_", "PUBLIC_BASE_URL", "REDIS_URL", "DATABASE_URL"))
    }
    # The embedded defaults: a SQLite file, tasks in-process.
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "demo", f"127.0.0.1:{port}", "--emulator-port", str(emulator_port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base + "/accounts/login/", process, log)
        yield base, log
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_demo_command_runs_the_app_and_the_emulator_together(browser, demo):
    base, log = demo
    output = log.read_text()
    email = re.search(r"email:\s+(\S+)", output).group(1)
    password = re.search(r"password:\s+(\S+)", output).group(1)
    emulator_page = re.search(r"Edit Google events live: (\S+)", output).group(1)

    page = new_page(browser, base)
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/app/")
    # The demo merchant has customers this week already.
    expect(page.locator('.entry[data-kind="booking"]').first).to_be_visible()

    page.get_by_role("link", name="Integrations").click()
    page.get_by_role("button", name="Connect Google Calendar").click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url("**/app/integrations?google=connected")
    expect(page.get_by_test_id("google-account")).to_have_text(email)

    page.clock.install()
    page.get_by_role("link", name="Calendar", exact=True).click()
    monday = current_monday(DEMO_TIME_ZONE)
    synced = {b for b in week_blocks(page) if b.kind == "synced"}
    assert synced == demo_busy_blocks(monday, email)

    google = page.context.new_page()
    google.goto(emulator_page)
    add = google.get_by_role("form", name="Add an event")
    add.get_by_label("Title").fill("Walk-in rush")
    add.get_by_label("Date").fill(str(monday))
    add.get_by_label("From").fill("07:00")
    add.get_by_label("To").fill("07:45")
    add.get_by_role("button", name="Add event").click()
    expect(google.get_by_role("status")).to_contain_text("Push notification sent to 1 watch channel")

    # The push reaches the app, which syncs; the open week view picks it up on its next refresh.
    new_block = page.locator(f'.day[data-date="{monday}"] .entry[data-kind="synced"][data-start$="T07:00"]')
    for _ in range(20):
        page.clock.run_for(11_000)
        if new_block.count():
            break
        time.sleep(0.25)
    expect(new_block).to_be_visible()
    assert page.js_errors == []
    page.context.close()
