"""Signatures that hold up in ten years, through the portal's own actions.

A real test PKI with its own TSA, OCSP responder and CRLs (certomancer's Animator, the service
`certomancer animate` runs for the demo) answers on a free loopback port in this process. The
portal is configured as a production one would be: a TSA URL, the revocation service's address
for verification (hard-fail), trust roots. Then a request is walked to the Head of Agency's
signature with `statrequest_transition`, and the letters are checked as a user would: the
verification page's verdict, and veraPDF (PDF/A-3b) for the draft, each paraf and the signed
letter.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import ckan.model as model
import pytest
from support import PASSPHRASE, SIGNERS, act, as_sysadmin, fire, submit, upload, walk
from werkzeug.serving import WSGIRequestHandler, make_server

from ckanext.statrequest.documents import testpki
from ckanext.statrequest.documents.verify import RevocationCheck, verify_pdf

HERE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VERAPDF_CP = os.path.join(HERE, ".run", "verapdf", "classpath.txt")


class _Quiet(WSGIRequestHandler):
    def log(self, *args: Any, **kwargs: Any) -> None:  # no access log in the test output
        pass


class Responder:
    """certomancer's Animator for one PKI folder, on a fixed loopback port (restartable, as
    the service reads its configuration at start)."""

    def __init__(self, folder: str, port: int) -> None:
        self.folder, self.port = folder, port
        self.server: Any = None

    def start(self) -> None:
        config = os.path.join(self.folder, testpki.RESPONDER_DIR, testpki.RESPONDER_CONFIG)
        self.server = make_server("127.0.0.1", self.port, testpki.responder_app(config),
                                  threaded=True, request_handler=_Quiet)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def restart(self) -> None:
        self.stop()
        self.start()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _make_pki(folder: str, port: int, **kw: Any) -> dict[str, Any]:
    shutil.rmtree(folder, ignore_errors=True)
    return testpki.create_responder_pki(
        folder, f"http://127.0.0.1:{port}",
        positions=testpki.DEFAULT_POSITIONS + SIGNERS, **kw)


@pytest.fixture
def pki(tmp_path: Any) -> Iterator[dict[str, Any]]:
    port = _free_port()
    manifest = _make_pki(str(tmp_path / "pki"), port)
    responder = Responder(manifest["dir"], port)
    responder.start()
    try:
        yield {**manifest, "port": port, "responder_ctl": responder}
    finally:
        responder.stop()


@pytest.fixture
def long_term(pki: dict[str, Any], ckan_config: Any, monkeypatch: pytest.MonkeyPatch
              ) -> dict[str, Any]:
    """The portal configured for PAdES B-LTA and hard-fail revocation checks."""
    prefix = pki["responder"]["url_prefix"]
    for key, value in {
        "signing.pki_dir": pki["dir"],
        "signing.tsa_url": pki["responder"]["tsa"],
        "signing.revocation_urls": prefix + "/",
        "signing.trust_roots": pki["root"],
    }.items():
        monkeypatch.setitem(ckan_config, f"ckanext.statrequest.{key}", value)
    return pki


def _register(names: tuple[str, ...] = SIGNERS) -> None:
    """Each signer's credential: their key in the configured signing folder."""
    for name in names:
        as_sysadmin("statrequest_credential_set", user=name, backend="pkcs12",
                    reference=f"{name}.p12")


def _current_letter(rid: str) -> bytes:
    from ckanext.statrequest.lib import attachments
    from ckanext.statrequest.model import Attachment, Request

    model.Session.expire_all()
    request = model.Session.get(Request, rid)
    row = model.Session.get(Attachment, request.letter_attachment_id)
    return b"".join(attachments.read(row.file_id))


def _walk_to_paraf(office: Any) -> str:
    return walk(office, submit()["id"], "teruskan_ke_kabid")


def _sign(rid: str) -> list[bytes]:
    """Paraf, paraf, signature; the letter after each step (draft first)."""
    versions = [_current_letter(rid)]
    for user, step in (("kabid", "paraf_kabid"), ("sekretaris", "paraf_sekretaris"),
                       ("kadis", "tandatangani")):
        fire(user, rid, step, passphrase=PASSPHRASE)
        versions.append(_current_letter(rid))
    return versions


def _verify_upload(pdf: bytes) -> dict[str, Any]:
    return act(None, "statrequest_verify", upload=upload("surat.pdf", pdf))


def verapdf(paths: list[str], flavour: str = "3b") -> dict[str, bool]:
    """veraPDF's verdict per file, all files in one JVM run."""
    if not os.path.exists(VERAPDF_CP):
        subprocess.run(["bash", os.path.join(HERE, "dev", "services.sh"), "install-verapdf"],
                       check=True, timeout=900)
    with open(VERAPDF_CP) as f:
        classpath = f.read().strip()
    run = subprocess.run(
        ["java", "-cp", classpath, "org.verapdf.apps.GreenfieldCliWrapper", "--flavour", flavour,
         "--format", "json", *paths], capture_output=True, timeout=300, check=False)
    report = json.loads(run.stdout)
    verdicts = {}
    for job in report["report"]["jobs"]:
        results = job["validationResult"]
        verdicts[job["itemDetails"]["name"]] = bool(results) and all(
            r["compliant"] for r in results)
    return verdicts


# --- the tests ----------------------------------------------------------------------------------


def test_signed_letter_is_b_lta_valid_and_pdfa(long_term, office, tmp_path):
    _register()
    rid = _walk_to_paraf(office)
    versions = _sign(rid)
    signed = versions[-1]

    result = _verify_upload(signed)
    assert result["status"] == "valid", result
    assert result["letter"]["letter_number"]
    verdict = verify_pdf(signed, testpki.load_pem_certs(long_term["root"]),
                         RevocationCheck((long_term["responder"]["url_prefix"] + "/",)))
    signatures = [s for s in verdict.signers if s.kind == "signature"]
    assert [s.field for s in signatures] == ["Paraf1", "Paraf2", "TTE"]
    # B-T: every signature carries a TSA timestamp token (paraf too)
    assert all(s.timestamped for s in signatures)
    # B-LT: revocation data embedded (DSS with per-signature VRI), B-LTA: a document timestamp
    assert b"/DSS" in signed and b"/VRI" in signed and b"/OCSPs" in signed
    assert verdict.signers[-1].kind == "timestamp"
    # every stage is an incremental update of the one before
    assert all(later.startswith(earlier) for earlier, later in zip(versions, versions[1:],
                                                                   strict=False))

    paths = []
    for name, pdf in zip(("draft", "paraf1", "paraf2", "signed"), versions, strict=True):
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(pdf)
        paths.append(str(path))
    assert verapdf(paths) == {p: True for p in paths}


def test_revoked_signer_gets_its_own_verdict(long_term, office):
    _register()
    rid = _walk_to_paraf(office)
    signed = _sign(rid)[-1]
    assert _verify_upload(signed)["status"] == "valid"

    # revoked AFTER the signature's timestamp (e.g. the official left): the letter stands.
    # Revocation dates are whole seconds (rounded down): let the signing second pass first.
    time.sleep(1.1)
    testpki.revoke_test_signer(long_term["dir"], "kadis")
    long_term["responder_ctl"].restart()
    assert _verify_upload(signed)["status"] == "valid"

    # revoked with a date before the signature (key compromise found later): not valid
    testpki.revoke_test_signer(long_term["dir"], "kadis",
                               dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2))
    long_term["responder_ctl"].restart()
    result = _verify_upload(signed)
    assert result["status"] == "revoked", result
    assert result["title"] == "Signer's certificate revoked"
    tte = [s for s in result["signers"] if s["kind"] == "signature"][-1]
    assert tte["revoked"] is True

    # hard-fail: with the revocation service down, no "valid" either
    long_term["responder_ctl"].stop()
    assert _verify_upload(signed)["status"] == "untrusted"


def test_expired_signer_with_timestamp_and_ltv_stays_valid(long_term, office, ckan_config,
                                                          monkeypatch, tmp_path):
    rid = _walk_to_paraf(office)
    # The signers' certificates expire a few seconds after they sign (BSrE's last ~2 years).
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    until = now + dt.timedelta(seconds=25)
    port = long_term["port"]
    short = _make_pki(str(tmp_path / "short-pki"), port,
                      signer_validity=(now - dt.timedelta(days=1), until))
    long_term["responder_ctl"].folder = short["dir"]
    long_term["responder_ctl"].restart()
    monkeypatch.setitem(ckan_config, "ckanext.statrequest.signing.pki_dir", short["dir"])
    monkeypatch.setitem(ckan_config, "ckanext.statrequest.signing.trust_roots", short["root"])
    _register()
    signed = _sign(rid)[-1]
    assert _verify_upload(signed)["status"] == "valid"

    time.sleep(max(0.0, (until - dt.datetime.now(dt.timezone.utc)).total_seconds()) + 1.5)
    roots = testpki.load_pem_certs(short["root"])
    # the same file without a timestamp and revocation data would now be "untrusted"
    result = _verify_upload(signed)
    assert result["status"] == "valid", result
    verdict = verify_pdf(signed, roots, RevocationCheck((short["responder"]["url_prefix"],)))
    assert all(s.long_term for s in verdict.signers if s.kind == "signature")


def test_ltv_refresh_adds_a_timestamp_once(long_term, office, cli):
    from ckanext.statrequest.cli import statrequest

    _register()
    rid = _walk_to_paraf(office)
    signed = _sign(rid)[-1]

    # The TSA still signs with the certificate of the letter's timestamp: nothing to gain.
    result = cli.invoke(statrequest, ["ltv-refresh", "--days", "40000"])
    assert result.exit_code == 0, result.output
    assert "same_tsa_certificate" in result.output
    assert _current_letter(rid) == signed

    # The TSA got a new certificate: the letter gets a new document timestamp, once.
    testpki.renew_test_tsa(long_term["dir"])
    long_term["responder_ctl"].restart()
    result = cli.invoke(statrequest, ["ltv-refresh", "--days", "40000"])
    assert result.exit_code == 0, result.output
    assert "1 refreshed" in result.output
    renewed = _current_letter(rid)
    assert renewed.startswith(signed) and len(renewed) > len(signed)
    roots = testpki.load_pem_certs(long_term["root"])
    before = verify_pdf(signed, roots)
    after = verify_pdf(renewed, roots)
    assert after.status == "valid"
    assert [s.kind for s in after.signers].count("timestamp") == \
        [s.kind for s in before.signers].count("timestamp") + 1

    again = cli.invoke(statrequest, ["ltv-refresh", "--days", "40000"])
    assert again.exit_code == 0 and "refreshed" not in again.output
    assert _current_letter(rid) == renewed

    # both versions are letters of this portal (the old hash stays on record)
    assert _verify_upload(renewed)["status"] == "valid"
    assert _verify_upload(signed)["status"] == "valid"
    shown = as_sysadmin("statrequest_show", id=rid)
    assert shown["state"] == "selesai"


def test_init_test_pki_points_at_the_pki_service(cli, clean_db, tmp_path, ckan_config,
                                                monkeypatch):
    """The demo's test PKI: certificates whose OCSP/CRL addresses, and a TSA, at the port of
    the service dev/services.sh starts (certomancer animate on that config)."""
    from asn1crypto import pem, x509

    from ckanext.statrequest.cli import statrequest

    monkeypatch.setitem(ckan_config, "ckanext.statrequest.signing.test_pki_url",
                        "http://127.0.0.1:9010")
    result = cli.invoke(statrequest, ["init-test-pki", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    config = tmp_path / testpki.RESPONDER_DIR / testpki.RESPONDER_CONFIG
    assert "http://127.0.0.1:9010" in config.read_text()
    certs = list(tmp_path.glob("*.cert.pem"))
    assert certs
    _, _, der = pem.unarmor(certs[0].read_bytes())
    cert = x509.Certificate.load(der)
    assert cert.ocsp_urls == ["http://127.0.0.1:9010/statrequest-test/ocsp/interm"]
    crl_urls = [name.native for point in cert.crl_distribution_points
                for name in point["distribution_point"].chosen]
    assert crl_urls and all(u.startswith("http://127.0.0.1:9010/") for u in crl_urls)
    # the same config serves (what `certomancer animate` loads)
    assert testpki.responder_app(config) is not None
