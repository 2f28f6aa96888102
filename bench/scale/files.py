"""Small real files for requests of the load: every one different bytes (its `ref` inside)."""
from __future__ import annotations

import hashlib
import io

from ckanext.statrequest.documents.samples import pdf_bytes  # noqa: F401 - re-exported


def png_bytes(text: str) -> bytes:
    """A small PNG (a scanned identity card stand-in) carrying `text` in a tEXt chunk."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("ref", text)
    buf = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 30, 30)).save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
