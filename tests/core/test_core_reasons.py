"""The reason list: the default one (UU 14/2008 Pasal 17 a-j and the "no data" grounds) and a
configured replacement, read line by line with every bad line named."""
from __future__ import annotations

import pytest

from ckanext.statrequest.core.vocabulary import REASONS, parse_reasons


def test_the_default_list_has_every_pasal_17_ground_and_the_no_data_grounds():
    assert [c for c in REASONS if c.startswith("pasal17")] == [f"pasal17{x}" for x in "abcdefghij"]
    assert {"data_tidak_dikuasai", "data_belum_tersedia", "bukan_data_statistik"} <= set(REASONS)
    for code, (indonesian, english) in REASONS.items():
        assert indonesian and english and indonesian != english, code
        assert parse_reasons(f"{code} | {indonesian} | {english}") == {code: (indonesian, english)}


def test_a_configured_list_keeps_its_order_and_both_languages():
    text = "\n  rahasia_dagang | Rahasia dagang | Trade secret\n\n  lain | Alasan lain\n"
    assert list(parse_reasons(text).items()) == [
        ("rahasia_dagang", ("Rahasia dagang", "Trade secret")),
        ("lain", ("Alasan lain", "Alasan lain")),  # no English label: the Indonesian one
    ]


def test_every_bad_line_is_named():
    text = ("Pasal 17 | Huruf besar | Capitals\n"
            "tanpa_label\n"
            "ganda | A | A\n"
            "ganda | B | B\n"
            "terlalu | a | b | c\n"
            f"panjang | {'x' * 301} | x")
    with pytest.raises(ValueError) as bad:
        parse_reasons(text)
    message = str(bad.value)
    for line in ("line 1: code 'Pasal 17'", "line 2:", "line 4: code 'ganda' appears twice",
                 "line 5:", "line 6:"):
        assert line in message, line
    assert "line 3" not in message
    with pytest.raises(ValueError, match="no reason"):
        parse_reasons("   \n")
