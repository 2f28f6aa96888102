"""Benchmark of the reply letter: render alone vs the whole signing chain at PAdES B-LTA.

Run from the repository root (no CKAN, no database needed):

    .venv/bin/python bench/letters.py [--rounds 7]

It makes a throw-away test PKI whose TSA, OCSP responder and CRLs are served by
`certomancer animate` on a free loopback port, in its own process as in the demo (in this
process it would compete for the GIL and be counted as signing time), then measures, as
medians over the rounds after one warm-up:

* render alone: the letter's HTML to PDF/A-3b with its empty signature fields;
* the chain: render + 2 paraf + final signature, every signature with a TSA timestamp and
  embedded revocation data (B-LT) and the final one with a document timestamp (B-LTA);
  and the same with paraf at B-T only (timestamp, no revocation data) for comparison;
* verification of the B-LTA letter: offline, and with a hard-fail revocation check against
  the service.

It prints the numbers and the ratios to render alone (goal: chain <= 4x render).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ckanext.statrequest.documents import testpki
from ckanext.statrequest.documents.layout import PARAF1, PARAF2, TTE
from ckanext.statrequest.documents.letter import DeliveredFile, LetterData, LetterHead, prepare_letter
from ckanext.statrequest.documents.signers import Pkcs12Backend, SignMeta, SignOptions, sign_sync
from ckanext.statrequest.documents.verify import RevocationCheck, verify_pdf

POSITION = {PARAF1: "kepala_bidang", PARAF2: "sekretaris", TTE: "kepala_dinas"}


def letter() -> LetterData:
    """A typical two-file reply letter (only the fields this version of LetterData has)."""
    values: dict[str, Any] = dict(
        letterhead=LetterHead(
            name_lines=("Pemerintah Kabupaten Ketapang", "Dinas Komunikasi dan Informatika"),
            address="Jl. Letjen S. Parman No. 1, Ketapang", phone="(0534) 32000",
            email="diskominfo@ketapangkab.go.id", website="diskominfo.ketapangkab.go.id"),
        letter_number="500.12.11.3/042/Diskominfo/2026", place="Ketapang",
        date=dt.date(2026, 3, 12), hal="Jawaban Permohonan Data",
        addressee_name="Sdr. Ahmad Fauzi", addressee_institution="Universitas Tanjungpura",
        addressee_address="Pontianak", outcome="dipenuhi",
        requested_data_title="Jumlah Penduduk per Kecamatan Tahun 2025",
        request_number="PDS-2026-000042", request_date=dt.date(2026, 3, 5),
        signer_name="Budi Santoso, S.Kom., M.M.", signer_nip="197203101998031003",
        signer_position="Kepala Dinas Komunikasi dan Informatika",
        paraf1_name="Andi Pratama, S.T., M.T.", paraf2_name="Siti Rahmawati, S.Sos., M.Si.",
        verification_url="https://data.ketapangkab.go.id/permintaan-data/verifikasi/7f3c2a",
        reason="", files=[DeliveredFile("penduduk.csv", 10_512, "0" * 64),
                          DeliveredFile("penduduk-desa.csv", 20_512, "1" * 64)],
        tembusan=("Bupati Ketapang",), record={"request_id": "bench"},
    )
    names = {f.name for f in dataclasses.fields(LetterData)}
    return LetterData(**{k: v for k, v in values.items() if k in names})


def median(fn: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    fn()  # warm-up (imports, fonts, first TLS-less connections)
    times, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    work = Path(tempfile.mkdtemp(prefix="bench-letters-"))
    pki = testpki.create_responder_pki(work / "pki", f"http://127.0.0.1:{port}")
    certomancer = Path(sys.executable).with_name("certomancer")
    service = subprocess.Popen(
        [str(certomancer), "--config", pki["responder"]["config"], "animate", "--port",
         str(port), "--no-web-ui", "--no-time-override"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.1)
    roots = testpki.load_pem_certs(pki["root"])
    tsa = pki["responder"]["tsa"]
    blt = SignOptions(timestamper_url=tsa, embed_validation_info=True, trust_roots=roots)
    blta = SignOptions(timestamper_url=tsa, embed_validation_info=True, trust_roots=roots,
                       lta_on_final=True)
    bt = SignOptions(timestamper_url=tsa)
    data = letter()

    def render() -> bytes:
        return prepare_letter(data).pdf

    def chain(paraf_options: SignOptions) -> Callable[[], bytes]:
        def run() -> bytes:
            pdf = render()
            for field in (PARAF1, PARAF2, TTE):
                options = blta if field == TTE else paraf_options
                backend = Pkcs12Backend(pki["signers"][POSITION[field]]["p12"], options=options)
                pdf = sign_sync(backend, pdf, field, SignMeta(reason="bench"),
                                testpki.DEFAULT_PASSPHRASE)
            return pdf
        return run

    t_render, _ = median(render, args.rounds)
    t_lt, signed = median(chain(blt), args.rounds)
    t_bt, _ = median(chain(bt), args.rounds)
    check = RevocationCheck((pki["responder"]["url_prefix"] + "/",))
    t_verify, verdict = median(lambda: verify_pdf(signed, roots), args.rounds)
    t_verify_rev, verdict_rev = median(lambda: verify_pdf(signed, roots, check), args.rounds)
    service.terminate()
    service.wait(10)
    assert verdict.status == verdict_rev.status == "valid", (verdict, verdict_rev)

    print(f"letters bench - {platform.python_version()}, {platform.machine()}, "
          f"{args.rounds} rounds, medians (s); TSA/OCSP/CRL on 127.0.0.1")
    rows = [
        ("render alone (PDF/A-3b + 3 empty fields)", t_render),
        ("render + 2 paraf B-LT + final B-LTA", t_lt),
        ("render + 2 paraf B-T + final B-LTA", t_bt),
        ("verify B-LTA letter, offline", t_verify),
        ("verify B-LTA letter, revocation hard-fail", t_verify_rev),
    ]
    for label, value in rows:
        print(f"  {label:<46} {value:7.3f}  {value / t_render:5.1f}x render")
    print(f"  final letter: {len(signed)} bytes, "
          f"{sum(1 for s in verdict.signers if s.kind == 'timestamp')} document timestamp(s)")
    goal = t_lt <= 4 * t_render
    print(f"  goal chain <= 4x render: {'met' if goal else 'NOT met'}")
    sys.exit(0)


if __name__ == "__main__":
    main()
