"""``manage.py microsoft_emulator`` in its own process: it prints the settings, keeps its CA in
``--ca-dir`` and answers the control API over HTTPS."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from integrations.emulators.microsoft import EmulatorControl

ROOT = Path(__file__).resolve().parents[3]


def test_the_command_runs_a_seeded_emulator_that_other_processes_trust(tmp_path):
    ca_dir = tmp_path / "ca"
    process = subprocess.Popen(
        [sys.executable, "manage.py", "microsoft_emulator", "--port", "0", "--seed-demo", "--ca-dir", str(ca_dir)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Control API:"):
                break
        output = "".join(lines)
        host = re.search(r"MICROSOFT_AUTHORITY_HOST=(\S+)", output).group(1)
        bundle = re.search(r"REQUESTS_CA_BUNDLE=(\S+)", output).group(1)
        assert bundle == str(ca_dir / "ca.pem") and (ca_dir / "ca.key").exists()
        assert f"MICROSOFT_GRAPH_ROOT={host}/v1.0/" in output and "Seeded demo account" in output
        remote = EmulatorControl(host, ca_bundle=bundle)
        assert [a["email"] for a in remote.state()["accounts"]] == ["demo.merchant@outlook.com"]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(10)
        process.stdout.close()
