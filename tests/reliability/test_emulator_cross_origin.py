"""The Google emulator's control API refuses cross-origin requests (SPEC §12).

A web page the developer visits while the demo runs must not be able to drive the emulator
on 127.0.0.1 through the browser: no ``text/plain`` simple POST, no form post from another
origin, no DNS-rebound host. Over real HTTP with the headers browsers send, then in
Chromium itself: the emulator's own event page keeps working, another origin's page changes
nothing.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from urllib.parse import urlsplit

import pytest
import requests

from tests.reliability import figures

ANN = "ann@example.com"
EVIL = "http://evil.example"


@pytest.fixture
def emu(google_emulator):
    google_emulator.add_account(ANN, name="Ann", time_zone="Europe/Berlin")
    return google_emulator


def state(emu) -> tuple:
    return tuple(a["email"] for a in emu.snapshot()["accounts"]), len(emu.list_stored_events(ANN))


def send(method: str, url: str, **kwargs) -> requests.Response:
    figures.count("emulator_cross_origin.requests")
    response = requests.request(method, url, timeout=10, **kwargs)
    if response.status_code in (403, 415):
        figures.count("emulator_cross_origin.refused")
    return response


def own_host(emu) -> str:
    return urlsplit(emu.base_url).netloc


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        pytest.param({"Content-Type": "text/plain"}, "{}", 415, id="text/plain simple POST, no Origin"),
        pytest.param(
            {"Content-Type": "text/plain", "Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
            "{}",
            403,
            id="no-cors fetch",
        ),
        pytest.param(
            {"Content-Type": "application/x-www-form-urlencoded", "Origin": EVIL}, "a=1", 403, id="form from elsewhere"
        ),
        pytest.param({"Content-Type": "application/json", "Origin": EVIL}, "{}", 403, id="JSON with a foreign Origin"),
        pytest.param({"Content-Type": "application/json", "Origin": "null"}, "{}", 403, id="sandboxed page (null)"),
        pytest.param({"Content-Type": "application/json", "Sec-Fetch-Site": "same-site"}, "{}", 403, id="same-site"),
    ],
)
def test_cross_origin_control_calls_are_refused_and_change_nothing(emu, headers, body, status):
    before = state(emu)

    response = send("POST", emu.base_url + "_emulator/reset", headers=headers, data=body)

    assert response.status_code == status, response.text
    assert state(emu) == before == ((ANN,), 0)


def test_a_dns_rebound_host_is_refused(emu):
    port = urlsplit(emu.base_url).port
    rebound = f"evil.example:{port}"
    headers = {"Host": rebound, "Origin": f"http://{rebound}", "Content-Type": "application/json"}

    response = send("POST", emu.base_url + "_emulator/reset", headers=headers, data="{}")

    assert response.status_code == 403 and state(emu) == ((ANN,), 0)
    assert send("GET", emu.base_url + "_emulator/state", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403


def test_the_emulators_own_event_page_and_its_clients_still_work(emu):
    form = {"action": "add", "calendar": ANN, "summary": "Dentist", "date": "2030-01-07", "start": "10:00", "end": "11"}
    form["end"] = "11:00"
    own = {"Origin": f"http://{own_host(emu)}", "Sec-Fetch-Site": "same-origin"}

    assert send("POST", emu.base_url + "_emulator/ui", data=form, headers=own).status_code == 200
    assert send("POST", emu.base_url + "_emulator/ui", data=form, headers={"Origin": EVIL}).status_code == 403
    assert state(emu) == ((ANN,), 1)
    # The control client (demo, benchmarks) sends JSON without Origin.
    from integrations.emulators.google import EmulatorControl

    assert EmulatorControl(emu.base_url).list_stored_events(ANN)[0]["summary"] == "Dentist"


@pytest.fixture
def other_origin(tmp_path):
    """Another origin on loopback (another port): a page the developer might have open."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.mark.browser
def test_in_chromium_another_origins_page_changes_nothing_but_the_event_page_works(emu, other_origin):
    from playwright.sync_api import sync_playwright

    folder, origin = other_origin
    (folder / "attack.html").write_text(f"""<!doctype html><body>
<form id="f" method="post" action="{emu.base_url}_emulator/reset" enctype="text/plain">
<input name='{{"args":[],"kwargs":{{}},"x":"' value='"}}'></form>
<script>
fetch("{emu.base_url}_emulator/reset", {{method: "POST", mode: "no-cors", body: "{{}}",
  headers: {{"Content-Type": "text/plain"}}}}).finally(() => document.getElementById("f").submit());
</script></body>""")
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        page = browser.new_context().new_page()
        answers = []
        page.on("response", lambda r: answers.append(r.status) if r.url.endswith("_emulator/reset") else None)
        page.goto(origin + "attack.html")
        page.wait_for_url("**/_emulator/reset")  # the form's post, sent after the fetch
        page.wait_for_load_state()
        figures.count("emulator_cross_origin.browser_attacks", 2)
        assert answers and all(status in (403, 415) for status in answers), answers
        assert state(emu) == ((ANN,), 0)

        page = browser.new_context().new_page()  # the developer, on the emulator's own page
        page.goto(emu.base_url + "_emulator/ui")
        page.get_by_label("Title").fill("Dentist")
        page.get_by_role("button", name="Add event").click()
        page.wait_for_load_state()
        assert state(emu) == ((ANN,), 1)
        browser.close()
