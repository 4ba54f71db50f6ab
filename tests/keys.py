"""Public keys for DKIM tests, built from numbers so tests need no slow key generation."""

from __future__ import annotations

import base64
import functools

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa


@functools.cache
def rsa_key(bits: int, variant: int = 0) -> str:
    """Base64 SubjectPublicKeyInfo of an RSA public key with a modulus of exactly `bits` bits."""
    modulus = (1 << (bits - 1)) + 2 * variant + 1
    key = rsa.RSAPublicNumbers(65537, modulus).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


@functools.cache
def ed25519_key() -> str:
    raw = (
        ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32))
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return base64.b64encode(raw).decode()
