"""Load X.509 certificates (PEM or DER) as asn1crypto objects, the type pyHanko works with."""

from __future__ import annotations

import os
from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509


def load_certs_data(data: bytes) -> list[asn1_x509.Certificate]:
    """All certificates in PEM data (several blocks allowed) or one DER certificate."""
    if pem.detect(data):
        return [asn1_x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
    return [asn1_x509.Certificate.load(data)]


def load_pem_certs(path: str | os.PathLike[str]) -> list[asn1_x509.Certificate]:
    """All certificates in a PEM (or DER) file."""
    return load_certs_data(Path(path).read_bytes())
