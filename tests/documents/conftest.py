"""Fixtures for the documents package: a real test PKI, real renders, real signatures.

These tests need no CKAN: run them with
``pytest -p no:ckan -p no:ckan_fixtures -o addopts="" tests/documents``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ckanext.statrequest.documents import testpki
from ckanext.statrequest.documents.letter import LetterData, RenderedLetter, prepare_letter

from .support import make_letter, sign_chain


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return testpki.create_test_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A second, unrelated CA: its signatures must come out "untrusted"."""
    return testpki.create_test_pki(tmp_path_factory.mktemp("other-pki"),
                                   positions=("kepala_bidang",))


@pytest.fixture(scope="session")
def trust_roots(pki: dict[str, Any]) -> list[Any]:
    return testpki.load_pem_certs(pki["root"])


@pytest.fixture
def letter_factory() -> Callable[..., LetterData]:
    return make_letter


@pytest.fixture(scope="session")
def prepared() -> RenderedLetter:
    """The default letter, rendered, with the three empty signature fields."""
    return prepare_letter(make_letter())


@pytest.fixture(scope="session")
def signed_chain(prepared: RenderedLetter, pki: dict[str, Any]) -> bytes:
    return sign_chain(prepared.pdf, pki)


