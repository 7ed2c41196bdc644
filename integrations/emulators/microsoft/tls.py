"""The emulator's own test certificate authority and server certificate (trustme).

msal accepts only https authorities, so the emulator speaks TLS. Clients trust it through
``ca_bundle_path`` (set ``REQUESTS_CA_BUNDLE`` and ``SSL_CERT_FILE`` to it). A ``ca_dir``
keeps the authority across runs (``ca.pem`` + ``ca.key``), so a browser or a second process
can trust it once; without one a fresh authority is made per emulator.
https://trustme.readthedocs.io/
"""

from __future__ import annotations

import os
import ssl
import tempfile
from pathlib import Path

import trustme

SERVER_NAMES = ("127.0.0.1", "localhost", "::1")


class TestAuthority:
    """A certificate authority and a server certificate for the loopback names."""

    def __init__(self, ca_dir: str | os.PathLike | None = None, names: tuple[str, ...] = SERVER_NAMES):
        self._tmp = None
        if ca_dir is not None:
            directory = Path(ca_dir)
            directory.mkdir(parents=True, exist_ok=True)
            cert, key = directory / "ca.pem", directory / "ca.key"
            if cert.exists() and key.exists():
                self.ca = trustme.CA.from_pem(cert.read_bytes(), key.read_bytes())
            else:
                self.ca = trustme.CA(organization_name="Microsoft emulator test CA")
                key.write_bytes(self.ca.private_key_pem.bytes())
                key.chmod(0o600)
                cert.write_bytes(self.ca.cert_pem.bytes())
        else:
            self._tmp = tempfile.TemporaryDirectory(prefix="microsoft-emulator-ca-")
            directory = Path(self._tmp.name)
            self.ca = trustme.CA(organization_name="Microsoft emulator test CA")
            (directory / "ca.pem").write_bytes(self.ca.cert_pem.bytes())
        self.ca_bundle_path = str(directory / "ca.pem")
        self.server_cert = self.ca.issue_cert(*names)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server_cert.configure_cert(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context
