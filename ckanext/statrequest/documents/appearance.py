"""Field appearances from one-page PDFs (rendered by WeasyPrint in ``letter.py``).

Paraf and the final signature go into pre-created fields that the earlier signatures lock
(FieldMDP). What a field shows therefore cannot be drawn on the page afterwards: it must be
the field's own appearance, written in the same incremental update as its signature. A
static stamp imports the rendered page natively (vectors, embedded fonts: PDF/A stays
intact), with an opaque background so nothing of the page underneath shows through.
"""

from __future__ import annotations

import binascii
import uuid
from io import BytesIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.content import PdfContent
from pyhanko.pdf_utils.form_tools import get_single_field_annot
from pyhanko.pdf_utils.layout import BoxConstraints
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign import fields as pdf_fields
from pyhanko.stamp import StaticStampStyle


class PdfPageBytes(PdfContent):
    """The first page of a PDF given as bytes, as a form XObject (cf. ``ImportedPdfPage``)."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self.data = data

    def render(self) -> bytes:
        writer = self._ensure_writer
        xobj = writer.import_page_as_xobject(PdfFileReader(BytesIO(self.data)), page_ix=0)
        name = "/Import" + binascii.hexlify(uuid.uuid4().bytes).decode("ascii")
        self.resources.xobject[name] = xobj
        x1, y1, x2, y2 = xobj.get_object()["/BBox"]
        self.box = BoxConstraints(width=abs(x1 - x2), height=abs(y1 - y2))
        return name.encode("ascii") + b" Do"


def stamp_style(page_pdf: bytes) -> StaticStampStyle:
    """A pyHanko stamp style showing ``page_pdf`` (no border) in the signed field."""
    return StaticStampStyle(background=PdfPageBytes(page_pdf), border_width=0)


def _widget(writer: BasePdfFileWriter, field_name: str) -> generic.DictionaryObject:
    for _name, _value, ref in pdf_fields.enumerate_sig_fields(writer, with_name=field_name):
        return get_single_field_annot(ref.get_object())
    raise ValueError(f"no signature field {field_name!r}")


def set_empty_appearance(writer: BasePdfFileWriter, field_name: str, page_pdf: bytes) -> None:
    """Make the (unsigned) field show ``page_pdf``; signing replaces it with its own."""
    annot = _widget(writer, field_name)
    xobj = writer.import_page_as_xobject(PdfFileReader(BytesIO(page_pdf)), page_ix=0)
    annot["/AP"] = generic.DictionaryObject({generic.NameObject("/N"): xobj})
    writer.update_container(annot)


def field_size(pdf: bytes, field_name: str) -> tuple[float, float]:
    """Width and height (points) of a signature field's widget."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    annot = _widget(IncrementalPdfFileWriter(BytesIO(pdf)), field_name)
    x1, y1, x2, y2 = (float(v) for v in annot["/Rect"])
    return abs(x2 - x1), abs(y2 - y1)
