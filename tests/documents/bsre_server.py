"""A local look-alike of the BSrE esign-client API v2 (``POST /api/v2/sign/pdf``), for tests.

It answers exactly the documented shape and nothing else: HTTP Basic credentials of the
client application; a JSON body with ``nik``, ``passphrase``, ``signatureProperties`` (objects
with ``tampilan`` VISIBLE/INVISIBLE, ``imageBase64``, ``page``, ``originX``, ``originY``,
``width``, ``height``, ``location``, ``reason``, ``contactInfo``) and ``file`` (base64 PDFs);
any other field is refused with HTTP 400. The answer is ``{"time": ms, "file": [base64]}``,
errors are ``{"status_code": n, "error": "..."}``. Like the real service it signs into a NEW
signature field of its own: visible at the given page (1-based) and rectangle (PDF points from
the lower-left corner), or invisible. With ``timestamper_url`` its signatures carry an RFC 3161
timestamp (PAdES B-T, as BSrE's do); without, B-B.

It really signs, with pyHanko and the test PKI, in a background thread with its own event loop on
127.0.0.1, so sync code (``sign_sync``) and async code can both call it.

Modes, to exercise the client's checks:

* ``ok``        as documented (new field where asked);
* ``shifted``   the new visible field lands 40 pt lower than asked;
* ``invisible`` ignore ``tampilan`` and sign invisibly;
* ``rewrite``   re-serialise the whole PDF (not incremental) and sign that: earlier signatures
                lose their byte ranges;
* ``overlay``   append a page-content change before signing: bytes are a prefix, but the earlier
                signatures now see a forbidden modification;
* ``error500``  plain-text HTTP 500;
* ``garbage``   HTTP 200 with a body that is not a PDF.
"""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import HTTPTimeStamper

from ckanext.statrequest.documents.certs import load_pem_certs

BODY_FIELDS = {"nik", "passphrase", "signatureProperties", "file"}
PROPERTY_FIELDS = {"tampilan", "imageBase64", "page", "originX", "originY", "width", "height",
                   "location", "reason", "contactInfo"}
_NUMBERS = ("page", "originX", "originY", "width", "height")


@dataclass
class BsreUser:
    p12_path: str
    passphrase: str
    chain_paths: tuple[str, ...] = ()


@dataclass
class BsreServer:
    users: dict[str, BsreUser]
    mode: str = "ok"
    basic_auth: tuple[str, str] = ("esign", "rahasia-aplikasi")
    requests: list[dict[str, Any]] = field(default_factory=list)  # bodies minus passphrase/file
    port: int = 0
    timestamper_url: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- HTTP ------------------------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/api/v2/sign/pdf", self._sign_pdf)
        return app

    @staticmethod
    def _err(status: int, code: int, message: str) -> web.Response:
        return web.json_response({"status_code": code, "error": message}, status=status)

    async def _sign_pdf(self, request: web.Request) -> web.Response:
        expected = "Basic " + base64.b64encode(":".join(self.basic_auth).encode()).decode()
        if request.headers.get("Authorization") != expected:
            return self._err(401, 401, "Unauthorized")
        try:
            body = await request.json()
        except ValueError:
            return self._err(400, 400, "Invalid JSON")
        if not isinstance(body, dict):
            return self._err(400, 400, "Invalid JSON")
        self.requests.append({k: v for k, v in body.items() if k not in ("passphrase", "file")})
        problem = self._check_shape(body)
        if problem:
            return self._err(400, 400, problem)
        if self.mode == "error500":
            return web.Response(status=500, text="Internal Server Error")
        user = self.users.get(body.get("nik", ""))
        if user is None:
            return self._err(400, 2011, "Pengguna tidak terdaftar")
        chain = [c for p in user.chain_paths for c in load_pem_certs(p)]
        try:
            signer = signers.SimpleSigner.load_pkcs12_data(
                Path(user.p12_path).read_bytes(), other_certs=chain,
                passphrase=str(body.get("passphrase", "")).encode())
        except ValueError:
            return self._err(400, 2031, "Passphrase anda salah")
        if self.mode == "garbage":
            return web.json_response({"time": 1, "file": [base64.b64encode(b"not a pdf").decode()]})
        try:
            pdf = base64.b64decode(body["file"][0])
            props = (body.get("signatureProperties") or [{}])[0]
        except (KeyError, IndexError, ValueError):
            return self._err(400, 400, "Dokumen tidak valid")
        started = time.perf_counter()
        try:
            signed = await self._do_sign(pdf, props, signer)
        except Exception as exc:  # noqa: BLE001 - mimic the service: any failure is a 500 JSON
            return self._err(500, 500, f"Gagal menandatangani dokumen: {type(exc).__name__}")
        return web.json_response({
            "time": int((time.perf_counter() - started) * 1000),
            "file": [base64.b64encode(signed).decode()],
        })

    @staticmethod
    def _check_shape(body: dict[str, Any]) -> str | None:
        """The documented request, or what is wrong with it (nothing undocumented passes)."""
        unknown = set(body) - BODY_FIELDS
        if unknown:
            return f"Unrecognized field(s): {', '.join(sorted(unknown))}"
        if not isinstance(body.get("nik"), str) or not isinstance(body.get("passphrase"), str):
            return "nik and passphrase are required"
        files, props = body.get("file"), body.get("signatureProperties")
        if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
            return "file must be an array of base64 PDF documents"
        if not isinstance(props, list) or len(props) != len(files):
            return "signatureProperties must be an array, one object per file"
        for prop in props:
            if not isinstance(prop, dict):
                return "signatureProperties must hold objects"
            unknown = set(prop) - PROPERTY_FIELDS
            if unknown:
                return f"Unrecognized signature property: {', '.join(sorted(unknown))}"
            if prop.get("tampilan") not in ("VISIBLE", "INVISIBLE"):
                return "tampilan must be VISIBLE or INVISIBLE"
            if prop["tampilan"] == "VISIBLE":
                if not all(isinstance(prop.get(k), (int, float)) for k in _NUMBERS):
                    return "VISIBLE needs page, originX, originY, width and height"
                if not isinstance(prop.get("imageBase64"), str):
                    return "VISIBLE needs imageBase64"
        return None

    async def _do_sign(self, pdf: bytes, props: dict[str, Any], signer: signers.Signer) -> bytes:
        if self.mode == "rewrite":
            out = BytesIO()
            copy_into_new_writer(PdfFileReader(BytesIO(pdf))).write(out)
            pdf = out.getvalue()
        if self.mode == "overlay":
            pdf = draw_on_first_page(pdf)
        name = f"Signature-BSrE-{len(self.requests)}"
        if props["tampilan"] == "VISIBLE" and self.mode != "invisible":
            x, y = float(props["originX"]), float(props["originY"])
            if self.mode == "shifted":
                y -= 40
            box = (x, y, x + float(props["width"]), y + float(props["height"]))
            spec = fields.SigFieldSpec(name, on_page=int(props["page"]) - 1,
                                       box=tuple(round(v) for v in box))  # type: ignore[arg-type]
        else:
            spec = fields.SigFieldSpec(name)
        meta = signers.PdfSignatureMetadata(
            field_name=name, subfilter=fields.SigSeedSubFilter.PADES,
            reason=props.get("reason"), location=props.get("location"),
        )
        writer = IncrementalPdfFileWriter(BytesIO(pdf))
        async with ClientSession() as session:
            timestamper = HTTPTimeStamper(self.timestamper_url, session=session) \
                if self.timestamper_url else None
            out = await signers.PdfSigner(meta, signer, timestamper=timestamper,
                                          new_field_spec=spec).async_sign_pdf(
                writer, output=BytesIO())
        return out.getvalue()

    # -- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> BsreServer:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            runner = web.AppRunner(self._app(), access_log=None)
            self._loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            self.port = runner.addresses[0][1]
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(runner.cleanup())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="bsre-test-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("BSrE test server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def draw_on_first_page(pdf: bytes) -> bytes:
    """Append an incremental update that paints a red box on page 1 (a forbidden change)."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    paint = generic.StreamObject(stream_data=b"q 1 0 0 rg 100 100 200 50 re f Q")
    writer.add_stream_to_page(0, writer.add_object(paint))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
