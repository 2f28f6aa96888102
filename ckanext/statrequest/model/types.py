"""Column types and defaults shared by the tables: aware timestamps, ids, text encrypted at
rest."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import UnicodeText
from sqlalchemy.types import TIMESTAMP, TypeDecorator

from ckanext.statrequest.model import crypto

TS = TIMESTAMP(timezone=True)


class EncryptedText(TypeDecorator[str]):
    """Text encrypted on its way to the database and decrypted on its way back, so the code
    reads and writes clear values while the table holds only ciphertext. Not comparable in
    SQL: look a value up through its keyed-hash column instead."""

    impl = UnicodeText
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return crypto.encrypt(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return crypto.decrypt(value)


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def new_id() -> str:
    return str(uuid.uuid4())
