"""New virtualenvs get current pip and setuptools (SPEC §12): the block of ``.ci/run`` and
``.ci/test`` that creates ``.venv`` runs for real in an empty folder (python3 -m venv, then pip
from the package index), and the result is past the versions with known advisories that
Python's bundled copies (ensurepip) may have: pip < 23.3 (CVE-2023-5752), setuptools < 70
(CVE-2024-6345).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.reliability import figures

ROOT = Path(__file__).resolve().parents[2]


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.match(r"(\d+(?:\.\d+)*)", text.strip()).group(1).split("."))


def creation_block(script: Path) -> str:
    """The script's own lines that create .venv (from ``if [ ! -x .venv/bin/python ]`` to its ``fi``)."""
    match = re.search(r"^if \[ ! -x \.venv/bin/python \]; then\n.*?^fi$", script.read_text(), re.M | re.S)
    assert match, f"{script} creates no .venv"
    return match.group(0)


@pytest.mark.parametrize("script", [".ci/run", ".ci/test"])
def test_a_new_venv_gets_current_pip_and_setuptools(script, tmp_path):
    block = creation_block(ROOT / script)

    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )

    assert done.returncode == 0, done.stdout + done.stderr
    python = tmp_path / ".venv/bin/python"
    pip = subprocess.run([python, "-m", "pip", "--version"], capture_output=True, text=True, check=True).stdout
    setuptools = subprocess.run(
        [python, "-c", "import setuptools; print(setuptools.__version__)"], capture_output=True, text=True, check=True
    ).stdout
    assert version(pip.split()[1]) >= (23, 3), pip
    assert version(setuptools) >= (70,), setuptools
    figures.count("new_virtualenvs.created")
