"""Imported only by the verification fork server (see ``sandbox``): check one signed sample.

Signature validation initialises much lazily on first use (certificate path building, CMS and
change-analysis machinery). Done once here, before the server forks, every child starts warm:
about 100 ms less per checked letter. The sample is signed with a throwaway key made here.
"""

from __future__ import annotations

import datetime as dt
import io
import logging

log = logging.getLogger(__name__)


def _warm() -> None:
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    from .pdfbudget import Budget
    from .samples import pdf_bytes
    from .verify import verify_pdf

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "warm-up")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.KeyUsage(True, True, False, False, False, True, True, False,
                                         False), critical=True)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    asn1_cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    signer = signers.SimpleSigner(
        signing_cert=asn1_cert,
        signing_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())),
        cert_registry=SimpleCertificateStore.from_certs([asn1_cert]))
    pdf = pdf_bytes("warm-up")
    for field_name in ("A", "B"):  # two, so that the change analysis runs too
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        pdf = signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name=field_name),
                               signer=signer).getvalue()
    verify_pdf(pdf, [asn1_cert], budget=Budget())


try:
    _warm()
except Exception:  # noqa: BLE001 - only a speed-up; the server works without it
    log.warning("verification warm-up failed", exc_info=True)
