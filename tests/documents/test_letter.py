"""Rendering: text per outcome, escaping, the URL fetcher, PDF/A-3 attachment, field placement."""

from __future__ import annotations

import json
import shutil
import subprocess
from io import BytesIO

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from ckanext.statrequest.documents import letter
from ckanext.statrequest.documents.fields import add_signature_fields
from ckanext.statrequest.documents.layout import PARAF1, PARAF2, TTE, SignatureLayout
from ckanext.statrequest.documents.letter import (
    ASSETS_DIR,
    AssetURLFetcher,
    BlockedURLError,
    DeliveredFile,
    LetterHead,
    LetterRenderError,
    render_letter,
    render_letter_with_layout,
)
from ckanext.statrequest.documents.verify import verify_pdf

from .support import make_letter, pdftotext

OPENING = ("Menindaklanjuti surat Saudara tanggal 5 Maret 2026 perihal Permohonan Data "
           "“Jumlah Penduduk per Kecamatan Tahun 2025”")


@pytest.mark.parametrize(
    ("outcome", "expected", "absent"),
    [
        ("dipenuhi", ["permohonan data Saudara dapat dipenuhi.",
                      "jumlah_penduduk_kecamatan_1.csv", "10,3 KB", "Lampiran : 2 berkas"],
         ["belum dapat dipenuhi", "dipenuhi sebagian"]),
        ("dipenuhi_sebagian", ["dapat dipenuhi sebagian", "Data yang tersedia kami sampaikan",
                               "Data per desa belum dihimpun oleh OPD pengampu.",
                               "jumlah_penduduk_kecamatan_2.csv"], ["belum dapat dipenuhi"]),
        ("ditolak", ["permohonan data Saudara belum dapat dipenuhi dengan pertimbangan",
                     "Data per desa belum dihimpun oleh OPD pengampu.",
                     "menyampaikan pengaduan", "Lampiran : -"], ["SHA-256", ".csv"]),
    ],
)
def test_render_each_outcome(outcome: str, expected: list[str], absent: list[str]) -> None:
    data = make_letter(outcome)
    text = pdftotext(render_letter(data))
    for snippet in [
        "PEMERINTAH KABUPATEN KETAPANG", "DINAS KOMUNIKASI DAN INFORMATIKA",
        "Nomor : 000.9/042/Diskominfo/2026",
        "Hal : Tanggapan atas Permohonan Data", "Yth. Sdr. Ahmad Fauzi", OPENING,
        "nomor registrasi PDS-2026-000042",
        "Tembusan:", "Bupati Ketapang (sebagai laporan)",
        "Demikian disampaikan, atas perhatian Saudara diucapkan terima kasih.",
        "https://data.ketapangkab.go.id/permohonan/verifikasi/7f3c2a",
        *expected,
    ]:
        assert snippet in text, snippet
    # The page claims no signature: date, signer and statement are the signature's appearance.
    for snippet in [*absent, "Ketapang, 12 Maret 2026", "ditandatangani secara elektronik",
                    "Ditandatangani secara elektronik", "BSrE"]:
        assert snippet not in text, snippet
    for f in data.files:
        # Hashes wrap inside their cell; compare without spaces.
        assert f.sha256 in text.replace(" ", "")


def test_signature_block_and_draft_mark() -> None:
    import datetime as dt

    block = letter.SignatureBlock(
        place="Ketapang", date=dt.date(2026, 3, 14), title="Kepala Dinas Kominfo",
        signer_name="Dra. Sri Handayani", verification_url="https://portal.test/v/1",
        acting="Plh.", rank="Pembina (IV/a)", nip="197512122000032001",
        issuer_statement=letter.BSRE_STATEMENT)
    text = pdftotext(letter.render_signature_block(block, (238.0, 187.0)))
    for snippet in ("Ketapang, 14 Maret 2026", "Plh. Kepala Dinas Kominfo,",
                    "Ditandatangani secara elektronik", "Dra. Sri Handayani", "Pembina (IV/a)",
                    "NIP. 197512122000032001", "(BSrE), Badan Siber dan Sandi Negara"):
        assert snippet in text, snippet
    with pytest.raises(LetterRenderError, match="does not fit"):
        letter.render_signature_block(block, (120.0, 40.0))
    draft = pdftotext(letter.prepare_letter(make_letter()).pdf)
    assert "DRAF" in draft and "Ditandatangani secara elektronik" not in draft


def test_user_markup_is_text_not_markup() -> None:
    evil = '<img src="http://127.0.0.1:9/x.png"><script>alert(1)</script><b>tebal</b>'
    data = make_letter(
        "ditolak", addressee_name=evil, reason=evil,
        requested_data_title='"><link rel="attachment" href="file:///etc/passwd">',
        record={"note": "<script>x</script>"},
    )
    html = letter.render_html(data)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # Rendering succeeds: had the <img>/<link> been markup, the fetcher would have aborted it.
    pdf = render_letter(data)
    text = pdftotext(pdf)
    assert '<img src="http://127.0.0.1:9/x.png"><script>alert(1)</script><b>tebal</b>' in text
    assert 'file:///etc/passwd' in text


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "http://127.0.0.1:9/logo.png",
    "https://example.org/x.css",
    "ftp://example.org/x",
    f"file://{ASSETS_DIR}/../letter.py",
    f"file://{ASSETS_DIR}/%2e%2e/letter.py",
    f"file://otherhost{ASSETS_DIR}/logo-default.svg",
])
def test_fetcher_refuses(url: str) -> None:
    with pytest.raises(BlockedURLError):
        AssetURLFetcher().fetch(url)


def test_fetcher_allows_assets_and_data() -> None:
    resp = AssetURLFetcher().fetch((ASSETS_DIR / "logo-default.svg").as_uri())
    assert b"<svg" in resp.read()
    resp = AssetURLFetcher().fetch("data:text/plain;base64,aGFsbw==")
    assert resp.read() == b"halo"


@pytest.mark.parametrize("markup", [
    '<img src="file:///etc/passwd">',
    '<img src="http://127.0.0.1:9/x.png">',
    '<style>@import url("http://127.0.0.1:9/x.css");</style><p>x</p>',
    '<p style="background: url(file:///etc/hostname)">x</p>',
    '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9">'
    '<image href="file:///etc/passwd" width="9" height="9"/></svg>',
    # A data: SVG is allowed, but what it references goes through the same fetcher.
    '<img src="data:image/svg+xml,<svg xmlns=%22http://www.w3.org/2000/svg%22 '
    'xmlns:xlink=%22http://www.w3.org/1999/xlink%22 width=%229%22 height=%229%22>'
    '<image xlink:href=%22http://127.0.0.1:9/x.png%22 width=%229%22 height=%229%22/></svg>">',
    '<link rel="attachment" href="file:///etc/passwd"><p>x</p>',
])
def test_render_aborts_on_foreign_resources(markup: str) -> None:
    # Straight at the renderer, bypassing the template: the fetcher is the last line of defence.
    with pytest.raises(LetterRenderError, match="not allowed"):
        letter._render(f"<html><body>{markup}<div id='sig-paraf1'></div><div id='sig-paraf2'>"
                       "</div><div id='sig-tte'></div></body></html>")


def test_logo_must_stay_inside_assets() -> None:
    head = make_letter().letterhead
    bad = LetterHead(name_lines=head.name_lines, address=head.address, logo="../letter.py")
    with pytest.raises(LetterRenderError, match="assets"):
        render_letter(make_letter(letterhead=bad))


def test_logo_as_bytes() -> None:
    png = (ASSETS_DIR / "logo-default.svg").read_bytes()
    head = make_letter().letterhead
    data = make_letter(letterhead=LetterHead(head.name_lines, head.address, logo=png))
    assert render_letter(data).startswith(b"%PDF-")
    with pytest.raises(LetterRenderError, match="PNG, JPEG or SVG"):
        render_letter(make_letter(letterhead=LetterHead(head.name_lines, head.address,
                                                        logo=b"MZ\x90\x00 not an image")))


@pytest.mark.parametrize(("overrides", "match"), [
    ({"outcome": "ditolak", "reason": " "}, "reason"),
    ({"outcome": "ditunda"}, "outcome"),
    ({"verification_url": "javascript:alert(1)"}, "verification_url"),
    ({"files": [DeliveredFile("a.csv", 1, "XYZ")]}, "sha256"),
    ({"letter_number": ""}, "letter_number"),
])
def test_bad_data_is_rejected(overrides: dict, match: str) -> None:
    with pytest.raises(LetterRenderError, match=match):
        render_letter(make_letter(**overrides))


def test_pdfa3_with_record_attachment() -> None:
    data = make_letter()
    pdf = render_letter(data)
    reader = PdfFileReader(BytesIO(pdf))
    xmp = reader.root["/Metadata"].get_object().data.decode("utf-8")
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    af = reader.root["/AF"]
    assert len(af) == 1  # WeasyPrint 70 alone would list it twice
    assert af[0].get_object()["/AFRelationship"] == "/Data"
    # Independent reader: poppler's pdfdetach lists and extracts it.
    if shutil.which("pdfdetach"):
        listing = subprocess.run(["pdfdetach", "-list", "-"], input=pdf, capture_output=True,
                                 check=False, timeout=30)
        if listing.returncode == 0:  # older poppler cannot read stdin
            assert b"record.json" in listing.stdout
    record = verify_pdf(pdf, []).record
    assert record is not None
    assert record["letter"]["number"] == "000.9/042/Diskominfo/2026"
    assert record["letter"]["outcome"] == "dipenuhi"
    assert record["letter"]["files"][0]["sha256"] == data.files[0].sha256
    assert record["request"] == {"request_id": "b1e9", "submitted": "2026-03-05T09:12:00+07:00"}
    json.dumps(record)  # JSON-able round trip


def _field_rects(pdf: bytes) -> dict[str, tuple[int, tuple[float, ...]]]:
    reader = PdfFileReader(BytesIO(pdf))
    pages = [p.idnum for p in reader.root["/Pages"]["/Kids"]]
    out = {}
    for ref in reader.root["/AcroForm"]["/Fields"]:
        fld = ref.get_object()
        out[str(fld["/T"])] = (pages.index(fld.raw_get("/P").idnum),
                               tuple(float(v) for v in fld["/Rect"]))
    return out


def test_fields_sit_on_the_anchors() -> None:
    rendered = render_letter_with_layout(make_letter())
    layout = rendered.layout
    assert [f.name for f in layout] == [PARAF1, PARAF2, TTE]
    pdf = add_signature_fields(rendered.pdf, layout)
    assert pdf.startswith(rendered.pdf)  # incremental update
    rects = _field_rects(pdf)
    assert set(rects) == {PARAF1, PARAF2, TTE}
    for fb in layout:
        page, rect = rects[fb.name]
        assert page == fb.page
        assert all(abs(a - b) <= 1.0 for a, b in zip(rect, fb.box, strict=True)), (rect, fb.box)
    p1, p2, tte = (layout.get(n).box for n in (PARAF1, PARAF2, TTE))
    # Paraf boxes: small (2.8 x 1.1 cm), stacked, left of the signature block, near its bottom.
    for box in (p1, p2):
        assert 75 < box[2] - box[0] < 85 and 28 < box[3] - box[1] < 34
        assert box[2] < tte[0] and tte[1] - 5 < box[1] < tte[3]
    assert p2[3] <= p1[1]
    assert tte[2] - tte[0] > 200 and tte[3] - tte[1] > 100
    # Round trip for storage.
    assert SignatureLayout.from_dict(json.loads(json.dumps(layout.to_dict()))) == layout


def test_long_letter_puts_fields_on_last_page() -> None:
    files = [DeliveredFile(f"tabel_{i:02d}.xlsx", 2048 * i, f"{i:064x}") for i in range(1, 25)]
    rendered = render_letter_with_layout(make_letter(files=files))
    assert rendered.layout.page_count >= 2
    assert {f.page for f in rendered.layout} == {rendered.layout.page_count - 1}
    text = pdftotext(rendered.pdf)
    assert "tabel_24.xlsx" in text and "Hal. 2/" in text


def test_missing_anchor_is_an_error() -> None:
    with pytest.raises(LetterRenderError, match="signature areas"):
        letter._render("<html><body><p>no signature block</p></body></html>")


def test_fonts_are_liberation_and_embedded() -> None:
    exe = shutil.which("pdffonts")
    if exe is None:
        pytest.skip("pdffonts missing (apt-get install poppler-utils)")
    res = subprocess.run([exe, "-"], input=render_letter(make_letter()), capture_output=True,
                         check=False, timeout=30)
    if res.returncode != 0:  # older poppler cannot read stdin
        pytest.skip("pdffonts cannot read stdin")
    rows = [line.split() for line in res.stdout.decode().splitlines()[2:] if line.strip()]
    names = {row[0].split("+", 1)[-1] for row in rows}
    # System fonts from fonts-liberation2 (PDF/A needs every font embedded).
    assert {"Liberation-Serif", "Liberation-Sans", "Liberation-Mono"} <= names, names
    assert all(row[-5] == "yes" for row in rows), rows  # the "emb" column
