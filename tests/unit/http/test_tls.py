"""The shared TLS context: CA certificates that cannot be loaded are an error that says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from statusync.errors import StatusyncError
from statusync.http import tls


@pytest.mark.parametrize("bundle", ["missing.pem", "garbage.pem"])
def test_ca_certificates_that_cannot_be_loaded_are_a_statusync_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bundle: str
) -> None:
    (tmp_path / "garbage.pem").write_text("not a certificate\n")
    monkeypatch.setattr(tls, "_context", None)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / bundle))  # httpx reads os.environ
    with pytest.raises(StatusyncError, match="cannot load the CA certificates .*SSL_CERT_FILE"):
        tls.shared_context()
    assert tls._context is None  # nothing half-built kept: fixed, the next call builds it
    monkeypatch.delenv("SSL_CERT_FILE")
    assert tls.shared_context() is tls.shared_context()
