"""Pre-create the three empty signature fields, with their locks, as one incremental update.

Locks (FieldMDP) make every later change detectable by a verifier:

* ``Paraf1`` (Kepala Bidang): after it, only ``Paraf2`` and ``TTE`` may still be filled.
* ``Paraf2`` (Sekretaris): after it, only ``TTE`` may still be filled.
* ``TTE`` (Kepala Dinas): locks every field and sets DocMDP to "no changes" (PDF 2.0 lock
  dictionary), so nothing but validation data / document timestamps may follow.

No paraf is a certification signature: a DocMDP level 1 certification would forbid the next
signatures (see notes/signing-and-letters.md §1.6).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from io import BytesIO

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import (
    FieldMDPAction,
    FieldMDPSpec,
    MDPPerm,
    SigFieldSpec,
    append_signature_field,
)

from .layout import PARAF1, PARAF2, SIGNING_ORDER, TTE, SignatureLayout

# Who fills each field is the workflow's business (its paraf positions, its signer): the
# field's readable name says only what it is.
_READABLE = {
    PARAF1: "Paraf 1",
    PARAF2: "Paraf 2",
    TTE: "Tanda Tangan Elektronik",
}


def field_specs(layout: SignatureLayout) -> list[SigFieldSpec]:
    """The three ``SigFieldSpec`` objects, in signing order."""
    locks: dict[str, dict[str, object]] = {
        PARAF1: {"field_mdp_spec": FieldMDPSpec(FieldMDPAction.EXCLUDE, [PARAF2, TTE])},
        PARAF2: {"field_mdp_spec": FieldMDPSpec(FieldMDPAction.EXCLUDE, [TTE])},
        TTE: {
            "field_mdp_spec": FieldMDPSpec(FieldMDPAction.ALL),
            "doc_mdp_update_value": MDPPerm.NO_CHANGES,
        },
    }
    specs = []
    present = {f.name for f in layout}
    for name in SIGNING_ORDER:
        if name != TTE and name not in present and TTE in present:
            continue  # a letter signed by one official only (an objection's decision)
        try:
            fb = layout.get(name)
        except KeyError:
            raise ValueError(f"layout has no box for signature field {name!r}") from None
        if not 0 <= fb.page < layout.page_count:
            raise ValueError(
                f"field {name!r} is on page {fb.page}, document has {layout.page_count}"
            )
        x1, y1, x2, y2 = fb.box
        if x2 <= x1 or y2 <= y1:
            raise ValueError(f"field {name!r} has an empty box {fb.box}")
        specs.append(SigFieldSpec(
            sig_field_name=name,
            on_page=fb.page,
            # Whole points, rounded outwards so the widget covers the reserved area.
            box=(math.floor(x1), math.floor(y1), math.ceil(x2), math.ceil(y2)),
            readable_field_name=_READABLE[name],
            # False = an *empty* appearance stream (PDF/A wants one on every widget); True would
            # paint a grey box over the letter's own signature block.
            empty_field_appearance=False,
            **locks[name],  # type: ignore[arg-type]
        ))
    return specs


def add_signature_fields(pdf_bytes: bytes, layout: SignatureLayout,
                         appearances: Mapping[str, bytes] | None = None) -> bytes:
    """Append ``Paraf1``, ``Paraf2`` and ``TTE`` as empty signature fields (incremental update).

    ``appearances`` maps a field name to a one-page PDF the empty field shows (e.g. the DRAF
    mark in ``TTE``); signing the field replaces it with the signature's own appearance.
    """
    from .appearance import set_empty_appearance

    writer = IncrementalPdfFileWriter(BytesIO(pdf_bytes))
    for spec in field_specs(layout):
        append_signature_field(writer, spec)
    for name, page in (appearances or {}).items():
        set_empty_appearance(writer, name, page)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
