"""Personal data at rest: identity numbers (NIK) are stored encrypted (AES-256-GCM), with a
keyed hash (HMAC-SHA256) beside them so an exact number can still be looked up.

The secret comes from `ckanext.statrequest.personal_data_key` (base64 of 32 random bytes).
Two keys are derived from it with HKDF, one per purpose, so the hash key never encrypts and
the encryption key never hashes. A stored value reads `nik1:<key id>:<base64(nonce|cipher)>`:
the key id names the secret it was made with, so after a rotation the former secrets (listed
in `ckanext.statrequest.personal_data_old_keys`) still open the rows written with them.
"""
from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ckanext.statrequest import settings

KEY_OPTION = settings.PREFIX + "personal_data_key"
OLD_KEYS_OPTION = settings.PREFIX + "personal_data_old_keys"
PREFIX = "nik1"
NONCE = 12


class PersonalDataKeyError(RuntimeError):
    """The key is missing or malformed, or a stored value cannot be opened with it."""


@dataclass(frozen=True)
class Key:
    key_id: str
    encrypt: bytes
    lookup: bytes


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"ckanext-statrequest",
                info=purpose).derive(secret)


@functools.lru_cache(maxsize=8)
def _key(encoded: str, option: str) -> Key:
    try:
        secret = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        secret = b""
    if len(secret) != 32:
        raise PersonalDataKeyError(
            f"{option} must be 32 random bytes in base64 (44 characters), e.g. the output of "
            "`python -c \"import os, base64; print(base64.b64encode(os.urandom(32)).decode())\"`.")
    # a fingerprint, not the key: it tells which secret a value was written with
    key_id = hashlib.sha256(b"statrequest-key-id|" + secret).hexdigest()[:8]
    return Key(key_id, _derive(secret, b"nik encryption"), _derive(secret, b"nik lookup"))


def current_key() -> Key:
    encoded = settings.get("personal_data_key") or ""
    if not encoded.strip():
        raise PersonalDataKeyError(
            f"{KEY_OPTION} is not set: identity numbers are stored encrypted and need this key.")
    return _key(encoded, KEY_OPTION)


def all_keys() -> list[Key]:
    """The current key first, then the former ones still able to open old rows."""
    old = settings.get("personal_data_old_keys") or []
    if isinstance(old, str):
        old = old.split()
    return [current_key(), *(_key(k, OLD_KEYS_OPTION) for k in old if k.strip())]


def check_configuration() -> None:
    """Raise PersonalDataKeyError unless every configured key is well formed."""
    all_keys()


def is_encrypted(value: str | None) -> bool:
    return bool(value) and value.startswith(PREFIX + ":")  # type: ignore[union-attr]


def encrypt(value: str | None) -> str | None:
    if value is None:
        return None
    key = current_key()
    nonce = os.urandom(NONCE)
    # the key id is bound into the tag, so a value cannot be relabelled to another key
    sealed = AESGCM(key.encrypt).encrypt(nonce, value.encode("utf-8"), key.key_id.encode())
    return f"{PREFIX}:{key.key_id}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt(stored: str | None) -> str | None:
    if stored is None:
        return None
    if not is_encrypted(stored):
        raise PersonalDataKeyError(
            "An identity number is stored in clear text; run `ckan db upgrade` so the migration "
            "encrypts it.")
    try:
        _, key_id, payload = stored.split(":", 2)
        raw = base64.b64decode(payload, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise PersonalDataKeyError("A stored identity number is damaged.") from exc
    key = next((k for k in all_keys() if k.key_id == key_id), None)
    if key is None:
        raise PersonalDataKeyError(
            f"A stored identity number was encrypted with a key (id {key_id}) that is not "
            f"configured: set {KEY_OPTION} to that key, or list it in {OLD_KEYS_OPTION}.")
    try:
        clear = AESGCM(key.encrypt).decrypt(raw[:NONCE], raw[NONCE:], key_id.encode())
    except InvalidTag as exc:
        raise PersonalDataKeyError(
            f"A stored identity number cannot be decrypted with the key of id {key_id}: "
            "the value was altered.") from exc
    return clear.decode("utf-8")


def normalize(value: str) -> str:
    """The form a number is hashed in: what a person types may have spaces or lower case."""
    return "".join(value.split()).upper()


def lookup_hash(value: str | None, key: Key | None = None) -> str | None:
    if value is None or not value.strip():
        return None
    key = key or current_key()
    return hmac.new(key.lookup, normalize(value).encode("utf-8"), hashlib.sha256).hexdigest()


def lookup_hashes(value: str) -> list[str]:
    """The hash of a number under every configured key (rows written before a rotation)."""
    return [h for k in all_keys() if (h := lookup_hash(value, k))]
