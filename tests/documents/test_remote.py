"""RemoteBsreBackend against a real local HTTP server answering exactly the documented BSrE
esign-client API v2 shape (it refuses any undocumented field)."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from ckanext.statrequest.documents.layout import PARAF1, PARAF2, TTE
from ckanext.statrequest.documents.letter import RenderedLetter
from ckanext.statrequest.documents.signers import (
    PROPERTY_FIELDS,
    REQUEST_FIELDS,
    RemoteBsreBackend,
    SigningError,
    SignMeta,
    field_box,
    sign_sync,
)
from ckanext.statrequest.documents.verify import verify_pdf

from .bsre_server import BsreServer, BsreUser, draw_on_first_page
from .support import META, PASSPHRASE, sign_chain

NIK = "6104011203720003"
AUTH = ("portal-satu-data", "app-secret")
DOCUMENTED_PROPERTIES = {"tampilan", "imageBase64", "page", "originX", "originY", "width",
                         "height", "location", "reason", "contactInfo"}


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
    # The service's own new field, lying exactly on the (still empty) TTE box.
    assert [s.field for s in verdict.signers][:2] == [PARAF1, PARAF2]
    assert verdict.signers[2].field != TTE and verdict.signers[2].slot == TTE
    assert TTE in verdict.empty_fields
    assert verdict.signers[2].name == pki["signers"]["kepala_dinas"]["name"]
    # The documented request and nothing else (passphrase and file are not recorded).
    sent = server.requests[0]
    assert set(sent) == {"nik", "signatureProperties"} and sent["nik"] == NIK
    props = sent["signatureProperties"]
    assert len(props) == 1 and set(props[0]) <= DOCUMENTED_PROPERTIES
    page, (x, y, width, height) = field_box(two_parafs, TTE)
    assert props[0] == {"tampilan": "VISIBLE", "imageBase64": props[0]["imageBase64"],
                        "page": page, "originX": x, "originY": y, "width": width,
                        "height": height, "reason": "Tanda tangan elektronik",
                        "location": "Ketapang"}
    assert base64.b64decode(props[0]["imageBase64"]).startswith(b"\x89PNG")
    # A change after the remote signature is still caught by the verification.
    assert verify_pdf(draw_on_first_page(signed), trust_roots).status == "changed"


def test_client_sends_only_documented_fields() -> None:
    assert {"nik", "passphrase", "signatureProperties", "file"} == REQUEST_FIELDS
    assert PROPERTY_FIELDS <= DOCUMENTED_PROPERTIES


def test_server_refuses_undocumented_fields(users: dict[str, BsreUser],
                                           two_parafs: bytes) -> None:
    """The look-alike is strict, so the client tests above prove the documented shape."""
    pdf = base64.b64encode(two_parafs).decode()
    bodies = [
        {"nik": NIK, "passphrase": PASSPHRASE, "file": [pdf], "fieldId": TTE,
         "signatureProperties": [{"tampilan": "INVISIBLE"}]},
        {"nik": NIK, "passphrase": PASSPHRASE, "file": [pdf],
         "signatureProperties": [{"tampilan": "INVISIBLE", "fieldId": TTE}]},
        {"nik": NIK, "passphrase": PASSPHRASE, "file": [pdf],
         "signatureProperties": [{"tampilan": "VISIBLE", "page": 1}]},
    ]
    with BsreServer(users, basic_auth=AUTH) as server:
        for body in bodies:
            req = urllib.request.Request(  # noqa: S310 - loopback test server
                server.url + "/api/v2/sign/pdf", data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json", "Authorization": "Basic "
                         + base64.b64encode(":".join(AUTH).encode()).decode()})
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(req, timeout=20)  # noqa: S310 - loopback test server
            assert err.value.code == 400
            assert "status_code" in json.loads(err.value.read())


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
    ({"mode": "shifted"}, {}, PASSPHRASE, "remote_tampered", "tidak utuh"),
    ({"mode": "invisible"}, {}, PASSPHRASE, "remote_tampered", "tidak utuh"),
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


def test_remote_elsewhere_refused_without_locks(users: dict[str, BsreUser],
                                               prepared: RenderedLetter) -> None:
    """Before any paraf no lock forbids a new field; the client still refuses a signature
    that does not lie on the requested box (the letter would show an empty signature block)."""
    with BsreServer(users, basic_auth=AUTH, mode="invisible") as server, \
            pytest.raises(SigningError) as err:
        sign_sync(_backend(server), prepared.pdf, TTE, META[TTE], PASSPHRASE)
    assert err.value.code == "remote_bad_response" and "tempat lain" in err.value.message


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

