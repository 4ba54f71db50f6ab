"""The issuer of a probed certificate, as people read it."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from domainwatch.probes.tls import issuer_text

ORG, CN, OU, COUNTRY = (
    NameOID.ORGANIZATION_NAME,
    NameOID.COMMON_NAME,
    NameOID.ORGANIZATIONAL_UNIT_NAME,
    NameOID.COUNTRY_NAME,
)


def name(*pairs: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in pairs])


@pytest.mark.parametrize(
    ("issuer", "expected"),
    [
        (name((COUNTRY, "US"), (ORG, "Let's Encrypt"), (CN, "R11")), "Let's Encrypt R11"),
        (name((ORG, "Example Private CA"), (OU, "Testing CA #1")), "Example Private CA"),
        (name((CN, "Internal Root")), "Internal Root"),
        (name((ORG, "DigiCert Inc"), (CN, "DigiCert Inc TLS CA")), "DigiCert Inc TLS CA"),
        (name((COUNTRY, "DE"), (OU, "Mail")), "OU=Mail,C=DE"),
        (name(), None),
    ],
)
def test_issuer_is_organisation_and_common_name_else_either_else_rfc4514(
    issuer: x509.Name, expected: str | None
) -> None:
    """O and CN when both exist (CN alone when it already names the O), else whichever exists,
    else the RFC 4514 string; never a placeholder."""
    assert expected == issuer_text(issuer)


def test_a_long_issuer_is_bounded() -> None:
    """Attacker-controlled text stays bounded."""
    text = issuer_text(name((ORG, "x" * 64), (OU, "y" * 64), (CN, "z" * 64)))
    assert text is not None
    assert len(text) <= 253
