"""DKIM key records: presence, CNAME delegation, tag-list syntax, key strength, expected key."""

from __future__ import annotations

import base64
from enum import StrEnum

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import strategies as st

from domainwatch.checks.diagnoses.mistakes import truncated_key
from domainwatch.checks.kinds.dkim.kind import Code as DkimCode
from domainwatch.checks.kinds.dkim.kind import DkimExpectation, diagnose_key, key_bits
from domainwatch.dns.resolver import Outcome
from domainwatch.model import RecordState
from tests.helpers import codes, run_check
from tests.keys import ed25519_key, rsa_key

NAME = "resend._domainkey.example.com"
ANY_KEY = DkimExpectation("dkim:resend", NAME, True, "resend")


def expect_key(key: str) -> DkimExpectation:
    return DkimExpectation("dkim:resend", NAME, True, "resend", public_key=key)


async def test_published_2048_bit_key_is_present() -> None:
    """A valid 2048-bit key with no expectation on its value is present, bits recorded."""
    result = await run_check(ANY_KEY, {(NAME, "TXT"): [f"v=DKIM1; k=rsa; p={rsa_key(2048)}"]})
    assert (RecordState.PRESENT, set()) == (result.state, codes(result))
    assert 2048 == result.facts["dkim_key_bits"]


async def test_provider_style_record_without_v_and_k() -> None:
    """Resend publishes just p=...; v= and k= are optional (RFC 6376 §3.6.1)."""
    result = await run_check(expect_key(rsa_key(2048)), {(NAME, "TXT"): [f"p={rsa_key(2048)}"]})
    assert RecordState.PRESENT == result.state


async def test_key_split_over_strings_with_spaces_matches() -> None:
    """Folding white space inside p= is ignored when comparing keys."""
    key = rsa_key(2048)
    published = f"v=DKIM1; p={key[:100]} {key[100:]}"
    assert RecordState.PRESENT == (await run_check(expect_key(key), {(NAME, "TXT"): [published]})).state


async def test_missing_key_is_missing_with_exact_record() -> None:
    """No TXT at the selector: missing, and the fix carries the expected key."""
    result = await run_check(expect_key(rsa_key(2048)), {})
    assert RecordState.MISSING == result.state
    remediation = result.findings[0].remediation
    assert remediation is not None
    assert (NAME, "TXT", f"v=DKIM1; k=rsa; p={rsa_key(2048)}") == (
        remediation.name,
        remediation.type,
        remediation.value,
    )


@pytest.mark.parametrize("outcome", [Outcome.TIMEOUT, Outcome.SERVFAIL])
async def test_lookup_error_is_error(outcome: Outcome) -> None:
    """A failed lookup is never reported as a missing key."""
    assert RecordState.ERROR == (await run_check(ANY_KEY, {(NAME, "TXT"): outcome})).state


async def test_different_key_is_wrong() -> None:
    """A valid key that is not the expected one is wrong, with the fix."""
    result = await run_check(expect_key(rsa_key(2048)), {(NAME, "TXT"): [f"p={rsa_key(2048, 1)}"]})
    assert RecordState.WRONG == result.state
    assert {DkimCode.DKIM_KEY_MISMATCH} == codes(result)


@pytest.mark.parametrize(
    ("record", "code", "state"),
    [
        ("v=DKIM1; k=rsa; p=", DkimCode.DKIM_REVOKED, RecordState.WRONG),
        ("v=DKIM2; p={key}", DkimCode.DKIM_VERSION_UNKNOWN, RecordState.WRONG),
        ("k=rsa; v=DKIM1; p={key}", DkimCode.DKIM_VERSION_UNKNOWN, RecordState.WRONG),
        ("v=DKIM1; k=dsa; p={key}", DkimCode.DKIM_KEY_TYPE_UNKNOWN, RecordState.WRONG),
        ("v=DKIM1; t=y; p={key}", DkimCode.DKIM_TESTING, RecordState.PRESENT),
        ("v=DKIM1; t=s:y; p={key}", DkimCode.DKIM_TESTING, RecordState.PRESENT),
        ("v=DKIM1; p=not-base64!", DkimCode.DKIM_KEY_UNPARSABLE, RecordState.WRONG),
        ("v=DKIM1; p=AAAA", DkimCode.DKIM_KEY_UNPARSABLE, RecordState.WRONG),
        ("v=DKIM1; k=rsa", DkimCode.DKIM_SYNTAX, RecordState.WRONG),
        ("v=DKIM1; p={key}; p={key}", DkimCode.DKIM_SYNTAX, RecordState.WRONG),
        ("v=DKIM1; garbage; p={key}", DkimCode.DKIM_SYNTAX, RecordState.WRONG),
        ("v=DKIM1; p={weak}", DkimCode.DKIM_KEY_TOO_WEAK, RecordState.WRONG),
        ("v=DKIM1; p={short}", DkimCode.DKIM_KEY_SHORT, RecordState.PRESENT),
        # RFC 6376 §3.6.1 in full (issue #20):
        ("v=DKIM1; g=*; k=rsa; s=tlsrpt; p={key}", DkimCode.DKIM_NOT_FOR_EMAIL, RecordState.WRONG),
        ("v=DKIM1; s=tlsrpt:email; p={key}", None, RecordState.PRESENT),
        ("v=DKIM1; s=*; p={key}", None, RecordState.PRESENT),
        ("v=DKIM1; h=sha1; p={key}", DkimCode.DKIM_HASH_UNUSABLE, RecordState.WRONG),
        ("v=DKIM1; h=sha1:sha256; p={key}", None, RecordState.PRESENT),
        ("v=DKIM1; h=md5; p={key}", DkimCode.DKIM_HASH_UNUSABLE, RecordState.WRONG),
        ("v=DKIM1; K=RSA; p={key}", None, RecordState.PRESENT),
        ("v=DKIM1; k=RSA; n=notes here; t=s:z; x=unknown; p={key}", None, RecordState.PRESENT),
        ("v=DKIM1; k=ed25519; p={key}", DkimCode.DKIM_KEY_UNPARSABLE, RecordState.WRONG),
        ("v=DKIM1; k=ed25519; p={ed_spki}", DkimCode.DKIM_KEY_UNPARSABLE, RecordState.WRONG),
        ("v=DKIM1; p=", DkimCode.DKIM_REVOKED, RecordState.WRONG),
    ],
)
async def test_record_diagnoses(record: str, code: StrEnum | None, state: RecordState) -> None:
    """Each published-record problem yields its finding and the right state (None: no finding)."""
    ed_spki = "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE="
    text = record.format(key=rsa_key(2048), weak=rsa_key(512), short=rsa_key(1024), ed_spki=ed_spki)
    result = await run_check(ANY_KEY, {(NAME, "TXT"): [text]})
    assert (code in codes(result)) if code else (set() == codes(result))
    assert state == result.state


@pytest.mark.parametrize(
    "record",
    [
        "v=DKIM2; p={key}",
        "v=DKIM1; k=dsa; p={key}",
        "v=DKIM1; p={key}; p={key}",
        "v=DKIM1; s=tlsrpt; p={key}",
        "v=DKIM1; h=sha1; p={key}",
        "v=DKIM1; p=",
    ],
)
async def test_a_known_key_is_the_fix_for_every_error(record: str) -> None:
    """When the config names the key, every error finding says to publish it (#17)."""
    key = rsa_key(2048)
    result = await run_check(expect_key(key), {(NAME, "TXT"): [record.format(key=key)]})
    errors = [f for f in result.findings if f.severity.value == "error"]
    assert errors
    assert {f"v=DKIM1; k=rsa; p={key}"} == {f.remediation.value for f in errors if f.remediation}
    assert all(f.remediation is not None for f in errors)


async def test_ed25519_key_is_accepted() -> None:
    """k=ed25519 keys are 32 raw bytes (RFC 8463)."""
    result = await run_check(ANY_KEY, {(NAME, "TXT"): [f"v=DKIM1; k=ed25519; p={ed25519_key()}"]})
    assert RecordState.PRESENT == result.state


async def test_several_records_is_wrong() -> None:
    """Two key records at one selector make verification unpredictable."""
    data = {(NAME, "TXT"): [f"p={rsa_key(2048)}", f"p={rsa_key(2048, 1)}"]}
    assert {DkimCode.DKIM_MULTIPLE} == codes(await run_check(ANY_KEY, data))


SES = DkimExpectation("dkim:abc", "abc._domainkey.example.com", True, "abc", cname="abc.dkim.amazonses.com")


async def test_cname_delegation_present() -> None:
    """A CNAME to the provider's key, which resolves to a valid key, is present."""
    data = {
        ("abc._domainkey.example.com", "CNAME"): ["abc.dkim.amazonses.com"],
        ("abc._domainkey.example.com", "TXT"): [f"p={rsa_key(2048)}"],
    }
    assert RecordState.PRESENT == (await run_check(SES, data)).state


async def test_cname_missing_is_missing_with_cname_fix() -> None:
    """No CNAME: missing, and the fix is the CNAME itself."""
    result = await run_check(SES, {})
    assert (RecordState.MISSING, {DkimCode.DKIM_CNAME_MISSING}) == (result.state, codes(result))
    remediation = result.findings[0].remediation
    assert remediation is not None
    assert ("CNAME", "abc.dkim.amazonses.com") == (remediation.type, remediation.value)


async def test_cname_to_wrong_target_is_wrong() -> None:
    """A CNAME pointing elsewhere is wrong."""
    data = {("abc._domainkey.example.com", "CNAME"): ["abc.dkim.other.example"]}
    result = await run_check(SES, data)
    assert (RecordState.WRONG, {DkimCode.DKIM_CNAME_WRONG}) == (result.state, codes(result))


def test_key_bits_of_pkcs1_key() -> None:
    """Some publishers paste a bare PKCS#1 RSAPublicKey; it still parses."""
    key = rsa.RSAPublicNumbers(65537, (1 << 2047) + 1).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    assert 2048 == key_bits(base64.b64encode(der).decode())


@given(st.text())
def test_diagnose_never_raises(text: str) -> None:
    """Arbitrary record text yields findings, never an exception."""
    diagnose_key(text, None, NAME)


@given(st.data())
def test_every_cut_of_a_key_is_diagnosed_as_truncated(data: st.DataObject) -> None:
    """A 2048-bit key cut anywhere past its DER header (8 base64 characters), with or without
    the tags before it, is `dkim_key_truncated`: a cut leaving 1 (mod 4) characters included,
    which fails to decode as base64 before its length can be compared."""
    key = rsa_key(2048)
    cut = data.draw(st.integers(min_value=8, max_value=len(key) - 1))
    codes_found = [f.code.value for f in truncated_key(key[:cut]).findings]
    assert ["dkim_key_truncated"] == codes_found


@pytest.mark.parametrize("prefix", ["p=", "v=DKIM1; k=rsa; p="])
def test_a_key_cut_at_255_characters_is_truncated(prefix: str) -> None:
    """The cut a provider makes when it does not split a long TXT value: the first 255
    characters of the record (1 mod 4 characters of key in both forms)."""
    cut = (prefix + rsa_key(2048))[:255][len(prefix) :]
    assert 1 == len(cut) % 4
    assert ["dkim_key_truncated"] == [f.code.value for f in truncated_key(cut).findings]
