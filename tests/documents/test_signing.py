"""PKCS#12 signing chain (paraf -> paraf -> TTE) and the verdicts of verify_pdf."""

from __future__ import annotations

import asyncio
import time
from io import BytesIO
from typing import Any

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from ckanext.statrequest.documents import letter, testpki
from ckanext.statrequest.documents.fields import add_signature_fields
from ckanext.statrequest.documents.layout import PARAF1, PARAF2, TTE
from ckanext.statrequest.documents.letter import RenderedLetter
from ckanext.statrequest.documents.signers import (
    Pkcs12Backend,
    SignerBackend,
    SigningError,
    SignMeta,
    SignOptions,
    sign_sync,
)
from ckanext.statrequest.documents.verify import verify_pdf

from .bsre_server import draw_on_first_page
from .support import META, PASSPHRASE, backend_for, make_letter, sign_chain


def test_backend_satisfies_protocol(pki: dict[str, Any]) -> None:
    assert isinstance(backend_for(pki, "kepala_dinas"), SignerBackend)


def test_full_chain_is_valid(signed_chain: bytes, prepared: RenderedLetter, pki: dict[str, Any],
                             trust_roots: list[Any]) -> None:
    assert signed_chain.startswith(prepared.pdf)  # only ever appended to
    verdict = verify_pdf(signed_chain, trust_roots)
    assert verdict.status == "valid", verdict
    assert verdict.ok and verdict.reasons == ()
    assert [s.field for s in verdict.signers] == [PARAF1, PARAF2, TTE]
    assert verdict.signed_fields == (PARAF1, PARAF2, TTE) and verdict.empty_fields == ()
    assert verdict.letter_number == "000.9/042/Diskominfo/2026"
    expected = [pki["signers"][p] for p in ("kepala_bidang", "sekretaris", "kepala_dinas")]
    for info, who in zip(verdict.signers, expected, strict=True):
        assert info.kind == "signature"
        assert info.name == who["name"] and info.serial_number == who["nip"]
        assert info.intact and info.valid and info.trusted
        assert info.signing_time is not None and not info.timestamped
        assert info.location == "Ketapang"
    levels = [s.modification_level for s in verdict.signers]
    assert levels == ["FORM_FILLING", "FORM_FILLING", "NONE"]
    assert verdict.signers[0].reason == "Paraf Kepala Bidang Statistik"


def test_byte_flip_is_detected(signed_chain: bytes, trust_roots: list[Any]) -> None:
    # Flip one byte inside the first page's content stream (covered by all three signatures).
    start = signed_chain.index(b"stream", signed_chain.index(b"/FlateDecode")) + 40
    tampered = bytearray(signed_chain)
    tampered[start] ^= 0x01
    verdict = verify_pdf(bytes(tampered), trust_roots)
    assert verdict.status in ("changed", "damaged"), verdict
    assert verdict.sha256 != verify_pdf(signed_chain, trust_roots).sha256


def test_incremental_update_after_signing_is_changed(signed_chain: bytes,
                                                     trust_roots: list[Any]) -> None:
    tampered = draw_on_first_page(signed_chain)
    assert tampered.startswith(signed_chain)
    verdict = verify_pdf(tampered, trust_roots)
    assert verdict.status == "changed" and verdict.reasons == ("modified_after_signing",)
    assert all(s.intact for s in verdict.signers)  # bytes intact, but the update is forbidden


def test_paraf_after_final_signature_breaks_the_lock(prepared: RenderedLetter,
                                                     pki: dict[str, Any],
                                                     trust_roots: list[Any]) -> None:
    # Out of order (the workflow forbids it): the TTE lock makes a later paraf detectable.
    pdf = sign_chain(prepared.pdf, pki, fields=(TTE, PARAF1))
    assert verify_pdf(pdf, trust_roots).status == "changed"


def test_other_ca_is_untrusted(prepared: RenderedLetter, other_pki: dict[str, Any],
                               trust_roots: list[Any]) -> None:
    pdf = sign_sync(backend_for(other_pki, "kepala_bidang"), prepared.pdf, PARAF1, META[PARAF1],
                    PASSPHRASE)
    verdict = verify_pdf(pdf, trust_roots)
    assert verdict.status == "untrusted" and verdict.reasons == ("untrusted_signer",)
    assert verdict.signers[0].intact and not verdict.signers[0].trusted


@pytest.mark.parametrize("blob", [b"", b"garbage, not a PDF at all", b"%PDF-1.7\n%%EOF\n",
                                  b"%PDF-1.7\n" + b"\x00" * 4096])
def test_garbage_is_damaged(blob: bytes, trust_roots: list[Any]) -> None:
    assert verify_pdf(blob, trust_roots).status == "damaged"


def test_truncated_signed_pdf_is_damaged(signed_chain: bytes, trust_roots: list[Any]) -> None:
    verdict = verify_pdf(signed_chain[: len(signed_chain) * 2 // 3], trust_roots)
    assert verdict.status in ("damaged", "changed")


def test_unsigned_letter(prepared: RenderedLetter, trust_roots: list[Any]) -> None:
    verdict = verify_pdf(prepared.pdf, trust_roots)
    assert verdict.status == "unsigned" and verdict.signers == []
    assert verdict.empty_fields == (PARAF1, PARAF2, TTE)
    assert verdict.letter_number == "000.9/042/Diskominfo/2026"


def test_wrong_passphrase_changes_nothing(prepared: RenderedLetter, pki: dict[str, Any]) -> None:
    original = bytes(prepared.pdf)
    with pytest.raises(SigningError) as err:
        sign_sync(backend_for(pki, "kepala_bidang"), prepared.pdf, PARAF1, META[PARAF1],
                  "salah-ketik")
    assert err.value.code == "bad_secret" and "kata sandi salah" in err.value.message
    assert "salah-ketik" not in repr(err.value)
    assert prepared.pdf == original


def test_missing_key_file(prepared: RenderedLetter, tmp_path: Any) -> None:
    with pytest.raises(SigningError) as err:
        sign_sync(Pkcs12Backend(tmp_path / "nope.p12"), prepared.pdf, PARAF1, META[PARAF1], "x")
    assert err.value.code == "key_unavailable"


def test_field_typo_fails_loudly(prepared: RenderedLetter, pki: dict[str, Any]) -> None:
    with pytest.raises(SigningError) as err:
        sign_sync(backend_for(pki, "kepala_bidang"), prepared.pdf, "Paraf_1", META[PARAF1],
                  PASSPHRASE)
    assert err.value.code == "no_field"


def test_field_cannot_be_signed_twice(signed_chain: bytes, pki: dict[str, Any]) -> None:
    with pytest.raises(SigningError) as err:
        sign_sync(backend_for(pki, "kepala_dinas"), signed_chain, TTE, META[TTE], PASSPHRASE)
    assert err.value.code == "field_signed"


def test_not_a_pdf_input(pki: dict[str, Any]) -> None:
    with pytest.raises(SigningError) as err:
        sign_sync(backend_for(pki, "kepala_dinas"), b"not a pdf", TTE, META[TTE], PASSPHRASE)
    assert err.value.code == "bad_input"


def test_sign_sync_inside_running_loop(prepared: RenderedLetter, pki: dict[str, Any],
                                       trust_roots: list[Any]) -> None:
    async def from_async_code() -> tuple[bytes, str]:
        pdf = sign_sync(backend_for(pki, "kepala_bidang"), prepared.pdf, PARAF1, META[PARAF1],
                        PASSPHRASE)
        return pdf, verify_pdf(pdf, trust_roots).status

    pdf, status = asyncio.run(from_async_code())
    assert status == "valid"
    assert [f for f, filled in _fields(pdf) if filled] == [PARAF1]


def _fields(pdf: bytes) -> list[tuple[str, bool]]:
    from pyhanko.sign.fields import enumerate_sig_fields

    reader = PdfFileReader(BytesIO(pdf))
    return [(n, v is not None) for n, v, _ in enumerate_sig_fields(reader)]


def test_testpki_is_idempotent(pki: dict[str, Any]) -> None:
    again = testpki.create_test_pki(pki["dir"])
    assert again == pki
    grown = testpki.create_test_pki(pki["dir"], positions=("kepala_dinas", "staf"))
    assert grown["signers"]["kepala_dinas"] == pki["signers"]["kepala_dinas"]
    assert set(grown["signers"]) >= {"kepala_bidang", "sekretaris", "kepala_dinas", "staf"}


def test_timings(pki: dict[str, Any], trust_roots: list[Any],
                 capsys: pytest.CaptureFixture[str]) -> None:
    """Not an assertion on speed: prints render + 2 paraf + TTE + verify for the record."""
    data = make_letter()
    letter.render_letter(data)  # warm fonts and template caches, as a long-lived worker is
    backends = {name: backend_for(pki, pos) for name, pos in
                ((PARAF1, "kepala_bidang"), (PARAF2, "sekretaris"), (TTE, "kepala_dinas"))}
    t0 = time.perf_counter()
    rendered = letter.render_letter_with_layout(data)
    t1 = time.perf_counter()
    pdf = add_signature_fields(rendered.pdf, rendered.layout)
    t2 = time.perf_counter()
    steps = []
    for name in (PARAF1, PARAF2, TTE):
        s = time.perf_counter()
        pdf = sign_sync(backends[name], pdf, name, SignMeta(reason=name), PASSPHRASE)
        steps.append(time.perf_counter() - s)
    t3 = time.perf_counter()
    verdict = verify_pdf(pdf, trust_roots)
    t4 = time.perf_counter()
    assert verdict.status == "valid"
    with capsys.disabled():
        print(
            f"\n[timing] render {t1 - t0:.3f}s, fields {t2 - t1:.3f}s, "
            f"paraf1 {steps[0]:.3f}s, paraf2 {steps[1]:.3f}s, tte {steps[2]:.3f}s, "
            f"total render+fields+3 signatures {t3 - t0:.3f}s; verify {t4 - t3:.3f}s; "
            f"{rendered.layout.page_count} page(s), {len(pdf)} bytes"
        )


def test_record_bomb_is_not_decoded(prepared: RenderedLetter, trust_roots: list[Any]) -> None:
    """A record.json that inflates to 64 MiB (a Flate "bomb") is refused, not decoded."""
    import tracemalloc
    import zlib

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(BytesIO(prepared.pdf))
    bomb = generic.StreamObject(
        {generic.pdf_name("/Filter"): generic.pdf_name("/FlateDecode")},
        encoded_data=zlib.compress(b"{" + b" " * (64 * 1024 * 1024) + b"}", 9),
    )
    spec = generic.DictionaryObject({
        generic.pdf_name("/Type"): generic.pdf_name("/Filespec"),
        generic.pdf_name("/F"): generic.TextStringObject("record.json"),
        generic.pdf_name("/UF"): generic.TextStringObject("record.json"),
        generic.pdf_name("/EF"): generic.DictionaryObject(
            {generic.pdf_name("/F"): writer.add_object(bomb)}),
    })
    writer.root[generic.pdf_name("/Names")] = generic.DictionaryObject({
        generic.pdf_name("/EmbeddedFiles"): generic.DictionaryObject({
            generic.pdf_name("/Names"): generic.ArrayObject(
                [generic.TextStringObject("record.json"), writer.add_object(spec)]),
        }),
    })
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    tracemalloc.start()
    try:
        verdict = verify_pdf(out.getvalue(), trust_roots)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert verdict.status == "unsigned" and verdict.record is None
    assert peak < 40 * 1024 * 1024, peak


def test_too_small_reservation_is_retried(prepared: RenderedLetter, pki: dict[str, Any],
                                          trust_roots: list[Any]) -> None:
    backend = backend_for(pki, "kepala_bidang", options=SignOptions(bytes_reserved=2048))
    pdf = sign_sync(backend, prepared.pdf, PARAF1, META[PARAF1], PASSPHRASE)
    assert verify_pdf(pdf, trust_roots).status == "valid"
    with pytest.raises(ValueError, match="even"):
        SignOptions(bytes_reserved=4095)
