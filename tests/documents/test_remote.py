"""RemoteBsreBackend against a real local HTTP server answering exactly the documented BSrE
esign-client API v2 shape (it refuses any undocumented field)."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from io import BytesIO
from typing import Any

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from werkzeug.serving import WSGIRequestHandler, make_server

from ckanext.statrequest.documents import testpki
from ckanext.statrequest.documents._aio import run_sync
from ckanext.statrequest.documents.layout import PARAF1, PARAF2, TTE
from ckanext.statrequest.documents.letter import RenderedLetter
from ckanext.statrequest.documents.signers import (
    PROPERTY_FIELDS,
    REQUEST_FIELDS,
    RemoteBsreBackend,
    SigningError,
    SignMeta,
    SignOptions,
    async_add_lta,
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



# --- the portal's long-term level on top of the service's signature (B-LT, B-LTA) -------------


class _QuietHandler(WSGIRequestHandler):
    def log(self, *args: Any, **kwargs: Any) -> None:  # no access log in the test output
        pass


class _Responder:
    """The served test PKI's TSA / OCSP / CRL service (certomancer) on one loopback port."""

    def __init__(self, config: str, port: int) -> None:
        self.config, self.port = config, port
        self.server: Any = None

    def start(self) -> None:
        self.server = make_server("127.0.0.1", self.port, testpki.responder_app(self.config),
                                  threaded=True, request_handler=_QuietHandler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    manifest = testpki.create_responder_pki(tmp_path_factory.mktemp("served-pki"),
                                            f"http://127.0.0.1:{port}")
    responder = _Responder(manifest["responder"]["config"], port)
    responder.start()
    try:
        yield {**manifest, "roots": testpki.load_pem_certs(manifest["root"]),
               "responder_ctl": responder}
    finally:
        responder.stop()


def _ltv(served: dict[str, Any], lta: bool = True) -> SignOptions:
    """What the portal passes with a TSA and signing.ltv on (lta: the final signature)."""
    return SignOptions(timestamper_url=served["responder"]["tsa"], embed_validation_info=True,
                       trust_roots=served["roots"], lta_on_final=lta)


@pytest.fixture(scope="module")
def ltv_parafs(prepared: RenderedLetter, served: dict[str, Any]) -> bytes:
    """Both paraf signed locally at B-LT, as the portal does with a TSA configured."""
    return sign_chain(prepared.pdf, served, fields=(PARAF1, PARAF2), options=_ltv(served))


def _served_users(served: dict[str, Any]) -> dict[str, BsreUser]:
    return {NIK: BsreUser(served["signers"]["kepala_dinas"]["p12"], PASSPHRASE,
                          (served["chain"],))}


def _remote_result(server: BsreServer, backend: RemoteBsreBackend, pdf: bytes) -> bytes:
    """The service's answer as it comes, without the client's checks (to build bad letters)."""
    body = backend.request_body(pdf, TTE, META[TTE], PASSPHRASE)
    req = urllib.request.Request(  # noqa: S310 - loopback test server
        server.url + backend.path, data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Basic "
                 + base64.b64encode(":".join(AUTH).encode()).decode()})
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - loopback test server
        return base64.b64decode(json.loads(resp.read())["file"][0])


def _document_timestamps(pdf: bytes) -> int:
    reader = PdfFileReader(BytesIO(pdf))
    return sum(1 for s in reader.embedded_signatures if s.sig_object_type == "/DocTimeStamp")


@pytest.mark.parametrize("lta", [True, False], ids=["B-LTA", "B-LT"])
def test_remote_tte_completed_to_long_term(served: dict[str, Any], ltv_parafs: bytes,
                                          lta: bool, capsys: pytest.CaptureFixture[str]) -> None:
    """The service signs B-T; the portal adds the revocation data of every signature and, on
    the final signature, a document timestamp. Both paraf stay valid (their diff analysis
    sees the service's new field together with those updates), and the letter is still valid
    after every signer's certificate has expired."""
    roots = served["roots"]
    with BsreServer(_served_users(served), basic_auth=AUTH,
                    timestamper_url=served["responder"]["tsa"]) as server:
        started = time.perf_counter()
        signed = sign_sync(_backend(server, options=_ltv(served, lta)), ltv_parafs, TTE,
                           META[TTE], PASSPHRASE)
        elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n[timing] remote TTE + portal {'B-LTA' if lta else 'B-LT'} on loopback "
              f"{elapsed:.3f}s (HTTP + service signing + checks + OCSP/TSA)")
    assert signed.startswith(ltv_parafs)
    verdict = verify_pdf(signed, roots)
    assert verdict.status == "valid", verdict
    kinds = [(s.slot, s.kind) for s in verdict.signers]
    assert kinds[:3] == [(PARAF1, "signature"), (PARAF2, "signature"), (TTE, "signature")]
    assert kinds[3:] == ([(kinds[3][0], "timestamp")] if lta else [])
    assert _document_timestamps(signed) == (1 if lta else 0)
    for paraf in verdict.signers[:2]:
        assert paraf.intact and paraf.valid and paraf.trusted
        assert paraf.modification_level in ("LTA_UPDATES", "FORM_FILLING")
    assert all(s.timestamped and s.trusted for s in verdict.signers)
    # The revocation data of the service's signer is now in the letter (DSS): three years on,
    # with every signer's certificate expired, each signature is still proven as of its time.
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3 * 365)
    future = verify_pdf(signed, roots, moment=later)
    assert future.status == "valid", future
    assert all(s.long_term for s in future.signers if s.kind == "signature")
    # The service's B-T letter alone does not have that proof.
    remote_only = signed[:signed.index(b"%%EOF", len(ltv_parafs)) + 5] + b"\n"
    assert verify_pdf(remote_only, roots, moment=later).status == "untrusted"
    # A change after the completed letter is still caught.
    assert verify_pdf(draw_on_first_page(signed), roots).status == "changed"


@pytest.mark.parametrize("mode", ["shifted", "overlay"])
def test_remote_bad_result_refused_also_with_long_term(served: dict[str, Any],
                                                       ltv_parafs: bytes, mode: str) -> None:
    """A service field outside the TTE box, or a page-content change, is refused before any
    long-term data is added; and when validation data and a document timestamp follow such a
    result anyway, the verification still calls the letter changed."""
    roots = served["roots"]
    options = _ltv(served)
    with BsreServer(_served_users(served), basic_auth=AUTH, mode=mode,
                    timestamper_url=served["responder"]["tsa"]) as server:
        backend = _backend(server, options=options)
        with pytest.raises(SigningError) as err:
            sign_sync(backend, ltv_parafs, TTE, META[TTE], PASSPHRASE)
        assert err.value.code == "remote_tampered", err.value
        bad = _remote_result(server, backend, ltv_parafs)
    completed = run_sync(async_add_lta(bad, options))
    assert _document_timestamps(completed) == 1
    verdict = verify_pdf(completed, roots)
    assert verdict.status == "changed", verdict
    assert verdict.reasons == ("modified_after_signing",)
    assert [s.modification_level for s in verdict.signers[:2]] == ["OTHER", "OTHER"]


def test_remote_long_term_failure_drops_result(served: dict[str, Any],
                                               ltv_parafs: bytes) -> None:
    """The OCSP/TSA service does not answer after the service signed: a clear, retryable
    error and nothing half-done (the letter as it was; signing again is safe)."""
    original = bytes(ltv_parafs)
    responder = served["responder_ctl"]
    with BsreServer(_served_users(served), basic_auth=AUTH) as server:
        responder.stop()
        try:
            with pytest.raises(SigningError) as err:
                sign_sync(_backend(server, options=_ltv(served)), ltv_parafs, TTE, META[TTE],
                          PASSPHRASE)
        finally:
            responder.start()
        assert len(server.requests) == 1  # the service did sign; its result was dropped
    assert err.value.code == "timestamp_failed", err.value
    assert ltv_parafs == original
