"""Signing backends behind one small interface.

Every backend takes the PDF bytes, the name of a pre-created empty field, display metadata and
the secret (passphrase / PIN) typed by the signer *now*; it returns the PDF with one more
signature appended as an incremental update. The secret is used in memory only: never stored,
never logged, never put in an exception message.

* :class:`Pkcs12Backend`  - a local PKCS#12 file (default; the demo PKI makes one per position).
* :class:`Pkcs11Backend`  - a PKCS#11 token or HSM (tested with SoftHSM2).
* :class:`RemoteBsreBackend` - whole-PDF remote signing in the shape of BSrE esign-client v2.

All of them sign into the existing field only (``existing_fields_only=True``): a mistyped field
name fails loudly instead of silently creating a new invisible field.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import aiohttp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields as pdf_fields
from pyhanko.sign import signers
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.stamp import NoOpStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
from pyhanko_certvalidator.fetchers.aiohttp_fetchers.crl_client import AIOHttpCRLFetcher
from pyhanko_certvalidator.fetchers.api import Fetchers
from pyhanko_certvalidator.fetchers.common_utils import FetchBudget
from pyhanko_certvalidator.util import get_pyca_cryptography_hash, issuer_serial

from ._aio import run_sync
from .certs import load_pem_certs
from .layout import TTE

log = logging.getLogger(__name__)

# Room for the CMS blob, in hex digits (twice its DER size). Passing it skips pyHanko's dry-run
# signature (which signs twice, and with a TSA fetches a second token). Our CMS with a 3-cert
# chain is ~4.5 KB, 5.5-9 KB with a TSA token (EC or RSA TSA); if a longer chain does not
# fit, we retry once with pyHanko's own estimate.
_RESERVE_PLAIN = 16 * 1024
_RESERVE_WITH_TSA = 24 * 1024
_MAX_REMOTE_RESPONSE = 64 * 1024 * 1024


class SigningError(Exception):
    """A signature could not be made. ``code`` is stable (translate it); ``message`` is Indonesian.

    Codes: ``bad_secret``, ``secret_locked``, ``key_unavailable``, ``no_field``, ``field_signed``,
    ``bad_input``, ``timestamp_failed``, ``remote_error``, ``remote_auth``, ``remote_unreachable``,
    ``remote_timeout`` (outcome unknown: verify before retrying), ``remote_bad_response``,
    ``remote_tampered``, ``signing_failed``.
    """

    def __init__(self, message: str, code: str = "signing_failed", *,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status

    def __repr__(self) -> str:
        return f"SigningError(code={self.code!r}, message={self.message!r}, status={self.status!r})"


@dataclass(frozen=True)
class SignMeta:
    """What the signature dictionary says about itself (shown by PDF viewers)."""

    reason: str | None = None  # e.g. "Paraf Kepala Bidang" / "Tanda tangan Kepala Dinas"
    location: str | None = None  # e.g. "Ketapang"
    name: str | None = None  # display name; default: the certificate's subject
    contact_info: str | None = None
    # Called with the signing certificate once the key is unlocked, before anything is
    # signed: returns the field's appearance (a one-page PDF of the field's size, see
    # appearance.py) or None for none. It may raise SigningError to refuse the certificate
    # (e.g. not the one registered for the person). Local backends only: a remote service
    # draws its own appearance.
    appearance: Callable[[asn1_x509.Certificate], bytes | None] | None = field(
        default=None, compare=False, repr=False)


@dataclass(frozen=True)
class SignOptions:
    """PAdES level settings of every backend (the remote one completes the service's signature
    with them).

    * B-B: defaults.
    * B-T: ``timestamper_url`` (RFC 3161 TSA).
    * B-LT: plus ``embed_validation_info=True`` and ``trust_roots`` (fetches OCSP/CRL at signing
      time and embeds them). Give *every* signature, paraf included, B-LT: otherwise the paraf
      become indeterminate in long-term validation (notes §1.8).
    * B-LTA on the final signature: plus ``lta_on_final=True`` (adds a document timestamp after
      the ``TTE`` signature).

    ``session`` lets tests (or an app with its own HTTP settings) inject an aiohttp session used
    for the TSA and revocation fetches.
    """

    timestamper_url: str | None = None
    timestamper_auth: tuple[str, str] | None = field(default=None, repr=False)
    embed_validation_info: bool = False
    trust_roots: Sequence[asn1_x509.Certificate] = ()
    lta_on_final: bool = False
    bytes_reserved: int | None = None  # hex digits for the CMS; None: automatic
    http_timeout: float = 10.0
    session: aiohttp.ClientSession | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.embed_validation_info and not self.trust_roots:
            raise ValueError("embed_validation_info needs trust_roots")
        if self.lta_on_final and not (self.timestamper_url and self.embed_validation_info):
            raise ValueError("lta_on_final needs timestamper_url and embed_validation_info")
        if self.bytes_reserved is not None and (
                self.bytes_reserved < 1024 or self.bytes_reserved % 2):
            raise ValueError("bytes_reserved must be an even number of hex digits >= 1024")

    @property
    def needs_http(self) -> bool:
        return bool(self.timestamper_url or self.embed_validation_info)


@runtime_checkable
class SignerBackend(Protocol):
    async def sign(self, pdf: bytes, field: str, meta: SignMeta, secret: str) -> bytes:
        """Return ``pdf`` with ``field`` signed (an appended incremental update)."""
        ...


def sign_sync(backend: SignerBackend, pdf: bytes, field: str, meta: SignMeta, secret: str) -> bytes:
    """Sync entry point for background jobs (works even if an event loop already runs)."""
    return run_sync(backend.sign(pdf, field, meta, secret))


def load_chain(paths: Sequence[str | Path]) -> list[asn1_x509.Certificate]:
    """Certificates from PEM files (a file may hold several)."""
    certs: list[asn1_x509.Certificate] = []
    for p in paths:
        try:
            certs.extend(load_pem_certs(p))
        except OSError as exc:
            raise SigningError(f"berkas rantai sertifikat tidak dapat dibaca: {p}",
                               "key_unavailable") from exc
    return certs


# --- local signing (PKCS#12, PKCS#11) ---------------------------------------------------------


def _check_field(pdf: bytes, field_name: str) -> IncrementalPdfFileWriter:
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf))
        found = list(pdf_fields.enumerate_sig_fields(writer, with_name=field_name))
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise SigningError("dokumen PDF tidak dapat dibaca", "bad_input") from exc
    if not found:
        raise SigningError(f"kolom tanda tangan {field_name!r} tidak ada pada dokumen", "no_field")
    if found[0][1] is not None:
        raise SigningError(f"kolom tanda tangan {field_name!r} sudah ditandatangani",
                           "field_signed")
    return writer


@contextlib.asynccontextmanager
async def _http_session(options: SignOptions) -> AsyncIterator[aiohttp.ClientSession | None]:
    if not options.needs_http:
        yield None
    elif options.session is not None:
        yield options.session
    else:
        # Our own session, closed afterwards (pyHanko's lazy sessions would outlive the loop).
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=options.http_timeout)
        ) as session:
            yield session


async def sign_with_signer(
    signer: signers.Signer, pdf: bytes, field_name: str, meta: SignMeta, options: SignOptions
) -> bytes:
    """Approval signature into an existing empty field, with the options' PAdES level."""
    reserve = options.bytes_reserved or (
        _RESERVE_WITH_TSA if options.timestamper_url else _RESERVE_PLAIN)
    page = meta.appearance(signer.signing_cert) if meta.appearance else None
    if page is not None:
        from .appearance import stamp_style

        style: Any = stamp_style(page)
    else:
        # the widget keeps what it shows (the paraf/TTE area of the rendered letter)
        style = NoOpStampStyle()
    try:
        try:
            return await _sign_once(signer, pdf, field_name, meta, options, reserve, style)
        except PyHankoSigningError as exc:
            if "larger than expected" not in str(exc):
                raise
            # An unusually long chain or TSA token: let pyHanko measure (one extra dry run).
            log.info("signature larger than %d hex digits reserved; retrying with estimation",
                     reserve)
            return await _sign_once(signer, pdf, field_name, meta, options, None, style)
    except TimestampRequestError as exc:
        raise SigningError("layanan cap waktu (TSA) tidak dapat dihubungi", "timestamp_failed") \
            from exc
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        raise SigningError("layanan cap waktu/validasi tidak dapat dihubungi",
                           "timestamp_failed") from exc
    except PyHankoSigningError as exc:
        raise SigningError(f"penandatanganan gagal: {exc}", "signing_failed") from exc
    except PdfError as exc:
        raise SigningError("dokumen PDF tidak dapat diproses", "bad_input") from exc


async def _sign_once(signer: signers.Signer, pdf: bytes, field_name: str, meta: SignMeta,
                     options: SignOptions, reserve: int | None, style: Any = None) -> bytes:
    writer = _check_field(pdf, field_name)  # a fresh writer each time: pyHanko consumes it
    async with _http_session(options) as session:
        timestamper = None
        if options.timestamper_url:
            timestamper = HTTPTimeStamper(
                options.timestamper_url, session=session, auth=options.timestamper_auth,
                timeout=options.http_timeout,
            )
            tsa_key = _tsa_cache_key(options)
            _reuse_tsa_certs(timestamper, tsa_key)
        vc = None
        if options.embed_validation_info:
            vc = ValidationContext(
                trust_roots=list(options.trust_roots), allow_fetching=True,
                fetcher_backend=_CachingFetcherBackend(session),
                # B-LT promises revocation info: fail rather than embed nothing.
                revocation_mode="hard-fail",
            )
        pdf_meta = signers.PdfSignatureMetadata(
            field_name=field_name,
            md_algorithm="sha256",
            subfilter=pdf_fields.SigSeedSubFilter.PADES,
            reason=meta.reason,
            location=meta.location,
            name=meta.name,
            contact_info=meta.contact_info,
            embed_validation_info=options.embed_validation_info,
            validation_context=vc,
            use_pades_lta=options.lta_on_final and field_name == TTE,
            # the final field locks the document (fields.py); say so, as pyHanko would
            # otherwise warn and downgrade its default FILL_FORMS on every final signature
            docmdp_permissions=(pdf_fields.MDPPerm.NO_CHANGES if field_name == TTE
                                else pdf_fields.MDPPerm.FILL_FORMS),
        )
        # The appearance given by SignMeta.appearance, else NoOp (the widget keeps its own).
        pdf_signer = signers.PdfSigner(
            pdf_meta, signer=signer, timestamper=timestamper,
            stamp_style=style if style is not None else NoOpStampStyle()
        )
        out = await pdf_signer.async_sign_pdf(
            writer, existing_fields_only=True, bytes_reserved=reserve, output=BytesIO()
        )
        if timestamper is not None:
            _remember_tsa_certs(timestamper, tsa_key)
    return out.getvalue()


# A CRL is published for days (its nextUpdate); every signature of the office checks the same
# CA certificates against the same CRLs, and the demo responder signs each CRL afresh (RSA,
# ~60 ms). Like any validator, keep a fetched CRL for a while: at most _CRL_TTL seconds and
# never past its nextUpdate, keyed by the exact certificate checked (two test PKIs with the
# same names never share one). OCSP answers about the signer are always fetched fresh.
_CRL_TTL = 600.0
_crls: dict[bytes, tuple[float, list[Any]]] = {}


class _CachingCRLFetcher(AIOHttpCRLFetcher):
    async def fetch(self, cert: Any, *, use_deltas: bool = True) -> Any:
        key = cert.sha256 if isinstance(cert, asn1_x509.Certificate) else None
        hit = _crls.get(key) if key else None
        now = dt.datetime.now(dt.timezone.utc)
        if hit is not None and time.monotonic() - hit[0] < _CRL_TTL and all(
                (c["tbs_cert_list"]["next_update"].native or now) > now for c in hit[1]):
            self._by_cert[issuer_serial(cert)] = hit[1]
            return hit[1]
        results = await super().fetch(cert, use_deltas=use_deltas)
        if key and results:
            _crls[key] = (time.monotonic(), list(results))
        return results

    def fetched_crls(self) -> Any:
        # what was fetched now and what came from the cache: both go into the DSS
        return set(super().fetched_crls()) | {c for v in self._by_cert.values() for c in v}


class _CachingFetcherBackend(AIOHttpFetcherBackend):
    def get_fetchers(self) -> Fetchers:
        fetchers = super().get_fetchers()  # OCSP and certificates as pyHanko makes them
        # the CRL fetcher gets its own fetch budget with the same limits
        crl_fetcher = _CachingCRLFetcher(self.session, per_request_timeout=self.per_request_timeout,
                                         budget=FetchBudget(self.limits))
        return Fetchers(ocsp_fetcher=fetchers.ocsp_fetcher, crl_fetcher=crl_fetcher,
                        cert_fetcher=fetchers.cert_fetcher)


# pyHanko learns the TSA's certificates (to embed their revocation data) from a throw-away
# token it asks for once per timestamper; keeping that token for a while saves one TSA round
# trip per signature. Only its certificates are used, never its time. Keyed by the TSA's URL
# and the trust roots (two PKIs behind one URL, as in tests, never share it); a TSA that
# renews its certificate is seen within the TTL.
_TSA_CERTS_TTL = 600.0
_tsa_tokens: dict[tuple[str, tuple[bytes, ...]], tuple[float, Any]] = {}


def _tsa_cache_key(options: SignOptions) -> tuple[str, tuple[bytes, ...]]:
    return (options.timestamper_url or "", tuple(sorted(c.sha256 for c in options.trust_roots)))


def _reuse_tsa_certs(timestamper: HTTPTimeStamper, url: tuple[str, tuple[bytes, ...]]) -> None:
    cached = _tsa_tokens.get(url)
    if cached is not None and time.monotonic() - cached[0] < _TSA_CERTS_TTL:
        timestamper._register_dummy("sha256", cached[1])  # noqa: SLF001 - see above


def _remember_tsa_certs(timestamper: HTTPTimeStamper,
                        url: tuple[str, tuple[bytes, ...]]) -> None:
    token = timestamper._dummy_response_cache.get("sha256")  # noqa: SLF001
    if token is not None and url not in _tsa_tokens or token is not None and \
            time.monotonic() - _tsa_tokens[url][0] >= _TSA_CERTS_TTL:
        _tsa_tokens[url] = (time.monotonic(), token)


class _LoadedKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner re-imports its private key for every raw signature, and
    OpenSSL 3 re-runs the RSA key check each time (about 45 ms for RSA-2048, more than
    the signature itself). The PKCS#12 load has just checked this very key, so it is
    imported once more without the check and kept; mechanisms other than RSA PKCS#1 v1.5
    and ECDSA go through pyHanko's own path."""

    def __init__(self, loaded: signers.SimpleSigner) -> None:
        super().__init__(signing_cert=loaded.signing_cert, signing_key=loaded.signing_key,
                         cert_registry=loaded.cert_registry)
        self._key = serialization.load_der_private_key(
            loaded.signing_key.dump(), password=None, unsafe_skip_rsa_key_validation=True)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        digest = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "rsassa_pkcs1v15" and isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, padding.PKCS1v15(), digest)
        if mechanism == "ecdsa" and isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(digest))
        return super().sign_raw(data, digest_algorithm)


class Pkcs12Backend:
    """A local PKCS#12 (.p12/.pfx) file; ``secret`` is its passphrase."""

    def __init__(self, p12_path: str | Path, chain_paths: Sequence[str | Path] = (),
                 options: SignOptions | None = None) -> None:
        self.p12_path = Path(p12_path)
        self.chain_paths = tuple(chain_paths)
        self.options = options or SignOptions()

    def __repr__(self) -> str:
        return f"Pkcs12Backend({str(self.p12_path)!r})"

    def load_signer(self, secret: str) -> signers.SimpleSigner:
        try:
            data = self.p12_path.read_bytes()
        except OSError as exc:
            raise SigningError("berkas kunci penandatangan tidak dapat dibaca",
                               "key_unavailable") from exc
        try:
            # load_pkcs12_data raises on a bad passphrase (load_pkcs12 would return None).
            loaded = signers.SimpleSigner.load_pkcs12_data(
                data, other_certs=load_chain(self.chain_paths), passphrase=secret.encode("utf-8")
            )
        except ValueError:
            raise SigningError("kata sandi salah (atau berkas kunci rusak)", "bad_secret") from None
        return _LoadedKeySigner(loaded)

    async def sign(self, pdf: bytes, field: str, meta: SignMeta, secret: str) -> bytes:
        signer = self.load_signer(secret)
        return await sign_with_signer(signer, pdf, field, meta, self.options)


class Pkcs11Backend:
    """A PKCS#11 token; ``secret`` is the user PIN. One session per signature (fork-safe)."""

    def __init__(self, lib_path: str, token_label: str, key_label: str, cert_label: str,
                 *, other_cert_labels: Sequence[str] = (), chain_paths: Sequence[str | Path] = (),
                 options: SignOptions | None = None) -> None:
        self.lib_path = lib_path
        self.token_label = token_label
        self.key_label = key_label
        self.cert_label = cert_label
        self.other_cert_labels = tuple(other_cert_labels)
        self.chain_paths = tuple(chain_paths)
        self.options = options or SignOptions()

    def __repr__(self) -> str:
        return (f"Pkcs11Backend({self.lib_path!r}, token={self.token_label!r}, "
                f"key={self.key_label!r})")

    async def sign(self, pdf: bytes, field: str, meta: SignMeta, secret: str) -> bytes:
        import pkcs11.exceptions as p11_exc
        from pyhanko.config.pkcs11 import TokenCriteria
        from pyhanko.sign import pkcs11 as pyhanko_p11

        _check_field(pdf, field)  # fail before touching the token (and its PIN counter)
        try:
            session = pyhanko_p11.open_pkcs11_session(
                self.lib_path, token_criteria=TokenCriteria(label=self.token_label),
                user_pin=secret,
            )
        except p11_exc.PinLocked:
            raise SigningError("PIN token terkunci", "secret_locked") from None
        except (p11_exc.PinIncorrect, p11_exc.PinInvalid, p11_exc.PinLenRange):
            raise SigningError("PIN salah", "bad_secret") from None
        except (p11_exc.PKCS11Error, OSError, RuntimeError) as exc:
            raise SigningError(f"token PKCS#11 tidak tersedia: {type(exc).__name__}",
                               "key_unavailable") from None
        try:
            signer = pyhanko_p11.PKCS11Signer(
                session, cert_label=self.cert_label, key_label=self.key_label,
                other_certs_to_pull=self.other_cert_labels or None,
                ca_chain=load_chain(self.chain_paths),
            )
            try:
                signer.signing_cert  # noqa: B018 - load key/cert now for a clear error
            except (p11_exc.PKCS11Error, PyHankoSigningError) as exc:
                raise SigningError(f"kunci/sertifikat tidak ditemukan pada token: {exc}",
                                   "key_unavailable") from None
            return await sign_with_signer(signer, pdf, field, meta, self.options)
        finally:
            session.close()


# --- long-term validation material added afterwards (remote signatures, refresh) -------------


@contextlib.contextmanager
def _lta_errors(failure: str) -> Any:
    """One translation of what can go wrong while adding timestamps or validation data."""
    from pyhanko_certvalidator.errors import (
        CertificateFetchError,
        InsufficientRevinfoError,
        PathError,
        ValidationError,
    )

    try:
        yield
    except TimestampRequestError as exc:
        raise SigningError("layanan cap waktu (TSA) tidak dapat dihubungi", "timestamp_failed") \
            from exc
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        raise SigningError("layanan cap waktu/validasi tidak dapat dihubungi",
                           "timestamp_failed") from exc
    except (InsufficientRevinfoError, CertificateFetchError) as exc:
        # an OCSP/CRL service that does not answer: worth retrying later
        raise SigningError("layanan cap waktu/validasi tidak dapat dihubungi",
                           "timestamp_failed") from exc
    except (PyHankoSigningError, PdfError, ValueError, PathError, ValidationError) as exc:
        # e.g. a revoked or untrusted certificate: no long-term proof can be made for it
        raise SigningError(f"{failure}: {exc}", "signing_failed") from exc


def _lta_context(options: SignOptions, session: aiohttp.ClientSession) -> ValidationContext:
    return ValidationContext(
        trust_roots=list(options.trust_roots), allow_fetching=True,
        fetcher_backend=_CachingFetcherBackend(session), revocation_mode="hard-fail")


async def async_add_lta(pdf: bytes, options: SignOptions, *, timestamp: bool = True) -> bytes:
    """Embed the revocation data of every signature (B-LT), then a document timestamp (B-LTA;
    ``timestamp=False``: B-LT only).

    For a signature made elsewhere (a remote service returns PAdES B-T): this turns the letter
    into B-LTA like a locally signed one. The revocation data of all signatures goes into one
    incremental update (what the document already holds is not repeated), the document
    timestamp with its TSA's data into a second: validation data only, which pyHanko's diff
    analysis allows under every signature's lock.
    """
    if not (options.timestamper_url and options.embed_validation_info):
        return pdf
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore, collect_validation_info

    with _lta_errors("data validasi jangka panjang tidak dapat ditambahkan"):
        async with _http_session(options) as session:
            assert session is not None
            vc = _lta_context(options, session)
            paths: list[Any] = []
            for sig in PdfFileReader(BytesIO(pdf)).embedded_regular_signatures:
                # hard-fail context: raises rather than leave a signature without its data
                paths.extend(await collect_validation_info(sig, vc))
            buffer = BytesIO(pdf)
            DocumentSecurityStore.add_dss(buffer, None, paths=paths, validation_context=vc)
            pdf = buffer.getvalue()
            if not timestamp:
                return pdf
            timestamper = HTTPTimeStamper(options.timestamper_url, session=session,
                                          auth=options.timestamper_auth,
                                          timeout=options.http_timeout)
            writer = IncrementalPdfFileWriter(BytesIO(pdf))
            out = await signers.PdfTimeStamper(timestamper).async_timestamp_pdf(
                writer, "sha256", validation_context=vc, output=BytesIO())
            return out.getvalue()


async def async_refresh_lta(pdf: bytes, options: SignOptions) -> bytes:
    """Renew the archive timestamp chain: revocation data for the last document timestamp's
    TSA, then a new document timestamp over everything (``pyhanko sign ltaupdate``)."""
    if not options.timestamper_url or not options.trust_roots:
        raise ValueError("refreshing needs timestamper_url and trust_roots")
    from pyhanko.pdf_utils.reader import PdfFileReader

    with _lta_errors("cap waktu arsip tidak dapat diperbarui"):
        async with _http_session(SignOptions(
                timestamper_url=options.timestamper_url, http_timeout=options.http_timeout,
                session=options.session)) as session:
            assert session is not None
            timestamper = HTTPTimeStamper(options.timestamper_url, session=session,
                                          auth=options.timestamper_auth,
                                          timeout=options.http_timeout)
            out = await signers.PdfTimeStamper(timestamper).async_update_archival_timestamp_chain(
                PdfFileReader(BytesIO(pdf)), _lta_context(options, session), in_place=False,
                output=BytesIO())
            return out.getvalue()


def last_timestamp_expiry(pdf: bytes) -> dt.datetime | None:
    """When the TSA certificate of the newest timestamp (document timestamp, else the last
    signature's timestamp) expires; None without any timestamp. Past that date the chain of
    proof must already have been renewed (``ltv-refresh``)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    sigs = list(PdfFileReader(BytesIO(pdf)).embedded_signatures)
    for emb in reversed(sigs):
        if emb.sig_object_type == "/DocTimeStamp":
            cert = emb.signer_cert
        else:
            token = emb.attached_timestamp_data
            cert = token.signer_cert if token is not None else None  # type: ignore[union-attr]
        if cert is not None:
            return cert.not_valid_after
    return None


# --- remote whole-PDF signing (BSrE esign-client API v2) --------------------------------------

# A 1x1 transparent PNG: the letter already shows its own signature block in the TTE box; the
# service's visible signature goes on top of it without painting anything over it.
_CLEAR_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
# The documented request fields (esign-client-service API v2, POST /api/v2/sign/pdf).
REQUEST_FIELDS = frozenset({"nik", "passphrase", "signatureProperties", "file"})
PROPERTY_FIELDS = frozenset({"tampilan", "imageBase64", "page", "originX", "originY", "width",
                             "height", "location", "reason"})


def field_box(pdf: bytes, field_name: str) -> tuple[int, tuple[float, float, float, float]]:
    """(1-based page number, (x, y, width, height) in PDF points from the page's lower left
    corner) of a pre-created signature field's widget."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(BytesIO(pdf))
    for name, _value, ref in pdf_fields.enumerate_sig_fields(reader):
        if name != field_name:
            continue
        widget = ref.get_object()
        if "/Rect" not in widget and "/Kids" in widget:
            widget = widget["/Kids"][0].get_object()
        x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
        page_ref = widget.raw_get("/P").reference
        pages: list[Any] = []
        _collect_pages(reader.root.raw_get("/Pages"), pages, 0)
        if page_ref in pages:
            return pages.index(page_ref) + 1, (min(x1, x2), min(y1, y2), abs(x2 - x1),
                                               abs(y2 - y1))
        break
    raise SigningError(f"kolom tanda tangan {field_name!r} tidak ada pada dokumen", "no_field")


def _collect_pages(node_ref: Any, out: list[Any], depth: int) -> None:
    node = node_ref.get_object()
    if node.get("/Type") == "/Pages" and depth < 32:
        for kid in node["/Kids"]:
            _collect_pages(kid, out, depth + 1)
    else:
        out.append(node_ref.reference)


class RemoteBsreBackend:
    """Whole-PDF signing by the national e-signature service (BSrE esign-client, API v2).

    ``POST {base_url}/api/v2/sign/pdf`` with HTTP Basic credentials of the portal's account at
    the service, and exactly the documented JSON::

        {"nik": "...", "passphrase": "...",
         "signatureProperties": [{"tampilan": "VISIBLE", "imageBase64": "<png>", "page": 2,
                                  "originX": 340.0, "originY": 120.0, "width": 180.0,
                                  "height": 70.0, "reason": "...", "location": "..."}],
         "file": ["<base64 PDF>"]}

    answered by ``{"file": ["<base64 signed PDF>"], ...}``, or an HTTP error with
    ``{"status_code": ..., "error": "..."}``.

    The documented API cannot sign one of *our* fields: it always adds its own signature field.
    So the paraf locks survive as follows. The signature is requested VISIBLE on the page and at
    the rectangle of the letter's pre-created ``TTE`` field (``page`` 1-based; ``originX`` /
    ``originY`` the lower-left corner and ``width`` / ``height``, in PDF points from the
    page's lower-left corner), with a transparent image, so the letter's own signature block
    stays what is seen. The result is then checked with pyHanko before it is accepted:

    * the original bytes are a prefix of the result (appended, never rewritten);
    * every earlier signature is still intact, and the diff analysis accepts the change under
      their locks with one exception, made by :class:`~.verify.SlotFormRule` (used by the
      verification page too): ONE new signature field exactly in the empty TTE box. A new field
      anywhere else, a second one, or changed page content is refused (``remote_tampered``).

    The call is never retried automatically: after a timeout the outcome is unknown. The
    service signs at its own PAdES level (BSrE: B-T). With ``options`` like a local
    signature's (a TSA, ``embed_validation_info``, ``lta_on_final``) the accepted result is
    completed here (:func:`async_add_lta`): revocation data of every signature, then a
    document timestamp on the final signature, so a remote letter ends at B-LTA like a local
    one. Those updates are validation data only; the diff analysis still sees the service's
    field together with them (pyHanko compares each signed revision with every later one as a
    whole), and :class:`~.verify.SlotFormRule` counts only new *visible* fields for that.
    """

    path = "/api/v2/sign/pdf"

    def __init__(self, base_url: str, nik: str, timeout: float = 60.0, *,
                 auth: tuple[str, str] | None = None,
                 trust_roots: Sequence[asn1_x509.Certificate] = (),
                 options: SignOptions | None = None,
                 session: aiohttp.ClientSession | None = None) -> None:
        if not base_url or not nik:
            raise SigningError("layanan tanda tangan jarak jauh belum diatur (alamat/NIK)",
                               "key_unavailable")
        self.base_url = base_url.rstrip("/")
        self.nik = nik
        self.timeout = timeout
        self._auth = aiohttp.BasicAuth(*auth) if auth else None
        self.trust_roots = tuple(trust_roots) or tuple(options.trust_roots if options else ())
        self.options = options or SignOptions()
        self.session = session

    def __repr__(self) -> str:
        return f"RemoteBsreBackend({self.base_url!r})"

    def request_body(self, pdf: bytes, field: str, meta: SignMeta, secret: str) -> dict[str, Any]:
        page, (x, y, width, height) = field_box(pdf, field)
        props: dict[str, Any] = {
            "tampilan": "VISIBLE", "imageBase64": _CLEAR_PNG, "page": page,
            "originX": round(x, 2), "originY": round(y, 2),
            "width": round(width, 2), "height": round(height, 2),
        }
        for key, value in (("reason", meta.reason), ("location", meta.location)):
            if value:
                props[key] = value
        return {"nik": self.nik, "passphrase": secret, "signatureProperties": [props],
                "file": [base64.b64encode(pdf).decode("ascii")]}

    async def sign(self, pdf: bytes, field: str, meta: SignMeta, secret: str) -> bytes:
        _check_field(pdf, field)
        body = self.request_body(pdf, field, meta, secret)
        status, payload = await self._post(body, secret)
        if status >= 400 or "error" in payload and "file" not in payload:
            raise self._error(status, payload, secret)
        try:
            files = payload["file"]
            signed = base64.b64decode(files[0], validate=True)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise SigningError("jawaban layanan tanda tangan tidak dikenali",
                               "remote_bad_response") from exc
        await self._check_result(pdf, signed, field)
        return await self._long_term(signed, field)

    async def _long_term(self, signed: bytes, field: str) -> bytes:
        """The portal's PAdES level on top of the service's own (BSrE: B-T), as a local
        signature with the same options gets it: revocation data of every signature (B-LT)
        and, for the final signature with ``lta_on_final``, a document timestamp (B-LTA).

        If that fails (TSA/OCSP down) the service's signature is dropped with an error: the
        letter stays as it was and signing again is safe."""
        options = self.options
        if not (options.timestamper_url and options.embed_validation_info):
            return signed
        return await async_add_lta(signed, options,
                                   timestamp=options.lta_on_final and field == TTE)

    async def _post(self, body: dict[str, Any], secret: str) -> tuple[int, dict[str, Any]]:
        url = self.base_url + self.path
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with contextlib.AsyncExitStack() as stack:
                session = self.session or await stack.enter_async_context(aiohttp.ClientSession())
                resp = await stack.enter_async_context(
                    session.post(url, json=body, auth=self._auth, timeout=timeout)
                )
                # read() returns what has arrived so far, not the whole body: loop to EOF
                chunks: list[bytes] = []
                size = 0
                while size <= _MAX_REMOTE_RESPONSE:
                    chunk = await resp.content.read(_MAX_REMOTE_RESPONSE + 1 - size)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
                raw = b"".join(chunks)
                status = resp.status
        except aiohttp.ClientConnectorError:
            # Nothing was sent: safe to retry later.
            raise SigningError("layanan tanda tangan tidak dapat dihubungi",
                               "remote_unreachable") from None
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError):
            raise SigningError(
                "layanan tanda tangan tidak menjawab tepat waktu; periksa status dokumen "
                "sebelum mencoba lagi", "remote_timeout") from None
        except aiohttp.ClientError as exc:
            raise SigningError(f"kesalahan komunikasi dengan layanan tanda tangan: "
                               f"{type(exc).__name__}", "remote_timeout") from None
        if len(raw) > _MAX_REMOTE_RESPONSE:
            raise SigningError("jawaban layanan tanda tangan terlalu besar", "remote_bad_response")
        try:
            payload = json.loads(raw)
            if not isinstance(payload, dict):
                raise ValueError("not an object")
        except ValueError:
            if status >= 400:
                raise SigningError(f"layanan tanda tangan menolak (HTTP {status})",
                                   "remote_auth" if status in (401, 403) else "remote_error",
                                   status=status) from None
            raise SigningError("jawaban layanan tanda tangan bukan JSON",
                               "remote_bad_response", status=status) from None
        return status, payload

    @staticmethod
    def _error(status: int, payload: dict[str, Any], secret: str) -> SigningError:
        message = str(payload.get("error") or payload.get("message") or f"HTTP {status}")
        if secret:
            message = message.replace(secret, "***")  # never echo the passphrase back
        message = message[:500]
        lowered = message.lower()
        if status in (401, 403) and "passphrase" not in lowered:
            code = "remote_auth"
        elif "passphrase" in lowered or "kata sandi" in lowered:
            code = "bad_secret"
        else:
            code = "remote_error"
        remote_code = payload.get("status_code")
        text = f"layanan tanda tangan: {message}"
        if remote_code is not None:
            text += f" (kode {remote_code})"
        return SigningError(text, code, status=status)

    async def _check_result(self, original: bytes, signed: bytes, field_name: str) -> None:
        from .verify import async_verify_pdf

        if not signed.startswith(b"%PDF-"):
            raise SigningError("jawaban layanan tanda tangan bukan PDF", "remote_bad_response")
        if not signed.startswith(original) or len(signed) <= len(original):
            raise SigningError("layanan tanda tangan menulis ulang dokumen (bukan menambahkan "
                               "tanda tangan); hasil ditolak", "remote_tampered")
        before = await async_verify_pdf(original, self.trust_roots)
        after = await async_verify_pdf(signed, self.trust_roots)
        if after.status in ("damaged", "unsigned"):
            raise SigningError(f"hasil layanan tanda tangan tidak utuh ({after.status}); "
                               "hasil ditolak", "remote_tampered")
        before_fields = [s.field for s in before.signers]
        after_fields = [s.field for s in after.signers]
        if after_fields[: len(before_fields)] != before_fields:
            raise SigningError("tanda tangan sebelumnya hilang dari hasil layanan",
                               "remote_tampered")
        new = [s for s in after.signers[len(before_fields):] if s.kind == "signature"]
        if not new:
            raise SigningError("hasil layanan tidak memuat tanda tangan baru",
                               "remote_bad_response")
        if after.status == "changed":
            # Earlier signatures (or their locks) no longer accept the document.
            raise SigningError("hasil layanan tanda tangan tidak utuh (changed); hasil ditolak",
                               "remote_tampered")
        if len(new) != 1 or new[0].slot != field_name:
            # Where the field's own box is not signed (an invisible or misplaced signature),
            # the letter would show a signature block that no signature stands behind.
            raise SigningError(f"layanan menandatangani di tempat lain, bukan kolom "
                               f"{field_name!r}", "remote_bad_response")


def sign_sync_refresh(pdf: bytes, options: SignOptions) -> bytes:
    """Sync :func:`async_refresh_lta` for commands and jobs."""
    return run_sync(async_refresh_lta(pdf, options))
