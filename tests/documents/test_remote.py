"""RemoteBsreBackend against a real local HTTP server speaking the BSrE esign-client v2 shape."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest

from ckanext.statrequest.documents.layout import PARAF1, PARAF2, TTE
from ckanext.statrequest.documents.letter import RenderedLetter
from ckanext.statrequest.documents.signers import (
    RemoteBsreBackend,
    SigningError,
    SignMeta,
    sign_sync,
)
from ckanext.statrequest.documents.verify import verify_pdf

from .bsre_server import BsreServer, BsreUser
from .support import META, PASSPHRASE, sign_chain

NIK = "6104011203720003"
AUTH = ("portal-satu-data", "app-secret")


@pytest.fixture(scope="module")
def users(pki: dict[str, Any]) -> dict[str, BsreUser]:
    return {NIK: BsreUser(pki["signers"]["kepala_dinas"]["p12"], PASSPHRASE, (pki["chain"],))}


@pytest.fixture(scope="module")
def two_parafs(prepared: RenderedLetter, pki: dict[str, Any]) -> bytes:
    return sign_chain(prepared.pdf, pki, fields=(PARAF1, PARAF2))


def _backend(server: BsreServer, **kw: Any) -> RemoteBsreBackend:
    return RemoteBsreBackend(server.url, kw.pop("nik", NIK), timeout=kw.pop("timeout", 20),
                             auth=kw.pop("auth", AUTH), **kw)


def test_remote_tte_after_two_parafs(users: dict[str, BsreUser], two_parafs: bytes,
                                     pki: dict[str, Any], trust_roots: list[Any],
                                     capsys: pytest.CaptureFixture[str]) -> None:
    with BsreServer(users, basic_auth=AUTH) as server:
        started = time.perf_counter()
        signed = sign_sync(_backend(server, trust_roots=trust_roots), two_parafs, TTE,
                           SignMeta(reason="Tanda tangan elektronik", location="Ketapang"),
                           PASSPHRASE)
        elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n[timing] remote BSrE-shaped TTE on loopback {elapsed:.3f}s "
              "(HTTP + server signing + two verifications)")
    assert signed.startswith(two_parafs)
    verdict = verify_pdf(signed, trust_roots)
    assert verdict.status == "valid", verdict
    assert [s.field for s in verdict.signers] == [PARAF1, PARAF2, TTE]
    assert verdict.signers[2].name == pki["signers"]["kepala_dinas"]["name"]
    # The request had the v2 shape (passphrase and file are not recorded by the test server).
    sent = server.requests[0]
    assert sent["nik"] == NIK
    assert sent["signatureProperties"] == [{"tampilan": "INVISIBLE", "fieldId": TTE,
                                            "reason": "Tanda tangan elektronik",
                                            "location": "Ketapang"}]


def test_remote_async_api(users: dict[str, BsreUser], two_parafs: bytes) -> None:
    async def go() -> bytes:
        with BsreServer(users, basic_auth=AUTH) as server:
            return await _backend(server).sign(two_parafs, TTE, META[TTE], PASSPHRASE)

    assert asyncio.run(go()).startswith(two_parafs)


@pytest.mark.parametrize(("server_kw", "backend_kw", "secret", "code", "text"), [
    ({}, {}, "keliru-99", "bad_secret", "Passphrase anda salah"),
    ({}, {"nik": "0000000000000000"}, PASSPHRASE, "remote_error", "Pengguna tidak terdaftar"),
    ({}, {"auth": ("portal-satu-data", "wrong")}, PASSPHRASE, "remote_auth", "Unauthorized"),
    ({"mode": "error500"}, {}, PASSPHRASE, "remote_error", "HTTP 500"),
    ({"mode": "garbage"}, {}, PASSPHRASE, "remote_bad_response", "bukan PDF"),
    ({"mode": "rewrite"}, {}, PASSPHRASE, "remote_tampered", "menulis ulang"),
    ({"mode": "overlay"}, {}, PASSPHRASE, "remote_tampered", "tidak utuh"),
    ({"mode": "new_field"}, {}, PASSPHRASE, "remote_bad_response", "kolom lain"),
])
def test_remote_failures(users: dict[str, BsreUser], two_parafs: bytes,
                         server_kw: dict[str, Any], backend_kw: dict[str, Any], secret: str,
                         code: str, text: str) -> None:
    original = bytes(two_parafs)
    with BsreServer(users, basic_auth=AUTH, **server_kw) as server, \
            pytest.raises(SigningError) as err:
        sign_sync(_backend(server, **backend_kw), two_parafs, TTE, META[TTE], secret)
    assert err.value.code == code, err.value
    assert text in err.value.message
    assert two_parafs == original


def test_remote_new_field_when_not_required(users: dict[str, BsreUser], prepared: RenderedLetter,
                                            two_parafs: bytes, trust_roots: list[Any]) -> None:
    """A service that ignores fieldId: acceptable only where no paraf lock forbids new fields."""
    with BsreServer(users, basic_auth=AUTH, mode="new_field") as server:
        lenient = _backend(server, require_field=False)
        signed = sign_sync(lenient, prepared.pdf, TTE, META[TTE], PASSPHRASE)
        verdict = verify_pdf(signed, trust_roots)
        assert verdict.status == "valid"
        assert [s.field for s in verdict.signers] == ["Signature-BSrE"]
        assert TTE in verdict.empty_fields
        # After the paraf, their FieldMDP locks make any field other than TTE a forbidden change.
        with pytest.raises(SigningError) as err:
            sign_sync(lenient, two_parafs, TTE, META[TTE], PASSPHRASE)
        assert err.value.code == "remote_tampered"


def test_remote_unreachable(two_parafs: bytes) -> None:
    with socket.socket() as s:  # a port that nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    backend = RemoteBsreBackend(f"http://127.0.0.1:{port}", NIK, timeout=5)
    with pytest.raises(SigningError) as err:
        sign_sync(backend, two_parafs, TTE, META[TTE], PASSPHRASE)
    assert err.value.code == "remote_unreachable"


def test_remote_checks_field_before_calling(users: dict[str, BsreUser], two_parafs: bytes) -> None:
    with BsreServer(users, basic_auth=AUTH) as server:
        with pytest.raises(SigningError) as err:
            sign_sync(_backend(server), two_parafs, "TTE_Kepala", META[TTE], PASSPHRASE)
        assert server.requests == []  # no passphrase was sent anywhere
    assert err.value.code == "no_field"
