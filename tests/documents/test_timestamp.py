"""RFC 3161 timestamps and embedded revocation info (PAdES B-LT, final B-LTA) with an in-process
certomancer TSA/OCSP/CRL service: no network, real HTTP code paths."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from certomancer.integrations.aiohttp_illusionist import AsyncIllusionist
from certomancer.registry import CertLabel

from ckanext.statrequest.documents import testpki
from ckanext.statrequest.documents.layout import PARAF1, PARAF2, TTE
from ckanext.statrequest.documents.letter import RenderedLetter
from ckanext.statrequest.documents.signers import Pkcs12Backend, SigningError, SignOptions
from ckanext.statrequest.documents.verify import async_verify_pdf

from .support import FIELD_POSITION, META

P12_PASS = "uji-tsa"


@pytest.fixture(scope="module")
def arch(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return testpki.build_certomancer_arch(tmp_path_factory.mktemp("certomancer"))


@pytest.fixture(scope="module")
def p12s(arch: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("certomancer-p12")
    return {pos: testpki.export_certomancer_pkcs12(arch, pos, out / f"{pos}.p12", P12_PASS)
            for pos in FIELD_POSITION.values()}


def test_blt_chain_with_lta_on_final(arch: Any, p12s: dict[str, str],
                                     prepared: RenderedLetter) -> None:
    root = arch.get_cert(CertLabel("root"))
    tsa_url = arch.service_registry.get_tsa_info("tsa").url

    async def scenario() -> tuple[bytes, Any]:
        async with AsyncIllusionist(arch).serving_session() as session:
            options = SignOptions(timestamper_url=tsa_url, embed_validation_info=True,
                                  trust_roots=[root], lta_on_final=True, session=session)
            pdf = prepared.pdf
            for name in (PARAF1, PARAF2, TTE):
                backend = Pkcs12Backend(p12s[FIELD_POSITION[name]], options=options)
                pdf = await backend.sign(pdf, name, META[name], P12_PASS)
        return pdf, await async_verify_pdf(pdf, [root])

    pdf, verdict = asyncio.run(scenario())
    assert verdict.status == "valid", verdict
    kinds = [(s.field, s.kind) for s in verdict.signers]
    assert kinds[:3] == [(PARAF1, "signature"), (PARAF2, "signature"), (TTE, "signature")]
    assert kinds[3][1] == "timestamp"  # the B-LTA document timestamp after the TTE
    assert all(s.timestamped and s.signing_time is not None for s in verdict.signers)
    assert all(s.trusted and s.intact for s in verdict.signers)
    # Every signature carries its own revocation info (DSS), so each stays verifiable offline.
    assert b"/DSS" in pdf and b"/OCSPs" in pdf
    assert _ades_local_only_ok(pdf, root)


def _ades_local_only_ok(pdf: bytes, root: Any) -> bool:
    """Offline AdES-LTA validation (LOCAL_ONLY fetching, revocation info required) of all
    signatures: the notes found paraf without their own revinfo come out INDETERMINATE."""
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.ades.report import AdESPassed
    from pyhanko.sign.validation.ades import ades_lta_validation
    from pyhanko.sign.validation.policy_decl import (
        PdfSignatureValidationSpec,
        RevinfoOnlineFetchingRule,
        RevocationInfoGatheringSpec,
        SignatureValidationSpec,
    )
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
    from pyhanko_certvalidator.registry import SimpleTrustManager

    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=[root]),
        revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
    )
    spec = PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=policy, ts_cert_validation_policy=policy,
        revinfo_gathering_policy=RevocationInfoGatheringSpec(
            online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY),
    ))

    async def run() -> list[Any]:
        reader = PdfFileReader(BytesIO(pdf))
        return [(await ades_lta_validation(sig, spec)).ades_subindic
                for sig in reader.embedded_regular_signatures]

    results = asyncio.run(run())
    assert len(results) == 3
    return all(r == AdESPassed.OK for r in results)


def test_unreachable_tsa_fails_cleanly(prepared: RenderedLetter, p12s: dict[str, str]) -> None:
    options = SignOptions(timestamper_url="http://127.0.0.1:9/tsa", http_timeout=3)
    backend = Pkcs12Backend(p12s["kepala_bidang"], options=options)
    with pytest.raises(SigningError) as err:
        asyncio.run(backend.sign(prepared.pdf, PARAF1, META[PARAF1], P12_PASS))
    assert err.value.code == "timestamp_failed"


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="trust_roots"):
        SignOptions(embed_validation_info=True)
    with pytest.raises(ValueError, match="lta_on_final"):
        SignOptions(lta_on_final=True)


def _short_lived_arch(tmp_path: Any) -> tuple[Any, dt.datetime]:
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    until = now + dt.timedelta(days=365)
    fmt = "%Y-%m-%dT%H:%M:%S+0000"
    arch = testpki.build_certomancer_arch(
        tmp_path / "short", signer_validity=((now - dt.timedelta(days=1)).strftime(fmt),
                                             until.strftime(fmt)))
    return arch, until


@pytest.mark.parametrize("long_term", [True, False])
def test_expired_signer_valid_only_with_timestamp_and_ltv(prepared: RenderedLetter,
                                                          tmp_path: Any, long_term: bool) -> None:
    """Two years later the signers' certificates (one year, like BSrE's two) have expired:
    the B-LTA letter is still valid (each certificate checked as of its timestamp, with the
    revocation data of then); the same letter signed without them is no longer trusted."""
    arch, until = _short_lived_arch(tmp_path)
    root = arch.get_cert(CertLabel("root"))
    p12s = {pos: testpki.export_certomancer_pkcs12(arch, pos, tmp_path / f"{pos}.p12", P12_PASS)
            for pos in FIELD_POSITION.values()}
    later = until + dt.timedelta(days=365)

    async def scenario() -> Any:
        async with AsyncIllusionist(arch).serving_session() as session:
            options = SignOptions(
                timestamper_url=arch.service_registry.get_tsa_info("tsa").url,
                embed_validation_info=True, trust_roots=[root], lta_on_final=True,
                session=session) if long_term else SignOptions()
            pdf = prepared.pdf
            for name in (PARAF1, PARAF2, TTE):
                backend = Pkcs12Backend(p12s[FIELD_POSITION[name]], options=options)
                pdf = await backend.sign(pdf, name, META[name], P12_PASS)
            return (await async_verify_pdf(pdf, [root]),
                    await async_verify_pdf(pdf, [root], moment=later))

    now_verdict, later_verdict = asyncio.run(scenario())
    assert now_verdict.status == "valid"
    if long_term:
        assert later_verdict.status == "valid", later_verdict
        assert all(s.long_term for s in later_verdict.signers if s.kind == "signature")
    else:
        assert later_verdict.status == "untrusted"
