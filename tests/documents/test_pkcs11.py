"""PKCS#11 backend against a real SoftHSM2 token in a temporary directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from ckanext.statrequest.documents.layout import PARAF1, PARAF2
from ckanext.statrequest.documents.letter import RenderedLetter
from ckanext.statrequest.documents.signers import Pkcs11Backend, SigningError, sign_sync
from ckanext.statrequest.documents.verify import verify_pdf

from .support import META, PASSPHRASE

SOFTHSM_LIB = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN = "statrequest-test"
USER_PIN = "246810"
KEY_LABEL = "kepala_bidang"


def _import_key_and_cert(pki: dict[str, Any]) -> None:
    import pkcs11
    from pkcs11 import Attribute
    from pkcs11.util.rsa import decode_rsa_private_key
    from pkcs11.util.x509 import decode_x509_certificate

    p12 = Path(pki["signers"][KEY_LABEL]["p12"]).read_bytes()
    key, cert, _ = pkcs12.load_key_and_certificates(p12, PASSPHRASE.encode())
    assert key is not None and cert is not None
    key_der = key.private_bytes(serialization.Encoding.DER,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    cert_der = cert.public_bytes(serialization.Encoding.DER)
    token = pkcs11.lib(SOFTHSM_LIB).get_token(token_label=TOKEN)
    with token.open(rw=True, user_pin=USER_PIN) as session:
        common = {Attribute.TOKEN: True, Attribute.LABEL: KEY_LABEL, Attribute.ID: b"\x01"}
        session.create_object({
            **decode_rsa_private_key(key_der), **common,
            Attribute.SIGN: True, Attribute.PRIVATE: True, Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
        })
        session.create_object({**decode_x509_certificate(cert_der), **common})


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory, pki: dict[str, Any]) -> Iterator[None]:
    if not (os.path.exists(SOFTHSM_LIB) and shutil.which("softhsm2-util")):
        pytest.skip("SoftHSM2 not installed (apt-get install softhsm2)")
    base = tmp_path_factory.mktemp("softhsm")
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\n"
                    "log.level = ERROR\n")
    previous = os.environ.get("SOFTHSM2_CONF")
    # Must be set before the PKCS#11 library is first initialised in this process.
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", TOKEN,
                    "--pin", USER_PIN, "--so-pin", "13579111"],
                   check=True, capture_output=True, timeout=60)
    _import_key_and_cert(pki)
    yield
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


def _backend(pki: dict[str, Any], **kw: Any) -> Pkcs11Backend:
    return Pkcs11Backend(SOFTHSM_LIB, kw.pop("token", TOKEN), kw.pop("key", KEY_LABEL),
                         kw.pop("cert", KEY_LABEL), chain_paths=[pki["chain"]], **kw)


def test_pkcs11_paraf_is_valid(softhsm: None, prepared: RenderedLetter, pki: dict[str, Any],
                               trust_roots: list[Any], capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    pdf = sign_sync(_backend(pki), prepared.pdf, PARAF1, META[PARAF1], USER_PIN)
    with capsys.disabled():
        print(f"\n[timing] PKCS#11 (SoftHSM2) paraf {time.perf_counter() - started:.3f}s "
              "(session open + sign)")
    verdict = verify_pdf(pdf, trust_roots)
    assert verdict.status == "valid", verdict
    assert verdict.signers[0].field == PARAF1
    assert verdict.signers[0].name == pki["signers"][KEY_LABEL]["name"]
    assert verdict.signers[0].serial_number == pki["signers"][KEY_LABEL]["nip"]


def test_pkcs11_wrong_pin(softhsm: None, prepared: RenderedLetter, pki: dict[str, Any]) -> None:
    original = bytes(prepared.pdf)
    with pytest.raises(SigningError) as err:
        sign_sync(_backend(pki), prepared.pdf, PARAF1, META[PARAF1], "000000")
    assert err.value.code == "bad_secret"
    assert prepared.pdf == original


@pytest.mark.parametrize(("kw", "code"), [
    ({"token": "no-such-token"}, "key_unavailable"),
    ({"key": "nobody", "cert": "nobody"}, "key_unavailable"),
])
def test_pkcs11_missing_token_or_key(softhsm: None, prepared: RenderedLetter,
                                     pki: dict[str, Any], kw: dict[str, str], code: str) -> None:
    with pytest.raises(SigningError) as err:
        sign_sync(_backend(pki, **kw), prepared.pdf, PARAF1, META[PARAF1], USER_PIN)
    assert err.value.code == code


def test_pkcs11_field_typo(softhsm: None, prepared: RenderedLetter, pki: dict[str, Any]) -> None:
    with pytest.raises(SigningError) as err:
        sign_sync(_backend(pki), prepared.pdf, PARAF2 + "x", META[PARAF2], USER_PIN)
    assert err.value.code == "no_field"
