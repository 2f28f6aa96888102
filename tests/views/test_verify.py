"""Public verification of signed reply letters: the letter page and the upload check."""
from __future__ import annotations

import io
import re
from typing import Any

import ckan.model as model
import ckantoolkit as tk
import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers as ph_signers
from support import PASSPHRASE, act, as_sysadmin, finished_request, pdf_bytes, png_bytes, upload

from ckanext.statrequest.lib import attachments
from ckanext.statrequest.model import Attachment, Request

pytestmark = pytest.mark.usefixtures("with_plugins", "test_pki")

PERSONAL = ("6104012345678901", "dewi@example.test", "Jl. Merdeka", "0812-3456-7890",
            "Dewi Lestari", "Universitas Tanjungpura", "Penelitian skripsi")


def _letter(rid: str) -> tuple[Request, bytes]:
    request = model.Session.get(Request, rid)
    row = model.Session.get(Attachment, request.letter_attachment_id)
    assert row.kind == "signed_reply"
    return request, b"".join(attachments.read(row.file_id))


def _sign(pdf: bytes, p12: str, field: str | None = "Tanda tangan") -> bytes:
    """Sign with pyHanko directly: into a new field, or into the letter's empty `field`."""
    signer = ph_signers.SimpleSigner.load_pkcs12(p12, passphrase=PASSPHRASE.encode())
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    return ph_signers.sign_pdf(writer, ph_signers.PdfSignatureMetadata(field_name=field),
                               signer=signer).getvalue()


def _edited_after_signing(pdf: bytes) -> bytes:
    """An incremental update that replaces the first page's text (keeps the signatures)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    page = page_ref.get_object()
    page["/Contents"] = writer.add_object(generic.StreamObject(
        stream_data=b"BT /F1 24 Tf 72 400 Td (Permohonan DIPENUHI seluruhnya) Tj ET"))
    writer.mark_update(page_ref)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _verify(data: bytes, **params: Any) -> dict[str, Any]:
    return act(None, "statrequest_verify", upload=upload("surat.pdf", data), **params)


def _csrf_token(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "the form carries no CSRF token"
    return match.group(1)


# First in the file on purpose: CKAN 2.12.0 exempts a view from CSRF for the rest of the
# process once an anonymous or API-token POST reached it (notes §0.6).
@pytest.mark.ckan_config("WTF_CSRF_ENABLED", True)
def test_a_logged_in_post_without_csrf_token_is_refused(app, office):
    app.set_session_user("other")
    page = app.get("/permintaan-data/verifikasi")
    data = {"upload": (io.BytesIO(pdf_bytes()), "surat.pdf")}
    app.post("/permintaan-data/verifikasi", data=data, status=400)
    answer = app.post("/permintaan-data/verifikasi", status=200, data={
        "_csrf_token": _csrf_token(page.body),
        "upload": (io.BytesIO(pdf_bytes()), "surat.pdf")})
    assert "statrequest-verdict-unsigned" in answer.body


def test_verdicts(office, test_pki, tmp_path):
    from ckanext.statrequest.documents.testpki import create_test_pki

    rid = finished_request(office)
    request, letter = _letter(rid)
    middle = len(letter) // 3
    one_byte = letter[:middle] + bytes([letter[middle] ^ 0x01]) + letter[middle + 1:]
    foreign = create_test_pki(tmp_path / "ca-asing", positions=["kepala_dinas"])
    (draft,) = model.Session.query(Attachment.file_id).filter_by(
        request_id=rid, kind="draft_reply").order_by(Attachment.created_at).first()
    unsigned_draft = b"".join(attachments.read(draft))  # the first draft, before any paraf
    ours_key = test_pki["signers"]["kepala_dinas"]["p12"]

    cases = {
        "the signed letter": letter,
        "one byte changed": one_byte,
        "edited after signing": _edited_after_signing(letter),
        "signed by a foreign CA": _sign(pdf_bytes("Surat palsu"), foreign["signers"][
            "kepala_dinas"]["p12"]),
        "signed with our key, not a letter": _sign(pdf_bytes("Dokumen lain"), ours_key),
        # right letter number, right key, but not the letter that was issued
        "our draft signed by the head's key": _sign(unsigned_draft, ours_key, field="TTE"),
        "garbage": b"%PDF-1.7\n" + bytes(range(256)) * 40,
        "cut in half": letter[: len(letter) // 2],
        "unsigned": pdf_bytes(),
    }
    got = {name: _verify(data)["status"] for name, data in cases.items()}
    # a flipped byte inside the signed range breaks the hash (changed); one in the signature
    # itself breaks the signature (damaged): both tell the reader not to trust the file
    assert got.pop("one byte changed") in ("changed", "damaged")
    assert got == {
        "the signed letter": "valid",
        "edited after signing": "changed",
        "signed by a foreign CA": "untrusted",
        "signed with our key, not a letter": "not_ours",
        "our draft signed by the head's key": "not_ours",
        "garbage": "damaged",
        "cut in half": "damaged",
        "unsigned": "unsigned",
    }

    valid = _verify(letter)
    assert valid["title"] and valid["message"]
    assert valid["letter"]["letter_number"] == request.letter_number
    assert [s["kind"] for s in valid["signers"]] == ["paraf", "paraf", "signature"]
    assert [s["position"] for s in valid["signers"]] == [
        "kepala_bidang", "sekretaris", "kepala_dinas"]
    # checked against its own page: the letter; against another letter's page: not ours
    assert _verify(letter, id=request.verification_code)["status"] == "valid"
    other = finished_request(office)
    assert _verify(letter, id=model.Session.get(Request, other).verification_code)[
        "status"] == "not_ours"
    # nothing is revealed about a letter the file is not
    assert _verify(cases["our draft signed by the head's key"])["letter"] is None


def test_bad_uploads_get_a_clear_error(office):
    for data, words in ((png_bytes(), "not a PDF"), (b"", "choose a PDF")):
        with pytest.raises(tk.ValidationError) as err:
            _verify(data)
        assert words in str(err.value.error_dict["upload"]), words
    with pytest.raises(tk.ValidationError):
        act(None, "statrequest_verify")


@pytest.mark.ckan_config("ckanext.statrequest.verify.max_upload_mb", 1)
def test_the_size_limit_is_enforced(office):
    big = pdf_bytes() + b"%" + b"x" * (1024 * 1024)
    with pytest.raises(tk.ValidationError) as err:
        _verify(big)
    assert "1 MB" in err.value.error_dict["upload"][0]


def test_the_letter_page_shows_the_public_facts_only(app, office):
    rid = finished_request(office)
    request, letter = _letter(rid)
    code = request.verification_code
    # the name in the certificate of the person who signed (keys belong to people)
    signer = next(c for c in as_sysadmin("statrequest_credential_list")
                  if c["user_name"] == "kadis")
    signer_name = re.search(r"Common Name: ([^,]+)", signer["cert_subject"]).group(1)
    for prefix in ("", "/en"):
        page = app.get(f"{prefix}/permintaan-data/verifikasi/{code}")
        body = page.body
        assert request.letter_number in body
        assert _letter_sha(rid) in body
        assert signer_name and signer_name in body
        assert 'name="upload"' in body and 'name="_csrf_token"' in body
        for value in PERSONAL:
            assert value not in body, value
    assert "Fulfilled" in app.get(f"/en/permintaan-data/verifikasi/{code}").body
    assert 'lang="en"' in app.get(f"/en/permintaan-data/verifikasi/{code}").body
    assert 'lang="id"' in app.get(f"/permintaan-data/verifikasi/{code}").body
    app.get("/permintaan-data/verifikasi/tidak-ada-kode-ini", status=404)
    app.get("/permintaan-data/verifikasi/" + "x" * 300, status=400)  # malformed, not unknown


def _letter_sha(rid: str) -> str:
    request = model.Session.get(Request, rid)
    return model.Session.get(Attachment, request.letter_attachment_id).sha256


def test_a_letter_not_yet_signed_has_no_page(app, office):
    from support import fire, submit

    rid = submit()["id"]
    fire("sekretaris", rid, "tolak", note="Dikecualikan.", reason="pasal17j")  # drafts a letter and its code
    request = model.Session.get(Request, rid)
    assert request.verification_code
    app.get(f"/permintaan-data/verifikasi/{request.verification_code}", status=404)


def test_anyone_can_check_a_file_on_the_pages(app, office):
    rid = finished_request(office)
    request, letter = _letter(rid)
    for user, prefix in ((None, ""), ("pemohon2", "/en")):
        app.set_session_user(user)
        page = app.post(f"{prefix}/permintaan-data/verifikasi",
                        data={"upload": (io.BytesIO(letter), "surat.pdf")})
        assert "statrequest-verdict-valid" in page.body
        assert request.letter_number in page.body
        page = app.post(f"{prefix}/permintaan-data/verifikasi/{request.verification_code}",
                        data={"upload": (io.BytesIO(letter[:-2000]), "surat.pdf")})
        assert "statrequest-verdict-damaged" in page.body or \
            "statrequest-verdict-changed" in page.body
    page = app.post("/en/permintaan-data/verifikasi",
                    data={"upload": (io.BytesIO(png_bytes()), "foto.png")})
    assert "This is not a PDF file." in page.body
    assert "statrequest-verdict" not in page.body
    assert "Check the file" in app.get("/en/permintaan-data/verifikasi").body
    assert 'lang="id"' in app.get("/permintaan-data/verifikasi").body


def test_the_api_verifies_for_anonymous_callers(app, office):
    rid = finished_request(office)
    request, letter = _letter(rid)
    answer = app.post("/api/3/action/statrequest_verify",
                      data={"upload": (io.BytesIO(letter), "surat.pdf")}).json["result"]
    assert answer["status"] == "valid"
    assert answer["letter"]["outcome"] == "dipenuhi"
    facts = app.get("/api/3/action/statrequest_verify",
                    query_string={"id": request.verification_code}).json["result"]["letter"]
    assert set(facts) == {"letter_number", "date", "signed_at", "outcome", "outcome_label",
                          "sha256", "status", "signers", "verification_url"}
    assert facts["status"] == "valid"
