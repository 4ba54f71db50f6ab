"""TLS for the probes: the client contexts, and what a server's certificate says."""

from __future__ import annotations

import _ssl
import contextlib
import functools
import hashlib
import itertools
import ssl
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID

VERSIONS = {"TLSv1": "1.0", "TLSv1.1": "1.1", "TLSv1.2": "1.2", "TLSv1.3": "1.3"}
MAX_CHAIN = 8  # certificates of a presented chain looked at: the server's, and it may send many


@functools.cache
def verifying(ca_file: str | None, check_hostname: bool) -> ssl.SSLContext:
    """Verifies the chain against `ca_file` (the system's store when None). Old protocol
    versions are allowed, so a server offering only those is seen and reported, not refused."""
    context = ssl.create_default_context(cafile=ca_file)
    context.check_hostname = check_hostname
    _allow_old(context)
    return context


@functools.cache
def unverified() -> ssl.SSLContext:
    """For reading a certificate that failed verification: what it names, and until when."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    _allow_old(context)
    return context


def _allow_old(context: ssl.SSLContext) -> None:
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    with contextlib.suppress(ssl.SSLError):  # OpenSSL builds without the old suites refuse
        context.set_ciphers("DEFAULT:@SECLEVEL=0")


def session_facts(ssl_object: Any) -> dict[str, Any]:
    """The negotiated version and cipher, the certificate's names, issuer and expiry, and the
    chain as presented (digests for DANE, RFC 7672)."""
    cipher = ssl_object.cipher()
    der = ssl_object.getpeercert(binary_form=True)
    facts: dict[str, Any] = {
        "tls_version": VERSIONS.get(ssl_object.version(), ssl_object.version()),
        "cipher": cipher[0] if cipher else None,
    }
    if der:
        facts.update(certificate_facts(der))
        facts.update(chain_facts(presented_chain(ssl_object) or [der]))
    return facts


def presented_chain(ssl_object: Any) -> list[bytes]:
    """The certificates the server sent, leaf first, as DER ([] where the ssl module cannot
    tell: Python 3.13 has get_unverified_chain; 3.10 to 3.12 have it on the inner object)."""
    getter = getattr(ssl_object, "get_unverified_chain", None)
    if getter is None:
        getter = getattr(getattr(ssl_object, "_sslobj", None), "get_unverified_chain", None)
    if getter is None:
        return []
    try:
        chain = getter() or []
    except (ssl.SSLError, ValueError):
        return []
    ders = [c if isinstance(c, bytes) else c.public_bytes(_ssl.ENCODING_DER) for c in chain[:MAX_CHAIN]]
    return [d for d in ders if isinstance(d, bytes)]


def chain_facts(ders: list[bytes]) -> dict[str, Any]:
    """Per certificate of the chain: SHA-256 and SHA-512 of the certificate and of its public
    key (what TLSA records match, RFC 6698 §2.1), and whether each is issued by the next."""
    certificates: list[x509.Certificate | None] = []
    for der in ders[:MAX_CHAIN]:
        try:
            certificates.append(x509.load_der_x509_certificate(der))
        except ValueError:
            certificates.append(None)
    chain = [_digests(der, certificate) for der, certificate in zip(ders, certificates, strict=False)]
    linked = [_issued_by(child, parent) for child, parent in itertools.pairwise(certificates)]
    return {"chain": chain, "linked": linked}


def _digests(der: bytes, certificate: x509.Certificate | None) -> dict[str, str]:
    out = {"cert256": hashlib.sha256(der).hexdigest(), "cert512": hashlib.sha512(der).hexdigest()}
    if certificate is not None:
        spki = certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        out |= {"spki256": hashlib.sha256(spki).hexdigest(), "spki512": hashlib.sha512(spki).hexdigest()}
    return out


def _issued_by(child: x509.Certificate | None, parent: x509.Certificate | None) -> bool:
    if child is None or parent is None:
        return False
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def certificate_facts(der: bytes) -> dict[str, Any]:
    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError:
        return {"names": [], "issuer": None, "not_after": None}
    return {
        "names": names_of(certificate)[:20],
        "issuer": issuer_text(certificate.issuer),
        "not_after": int(certificate.not_valid_after_utc.timestamp()),
    }


def names_of(certificate: x509.Certificate) -> list[str]:
    """The DNS names a certificate is for: its subjectAltName, else its subject CN (RFC 6125)."""
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except (x509.ExtensionNotFound, ValueError):
        name = _common_name(certificate.subject)
        return [name.lower()] if name else []
    return [str(n).lower() for n in extension.value.get_values_for_type(x509.DNSName)]


def _common_name(name: x509.Name) -> str | None:
    return _attribute(name, NameOID.COMMON_NAME)


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    try:
        values = name.get_attributes_for_oid(oid)
    except ValueError:
        return None
    return str(values[0].value).strip()[:253] or None if values else None


def issuer_text(name: x509.Name) -> str | None:
    """The issuer as people name it: organisation and common name ("Let's Encrypt R11"), either
    alone when the other is absent (many private CAs carry an O only), else the RFC 4514 form.
    Attacker-controlled text: bounded, and None for an empty or unreadable name."""
    organisation = _attribute(name, NameOID.ORGANIZATION_NAME)
    common = _attribute(name, NameOID.COMMON_NAME)
    text: str | None
    if organisation and common:
        text = common if organisation in common else f"{organisation} {common}"
    else:
        text = organisation or common or _rfc4514(name)
    return text[:253] if text else None


def _rfc4514(name: x509.Name) -> str | None:
    try:
        return name.rfc4514_string()
    except ValueError:
        return None


def name_matches(host: str, names: list[str]) -> bool:
    """Whether a certificate for `names` is for `host`: the same name, or a wildcard standing
    for exactly the leftmost label (RFC 6125 §6.4.3)."""
    host = host.rstrip(".").lower()
    for given in names:
        name = given.rstrip(".").lower()
        if name == host:
            return True
        if name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]:
            return True
    return False
