"""Where the three signature fields sit. Light on purpose: no WeasyPrint or pyHanko import."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# Field names are part of the signed document and of the verification contract: never rename.
# Who fills them comes from the workflow (lib/letters.fields()): its paraf positions in order
# (the default: Head of Division, Secretary), then its signer (the default: Head of Agency).
PARAF1 = "Paraf1"
PARAF2 = "Paraf2"
TTE = "TTE"
SIGNING_ORDER: tuple[str, ...] = (PARAF1, PARAF2, TTE)

# HTML element id in the letter template -> signature field name.
ANCHOR_IDS: Mapping[str, str] = {"sig-paraf1": PARAF1, "sig-paraf2": PARAF2, "sig-tte": TTE}


@dataclass(frozen=True)
class FieldBox:
    """One field: 0-based page index; box ``(x1, y1, x2, y2)`` in PDF points, origin bottom-left."""

    name: str
    page: int
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class SignatureLayout:
    fields: tuple[FieldBox, ...]
    page_count: int

    def __iter__(self) -> Iterator[FieldBox]:
        return iter(self.fields)

    def get(self, name: str) -> FieldBox:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, so the CKAN layer can store it next to the unsigned PDF."""
        return {
            "page_count": self.page_count,
            "fields": [{"name": f.name, "page": f.page, "box": list(f.box)} for f in self.fields],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SignatureLayout:
        fields = []
        for f in data["fields"]:
            x1, y1, x2, y2 = (float(v) for v in f["box"])
            fields.append(FieldBox(str(f["name"]), int(f["page"]), (x1, y1, x2, y2)))
        return cls(tuple(fields), int(data["page_count"]))
