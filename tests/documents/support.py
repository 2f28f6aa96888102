"""Helpers shared by the documents tests (letters, signing chain, text extraction)."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import subprocess
from typing import Any

import pytest

from ckanext.statrequest.documents import testpki
from ckanext.statrequest.documents.layout import PARAF1, PARAF2, TTE
from ckanext.statrequest.documents.letter import DeliveredFile, LetterData, LetterHead
from ckanext.statrequest.documents.signers import Pkcs12Backend, SignMeta, sign_sync

PASSPHRASE = testpki.DEFAULT_PASSPHRASE
FIELD_POSITION = {PARAF1: "kepala_bidang", PARAF2: "sekretaris", TTE: "kepala_dinas"}
META = {
    PARAF1: SignMeta(reason="Paraf Kepala Bidang Statistik", location="Ketapang"),
    PARAF2: SignMeta(reason="Paraf Sekretaris", location="Ketapang"),
    TTE: SignMeta(reason="Tanda tangan elektronik Kepala Dinas", location="Ketapang"),
}


def backend_for(pki: dict[str, Any], position: str, **kw: Any) -> Pkcs12Backend:
    return Pkcs12Backend(pki["signers"][position]["p12"], [pki["chain"]], **kw)


def make_letter(outcome: str = "dipenuhi", **overrides: Any) -> LetterData:
    files = [] if outcome == "ditolak" else [
        DeliveredFile(f"jumlah_penduduk_kecamatan_{i}.csv", 10_000 * i + 512,
                      hashlib.sha256(f"berkas {i}".encode()).hexdigest())
        for i in range(1, 3)
    ]
    values: dict[str, Any] = dict(
        letterhead=LetterHead(
            name_lines=("Pemerintah Kabupaten Ketapang", "Dinas Komunikasi dan Informatika"),
            address="Jl. Letjen S. Parman No. 1, Ketapang, Kalimantan Barat 78811",
            phone="(0534) 32000", email="diskominfo@ketapangkab.go.id",
            website="diskominfo.ketapangkab.go.id",
        ),
        letter_number="000.9/042/Diskominfo/2026",
        place="Ketapang",
        date=dt.date(2026, 3, 12),
        hal="Tanggapan atas Permohonan Data",
        addressee_name="Sdr. Ahmad Fauzi",
        addressee_institution="Universitas Tanjungpura",
        addressee_address="Pontianak",
        outcome=outcome,
        requested_data_title="Jumlah Penduduk per Kecamatan Tahun 2025",
        request_number="PDS-2026-000042",
        request_date=dt.date(2026, 3, 5),
        signer_position="Kepala Dinas Komunikasi dan Informatika Kabupaten Ketapang",
        verification_url="https://data.ketapangkab.go.id/permohonan/verifikasi/7f3c2a",
        reason="" if outcome == "dipenuhi" else "Data per desa belum dihimpun oleh OPD pengampu.",
        files=files,
        tembusan=("Bupati Ketapang (sebagai laporan)", "Sekretaris Daerah Kabupaten Ketapang"),
        record={"request_id": "b1e9", "submitted": "2026-03-05T09:12:00+07:00"},
    )
    values.update(overrides)
    return LetterData(**values)


def sign_chain(pdf: bytes, pki: dict[str, Any], fields: tuple[str, ...] = (PARAF1, PARAF2, TTE),
               **backend_kw: Any) -> bytes:
    for name in fields:
        pdf = sign_sync(backend_for(pki, FIELD_POSITION[name], **backend_kw), pdf, name,
                        META[name], PASSPHRASE)
    return pdf


def pdftotext(pdf: bytes) -> str:
    """Text of a PDF via poppler's pdftotext (layout mode), whitespace-normalised."""
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("pdftotext missing (apt-get install poppler-utils)")
    res = subprocess.run([exe, "-layout", "-enc", "UTF-8", "-", "-"], input=pdf,
                         capture_output=True, check=True, timeout=30)
    return " ".join(res.stdout.decode("utf-8").split())
