"""A throw-away test PKI for demos and tests. NOT for production keys.

``create_test_pki`` writes, with ``cryptography`` only:

* ``root-ca.pem`` / ``intermediate-ca.pem`` / ``ca-chain.pem`` (intermediate then root),
* ``<position>.p12`` (key + leaf + chain, protected by the passphrase) and ``<position>.cert.pem``,
* ``root-ca.key.pem`` / ``intermediate-ca.key.pem`` (encrypted with the passphrase, so positions
  can be added later),
* ``manifest.json`` describing all of it.

It is idempotent: files that exist are reused, missing positions are issued by the existing
intermediate CA.

``build_certomancer_arch`` builds a certomancer PKI (root, intermediate, OCSP responder, CRLs,
time-stamping authority, one signer per position) from freshly generated keys. Tests serve it
in-process with ``certomancer.integrations.aiohttp_illusionist.AsyncIllusionist`` to exercise
RFC 3161 timestamps and embedded revocation info (PAdES B-LT/B-LTA) without any network.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .certs import load_pem_certs  # noqa: F401 - re-exported for callers

if TYPE_CHECKING:
    from certomancer.registry import PKIArchitecture


def _default_workflow() -> Any:
    from ckanext.statrequest.core.workflow import load_default  # no CKAN there either

    return load_default()


# The signing positions of the default workflow: who initials (in order), then who signs.
DEFAULT_POSITIONS: tuple[str, ...] = (*_default_workflow().paraf_positions(),
                                      _default_workflow().letter_signer() or "")
DEFAULT_PASSPHRASE = "rahasia-uji"  # noqa: S105 - demo PKI only, documented as such

# Demo identities: CN is a person's name, serialNumber their NIP (18 digits), as in BSrE certs;
# one person per position of the default workflow, in its order, titled by its label.
_DEMO_PEOPLE: tuple[tuple[str, str], ...] = (
    ("Siti Rahmawati, S.Sos., M.Si.", "197805152003122002"),
    ("Budi Santoso, S.Kom., M.M.", "197203101998031003"),
    ("Andi Pratama, S.T., M.T.", "198001012005011001"),
    ("Dewi Lestari, S.Si.", "198507202010012004"),
    ("Rizky Hidayat, S.Kom.", "199203142019031005"),
    ("Rina Marlina, A.Md.", "199505052020122001"),
)
DEMO_IDENTITIES: dict[str, tuple[str, str, str]] = {
    code: (name, nip, label.id) for (code, label), (name, nip)
    in zip(_default_workflow().positions.items(), _DEMO_PEOPLE, strict=False)}
ORG_NAME = "Pemerintah Kabupaten Contoh (UJI COBA)"
MANIFEST = "manifest.json"
_KEY_SIZE = 2048


def _identity(position: str) -> tuple[str, str, str]:
    if position in DEMO_IDENTITIES:
        return DEMO_IDENTITIES[position]
    # Unknown positions still get a stable, obviously-demo identity.
    digits = "".join(str(ord(c) % 10) for c in position)[:18].ljust(18, "0")
    return (f"Pejabat {position.replace('_', ' ').title()}", digits, position)


def _name(cn: str, *, serial: str | None = None, ou: str | None = None) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORG_NAME),
    ]
    if ou:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    if serial:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial))
    return x509.Name(attrs)


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=_KEY_SIZE)


def _service_key(label: str) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    """Key of a certomancer label. The TSA and the OCSP responder sign every answer, and
    certomancer imports their key afresh per request, which with RSA costs OpenSSL 3's key
    check (~50 ms) each time; a production TSA answers from an HSM in milliseconds. ECDSA
    P-256 keeps the test services that fast; the CAs and the people keep RSA-2048 like BSrE."""
    if label.startswith("tsa") or label.endswith("-ocsp"):
        return ec.generate_private_key(ec.SECP256R1())
    return _new_key()


def _build_cert(
    subject: x509.Name,
    subject_key: rsa.RSAPrivateKey,
    issuer: x509.Name,
    issuer_key: rsa.RSAPrivateKey,
    *,
    ca: bool,
    path_len: int | None = None,
    years: int,
    issuer_cert: x509.Certificate | None = None,
) -> x509.Certificate:
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    pub = subject_key.public_key()
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(pub)
        .serial_number(x509.random_serial_number())
        # Backdated a day so that clock skew between machines never makes a fresh cert "future".
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_len if ca else None), True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), False)
    )
    auth_key = (issuer_cert.public_key() if issuer_cert else issuer_key.public_key())
    b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(auth_key), False)
    if ca:
        ku = x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False,
        )
    else:
        # What a signing certificate for documents needs: digitalSignature + nonRepudiation.
        ku = x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False,
        )
        b = b.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False
        )
    b = b.add_extension(ku, True)
    return b.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    if private:
        os.chmod(tmp, 0o600)
    tmp.replace(path)  # atomic: a crash never leaves a half-written key


def _load_ca(out: Path, stem: str, passphrase: bytes):
    cert = x509.load_pem_x509_certificate((out / f"{stem}.pem").read_bytes())
    key = serialization.load_pem_private_key((out / f"{stem}.key.pem").read_bytes(), passphrase)
    return cert, key


def create_test_pki(
    out_dir: str | os.PathLike[str],
    positions: Iterable[str] = DEFAULT_POSITIONS,
    passphrase: str = DEFAULT_PASSPHRASE,
    *,
    identities: Mapping[str, tuple[str, ...]] | None = None,
    responder_url: str | None = None,
) -> dict[str, Any]:
    """Create (or complete) a demo PKI in ``out_dir`` and return its manifest with absolute paths.

    With ``responder_url`` the PKI is the served one of :func:`create_responder_pki`
    (certificates pointing at a TSA/OCSP/CRL service there) instead.

    ``positions`` are labels: signing positions, or people (user names) since keys belong to
    people; each label gets ``<label>.p12``. ``identities`` optionally overrides
    ``{label: (common_name, nip)}`` or ``{label: (common_name, nip, title)}``.

    Returns ``{"root": path, "intermediate": path, "chain": path, "signers": {position:
    {"p12": path, "cert": path, "name": cn, "nip": nip, "title": title, "subject": rfc4514}}}``.
    """
    if responder_url:
        return create_responder_pki(out_dir, responder_url, positions, passphrase,
                                    identities=identities)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pw = passphrase.encode()
    enc = serialization.BestAvailableEncryption(pw)
    manifest_path = out / MANIFEST
    manifest: dict[str, Any] = (
        json.loads(manifest_path.read_text()) if manifest_path.exists() else {"signers": {}}
    )

    have_ca = all((out / f).exists() for f in (
        "root-ca.pem", "root-ca.key.pem", "intermediate-ca.pem", "intermediate-ca.key.pem"))

    def present(position: str) -> bool:
        entry = manifest["signers"].get(position)
        return bool(entry and (out / entry["p12"]).exists() and (out / entry["cert"]).exists())

    positions = list(dict.fromkeys(positions))
    missing = [p for p in positions if not (have_ca and present(p))]
    if not missing and manifest_path.exists():
        return _absolute(out, manifest)  # nothing to do: the passphrase is not even needed

    if have_ca:
        try:
            root_cert, root_key = _load_ca(out, "root-ca", pw)
            int_cert, int_key = _load_ca(out, "intermediate-ca", pw)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"cannot open the test CA keys in {out}: wrong passphrase?") from exc
    else:
        root_key = _new_key()
        root_name = _name("Root CA Uji Coba Statrequest")
        root_cert = _build_cert(root_name, root_key, root_name, root_key, ca=True, years=20)
        int_key = _new_key()
        int_name = _name("CA Uji Coba Sertifikat Elektronik")
        int_cert = _build_cert(
            int_name, int_key, root_name, root_key, ca=True, path_len=0, years=10,
            issuer_cert=root_cert,
        )
        _write(out / "root-ca.key.pem", root_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc), private=True)
        _write(out / "intermediate-ca.key.pem", int_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc), private=True)
        _write(out / "root-ca.pem", _pem(root_cert))
        _write(out / "intermediate-ca.pem", _pem(int_cert))
        _write(out / "ca-chain.pem", _pem(int_cert) + _pem(root_cert))
        manifest["signers"] = {}  # new CA: old leaves (if any) are void

    manifest.update(root="root-ca.pem", intermediate="intermediate-ca.pem", chain="ca-chain.pem")
    for position in positions:
        if present(position):
            continue
        cn, nip, title = _identity(position)
        if identities and position in identities:
            # (name, NIP) or (name, NIP, title): a label may be a person (user name)
            cn, nip, *rest = identities[position]
            title = rest[0] if rest else title
        key = _new_key()
        subject = _name(cn, serial=nip, ou=title)
        cert = _build_cert(
            subject, key, int_cert.subject, int_key, ca=False, years=5, issuer_cert=int_cert
        )
        p12 = pkcs12.serialize_key_and_certificates(
            name=cn.encode(), key=key, cert=cert, cas=[int_cert, root_cert],
            encryption_algorithm=enc,
        )
        _write(out / f"{position}.p12", p12, private=True)
        _write(out / f"{position}.cert.pem", _pem(cert))
        manifest["signers"][position] = {
            "p12": f"{position}.p12",
            "cert": f"{position}.cert.pem",
            "name": cn,
            "nip": nip,
            "title": title,
            "subject": cert.subject.rfc4514_string(),
        }
    _write(manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False).encode())
    return _absolute(out, manifest)


def _absolute(out: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    res: dict[str, Any] = {k: str(out / manifest[k]) for k in ("root", "intermediate", "chain")}
    res["dir"] = str(out)
    res["signers"] = {
        pos: {**e, "p12": str(out / e["p12"]), "cert": str(out / e["cert"])}
        for pos, e in manifest["signers"].items()
    }
    return res


# --- certomancer (tests only): in-process TSA, OCSP and CRLs --------------------------------

CERTOMANCER_ARCH = "statrequest-test"
CERTOMANCER_URL_PREFIX = "http://pki.test"


def _certomancer_config(
    positions: Iterable[str],
    *,
    url_prefix: str = CERTOMANCER_URL_PREFIX,
    identities: Mapping[str, tuple[str, ...]] | None = None,
    signer_validity: tuple[str, str] | None = None,
    key_dir: str = "",
) -> dict[str, Any]:
    """The PKI as certomancer config: CAs, OCSP responder, CRLs, TSA, one signer per position.

    ``url_prefix`` is where the services answer (the AIA/CRL URLs in the certificates and the
    TSA URL); ``signer_validity`` (ISO from/to) gives the signers a realistic life time (BSrE
    certificates last about two years) instead of the CA's.
    """
    validity = {"valid-from": "2020-01-01T00:00:00+0000", "valid-to": "2099-01-01T00:00:00+0000"}
    signer_dates = ({"valid-from": signer_validity[0], "valid-to": signer_validity[1]}
                    if signer_validity else validity)

    def ku(*uses: str, critical: bool = True) -> dict[str, Any]:
        return {"id": "key_usage", "critical": critical,
                "smart-value": {"schema": "key-usage", "params": list(uses)}}

    def revinfo(issuer: str, ocsp: bool) -> list[dict[str, Any]]:
        ext: list[dict[str, Any]] = [{
            "id": "crl_distribution_points",
            "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": [issuer]}},
        }]
        if ocsp:
            ext.append({
                "id": "authority_information_access",
                "smart-value": {"schema": "aia-urls", "params": {"ocsp-responder-names": [issuer]}},
            })
        return ext

    positions = list(positions)
    entities: dict[str, Any] = {
        "root": {"common-name": "Root CA Uji Coba (certomancer)"},
        "interm": {"common-name": "CA Uji Coba (certomancer)"},
        "interm-ocsp": {"common-name": "OCSP Uji Coba"},
        "tsa": {"common-name": "TSA Uji Coba"},
    }
    certs: dict[str, Any] = {
        "root": {
            "subject": "root", "issuer": "root", "validity": validity,
            "extensions": [
                {"id": "basic_constraints", "critical": True, "value": {"ca": True}},
                ku("digital_signature", "key_cert_sign", "crl_sign"),
            ],
        },
        "interm": {
            "issuer": "root", "validity": validity,
            "extensions": [
                {"id": "basic_constraints", "critical": True,
                 "value": {"ca": True, "path-len-constraint": 0}},
                ku("digital_signature", "key_cert_sign", "crl_sign"),
                *revinfo("root", ocsp=False),
            ],
        },
        "interm-ocsp": {
            "issuer": "interm", "validity": validity,
            "extensions": [
                ku("digital_signature"),
                {"id": "extended_key_usage", "critical": True, "value": ["ocsp_signing"]},
                {"id": "ocsp_no_check"},
            ],
        },
        "tsa": {
            "issuer": "root", "validity": validity,
            "extensions": [
                ku("digital_signature"),
                {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
                *revinfo("root", ocsp=False),
            ],
        },
    }
    for pos in positions:
        cn, nip, title = _identity(pos)
        if identities and pos in identities:
            cn, nip, *more = identities[pos]
            title = more[0] if more else title
        entities[pos] = {"common-name": cn, "serial-number": nip,
                         "organizational-unit-name": title}
        certs[pos] = {
            "issuer": "interm", "validity": signer_dates,
            "extensions": [ku("digital_signature", "non_repudiation"), *revinfo("interm", True)],
        }
    return {
        "external-url-prefix": url_prefix,
        "keysets": {
            "keys": {"keys": {label: {"path": f"{key_dir}{label}.key.pem"} for label in certs}},
        },
        "pki-architectures": {
            CERTOMANCER_ARCH: {
                "keyset": "keys",
                "entity-defaults": {"country-name": "ID", "organization-name": ORG_NAME},
                "entities": entities,
                "certs": certs,
                "services": {
                    "ocsp": {"interm": {"for-issuer": "interm", "responder-cert": "interm-ocsp",
                                        "signing-key": "interm-ocsp"}},
                    "crl-repo": {
                        "root": {"for-issuer": "root", "signing-key": "root",
                                 "simulated-update-schedule": "P90D"},
                        "interm": {"for-issuer": "interm", "signing-key": "interm",
                                   "simulated-update-schedule": "P30D"},
                    },
                    "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}},
                },
            }
        },
    }


def build_certomancer_arch(
    work_dir: str | os.PathLike[str], positions: Iterable[str] = DEFAULT_POSITIONS,
    signer_validity: tuple[str, str] | None = None,
) -> PKIArchitecture:
    """A certomancer PKI with TSA (``/statrequest-test/tsa/tsa``), OCSP and CRLs. Tests only.

    Keys are generated once into ``work_dir`` (certomancer needs them as files).
    Serve with ``AsyncIllusionist(arch).serving_session()``; the TSA URL is
    ``arch.service_registry.get_tsa_info("tsa").url``.
    """
    from certomancer.registry import CertomancerConfig

    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    cfg = _certomancer_config(positions, signer_validity=signer_validity)
    for label in cfg["keysets"]["keys"]["keys"]:
        key_path = work / f"{label}.key.pem"
        if not key_path.exists():
            _write(key_path, _service_key(label).private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()), private=True)
    return CertomancerConfig(cfg, key_search_dir=str(work)).get_pki_arch(CERTOMANCER_ARCH)


def export_certomancer_pkcs12(
    arch: PKIArchitecture, position: str, out_path: str | os.PathLike[str], passphrase: str
) -> str:
    """Write a PKCS#12 (with chain) for one certomancer signer, for ``Pkcs12Backend``."""
    from certomancer.registry import CertLabel

    data = arch.package_pkcs12(CertLabel(position), password=passphrase.encode())
    _write(Path(out_path), data, private=True)
    return str(out_path)


# --- a served test PKI (demo and portal tests): TSA, OCSP and CRLs over HTTP -----------------

RESPONDER_DIR = "certomancer"
RESPONDER_CONFIG = "certomancer.yml"


def responder_urls(url_prefix: str) -> dict[str, str]:
    """Where the served test PKI answers, given the prefix it was made for."""
    base = url_prefix.rstrip("/") + f"/{CERTOMANCER_ARCH}"
    return {"tsa": f"{base}/tsa/tsa", "ocsp": f"{base}/ocsp/interm",
            "crl": f"{base}/crls/interm/latest.crl"}


def create_responder_pki(
    out_dir: str | os.PathLike[str],
    url_prefix: str,
    positions: Iterable[str] = DEFAULT_POSITIONS,
    passphrase: str = DEFAULT_PASSPHRASE,
    *,
    identities: Mapping[str, tuple[str, ...]] | None = None,
    signer_years: int = 2,
    signer_validity: tuple[dt.datetime, dt.datetime] | None = None,
) -> dict[str, Any]:
    """A test PKI whose certificates point at a TSA / OCSP / CRL service at ``url_prefix``.

    Writes the same files as :func:`create_test_pki` (``<position>.p12`` etc., so the portal
    signs with it unchanged) plus ``certomancer/certomancer.yml`` and its keys, which
    ``certomancer --config .../certomancer.yml animate --port N`` serves. Certificates are
    derived deterministically from the keys and the config, so the served service and the
    exported keys always agree. Signers get ``signer_years`` of validity (BSrE issues ~2 years).
    Idempotent; positions are added, never renumbered; a new ``url_prefix`` re-issues all.
    ``signer_validity`` (tests) fixes the signers' validity period on first creation.
    """
    from certomancer.registry import CertLabel

    out = Path(out_dir)
    work = out / RESPONDER_DIR
    (work / "keys").mkdir(parents=True, exist_ok=True)
    manifest_path = out / MANIFEST
    manifest: dict[str, Any] = (
        json.loads(manifest_path.read_text()) if manifest_path.exists() else {"signers": {}})
    state: dict[str, Any] = manifest.get("responder") or {}
    if "signer_validity" not in state and signer_validity is not None:
        state["signer_validity"] = [t.strftime("%Y-%m-%dT%H:%M:%S+0000")
                                    for t in signer_validity]
    if "signer_validity" not in state:
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        state["signer_validity"] = [
            (now - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+0000"),
            (now + dt.timedelta(days=365 * signer_years)).strftime("%Y-%m-%dT%H:%M:%S+0000")]
    # Order matters: certomancer numbers certificates in config order.
    known = list(state.get("positions", []))
    known += [p for p in dict.fromkeys(positions) if p not in known]
    state["positions"] = known
    stored_ids = dict(state.get("identities", {}))
    stored_ids.update({k: list(v) for k, v in (identities or {}).items()})
    state["identities"] = stored_ids
    state["url_prefix"] = url_prefix.rstrip("/")
    state.setdefault("revoked", {})
    manifest["responder"] = state
    arch = _write_responder_config(out, state)

    pw = passphrase.encode()
    _write(out / "root-ca.pem", _pem_asn1(arch.get_cert(CertLabel("root"))))
    _write(out / "intermediate-ca.pem", _pem_asn1(arch.get_cert(CertLabel("interm"))))
    _write(out / "ca-chain.pem", _pem_asn1(arch.get_cert(CertLabel("interm")))
           + _pem_asn1(arch.get_cert(CertLabel("root"))))
    _write(out / "tsa.pem", _pem_asn1(arch.get_cert(CertLabel("tsa"))))
    manifest.update(root="root-ca.pem", intermediate="intermediate-ca.pem", chain="ca-chain.pem")
    signers = manifest.setdefault("signers", {})
    for position in known:
        cert = arch.get_cert(CertLabel(position))
        pem_bytes = _pem_asn1(cert)
        cert_file = out / f"{position}.cert.pem"
        if not (cert_file.exists() and cert_file.read_bytes() == pem_bytes
                and (out / f"{position}.p12").exists()):
            _write(out / f"{position}.p12",
                   arch.package_pkcs12(CertLabel(position), password=pw), private=True)
            _write(cert_file, pem_bytes)
        cn, nip, title = _identity(position)
        if position in stored_ids:
            cn, nip, *more = stored_ids[position]
            title = more[0] if more else title
        signers[position] = {"p12": f"{position}.p12", "cert": f"{position}.cert.pem",
                             "name": cn, "nip": nip, "title": title,
                             "subject": cert.subject.human_friendly}
    _write(manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False).encode())
    res = _absolute(out, manifest)
    res["responder"] = {**state, "config": str(work / RESPONDER_CONFIG),
                        **responder_urls(state["url_prefix"])}
    return res


def _pem_asn1(cert: Any) -> bytes:
    from asn1crypto import pem as asn1_pem

    return asn1_pem.armor("CERTIFICATE", cert.dump())


def _write_responder_config(out: Path, state: dict[str, Any]) -> PKIArchitecture:
    import yaml
    from certomancer.registry import CertomancerConfig

    work = out / RESPONDER_DIR
    cfg = _certomancer_config(
        state["positions"], url_prefix=state["url_prefix"],
        identities={k: tuple(v) for k, v in state.get("identities", {}).items()},
        signer_validity=tuple(state["signer_validity"]), key_dir="keys/")
    arch_cfg = cfg["pki-architectures"][CERTOMANCER_ARCH]
    for generation in range(2, int(state.get("tsa_generation", 1)) + 1):
        # a renewed TSA certificate (new key, same name): the service now signs with it
        label = f"tsa{generation}"
        arch_cfg["certs"][label] = {
            **arch_cfg["certs"]["tsa"], "subject": "tsa", "subject-key": label,
            "validity": {"valid-from": "2020-01-01T00:00:00+0000",
                         "valid-to": f"{2099 + generation}-01-01T00:00:00+0000"}}
        cfg["keysets"]["keys"]["keys"][label] = {"path": f"keys/{label}.key.pem"}
        arch_cfg["services"]["time-stamping"]["tsa"] = {"signing-key": label,
                                                        "signing-cert": label}
    for label, when in state.get("revoked", {}).items():
        cfg["pki-architectures"][CERTOMANCER_ARCH]["certs"][label]["revocation"] = {
            "revoked-since": when, "reason": "key_compromise"}
    for label in cfg["keysets"]["keys"]["keys"]:
        key_path = work / "keys" / f"{label}.key.pem"
        if not key_path.exists():
            _write(key_path, _service_key(label).private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()), private=True)
    _write(work / RESPONDER_CONFIG, yaml.safe_dump(cfg, sort_keys=False).encode())
    return CertomancerConfig(cfg, key_search_dir=str(work)).get_pki_arch(CERTOMANCER_ARCH)


def revoke_test_signer(out_dir: str | os.PathLike[str], position: str,
                       when: dt.datetime | None = None) -> None:
    """Mark a signer of the served test PKI as revoked (key compromise) from ``when`` (now).

    The date is kept to the second (rounded down), as in a CRL. The responder reads its config
    at start: restart it to publish the revocation.
    """
    out = Path(out_dir)
    manifest = json.loads((out / MANIFEST).read_text())
    state = manifest["responder"]
    if position not in state["positions"]:
        raise KeyError(position)
    when = when or dt.datetime.now(dt.timezone.utc)
    state.setdefault("revoked", {})[position] = when.strftime("%Y-%m-%dT%H:%M:%S+0000")
    _write_responder_config(out, state)
    _write(out / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False).encode())


def renew_test_tsa(out_dir: str | os.PathLike[str]) -> None:
    """Give the served test PKI's TSA a new certificate (as a TSA does before the old one
    expires). Restart the responder to use it."""
    out = Path(out_dir)
    manifest = json.loads((out / MANIFEST).read_text())
    state = manifest["responder"]
    state["tsa_generation"] = int(state.get("tsa_generation", 1)) + 1
    _write_responder_config(out, state)
    _write(out / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False).encode())


def responder_app(config_path: str | os.PathLike[str]) -> Any:
    """The certomancer Animator (WSGI) for a config written by :func:`create_responder_pki`:
    what ``certomancer animate`` serves, for tests that run it in a thread."""
    from certomancer.integrations.animator import Animator, AnimatorArchStore
    from certomancer.registry import CertomancerConfig

    cfg = CertomancerConfig.from_file(str(config_path))
    return Animator(AnimatorArchStore(cfg.pki_archs), with_web_ui=False,
                    allow_time_override=False)
