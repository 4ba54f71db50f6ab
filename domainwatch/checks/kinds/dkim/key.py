"""A DKIM key record read as RFC 6376 §3.6.1 defines it (with RFC 8301's and RFC 8463's rules for
hashes and key types), and what is wrong with it (pure; never raises).

Tags: `v` (first if present, `DKIM1`), `h` (acceptable hashes: a key limited to `sha1` can verify
nothing, RFC 8301), `k` (`rsa` or `ed25519`), `n` (notes), `p` (the key; empty = revoked), `s`
(service types: verifiers ignore a key whose list holds neither `email` nor `*`), `t` (flags:
`y` testing, `s` strict; unknown flags ignored). Unknown tags are ignored. Tag names are
case-sensitive (§3.2); the keyword values are compared case-insensitively. RSA keys are parsed
from their DER form (SubjectPublicKeyInfo, or PKCS#1 RSAPublicKey as §3.3.1 names it), Ed25519
keys as the raw 32 octets RFC 8463 specifies.
"""

from __future__ import annotations

import base64
import binascii
import enum

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from domainwatch.checks.kinds.dkim.tags import TagList, parse_tags
from domainwatch.model import Finding, Remediation, Severity

MIN_RSA_BITS = 1024  # RFC 8301 §3.2: verifiers MUST NOT accept shorter keys
RECOMMENDED_RSA_BITS = 2048
MAX_KEY_TEXT = 8192  # base64 of a 16,384-bit RSA key is under 3 KB: anything longer is not a key


class Code(enum.StrEnum):
    DKIM_MISSING = "dkim_missing"
    DKIM_MULTIPLE = "dkim_multiple"
    DKIM_CNAME_MISSING = "dkim_cname_missing"
    DKIM_CNAME_WRONG = "dkim_cname_wrong"
    DKIM_SYNTAX = "dkim_syntax"
    DKIM_VERSION_UNKNOWN = "dkim_version_unknown"
    DKIM_KEY_TYPE_UNKNOWN = "dkim_key_type_unknown"
    DKIM_HASH_UNUSABLE = "dkim_hash_unusable"
    DKIM_NOT_FOR_EMAIL = "dkim_not_for_email"
    DKIM_REVOKED = "dkim_revoked"
    DKIM_TESTING = "dkim_testing"
    DKIM_KEY_UNPARSABLE = "dkim_key_unparsable"
    DKIM_KEY_TOO_WEAK = "dkim_key_too_weak"
    DKIM_KEY_SHORT = "dkim_key_short"
    DKIM_KEY_MISMATCH = "dkim_key_mismatch"
    # Rotation (fleet/drift.py): judged from the key's history and role, not its text.
    DKIM_NEXT_NOT_READY = "dkim_next_not_ready"
    DKIM_NEXT_READY = "dkim_next_ready"
    DKIM_RETIRING_SAFE_TO_REMOVE = "dkim_retiring_safe_to_remove"
    DKIM_RETIRING_REMOVED_EARLY = "dkim_retiring_removed_early"
    DKIM_KEY_TOO_OLD = "dkim_key_too_old"


def key_record(public_key: str) -> str:
    kind = "ed25519" if len(decode(public_key) or b"") == 32 else "rsa"
    return f"v=DKIM1; k={kind}; p={public_key}"


def decode(p: str) -> bytes | None:
    text = strip(p)
    if len(text) > MAX_KEY_TEXT:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def strip(p: str) -> str:
    return "".join(p.split())


def key_bits(p: str, kind: str = "rsa") -> int | None:
    """Size of a published key in bits, or None when it does not parse as a key of `kind`."""
    der = decode(p)
    if der is None:
        return None
    if kind == "ed25519":
        return 256 if len(der) == 32 else None
    try:
        key = load_der_public_key(der)
    except (ValueError, TypeError):
        return None
    return key.key_size if isinstance(key, rsa.RSAPublicKey) else None


def _list(tags: TagList, name: str, default: str) -> list[str]:
    return [item.strip().lower() for item in tags.tags.get(name, default).split(":")]


def diagnose_key(text: str, expected_key: str | None, name: str) -> list[Finding]:
    """Findings for one published key record; `expected_key` is the key the config names, if any,
    whose record is then the fix for every error."""
    fix = Remediation(name, "TXT", key_record(expected_key)) if expected_key else None
    tags = parse_tags(text)
    out = [
        Finding(Code.DKIM_SYNTAX, Severity.ERROR, f"DKIM tag-list: {e}", found=text, remediation=fix)
        for e in tags.errors
    ]
    out += _header_findings(tags, text, fix)
    if "p" not in tags.tags:
        out.append(
            Finding(
                Code.DKIM_SYNTAX,
                Severity.ERROR,
                "p= (the public key) is required",
                found=text,
                remediation=fix,
            )
        )
        return out
    kind = tags.tags.get("k", "rsa").strip().lower()
    return out + _public_key_findings(strip(tags.tags["p"]), kind, expected_key, fix)


def _header_findings(tags: TagList, text: str, fix: Remediation | None) -> list[Finding]:
    out: list[Finding] = []
    if "v" in tags.tags and (tags.tags["v"] != "DKIM1" or tags.order[0] != "v"):
        out.append(
            Finding(
                Code.DKIM_VERSION_UNKNOWN,
                Severity.ERROR,
                f"v={tags.tags['v'][:20]} must be DKIM1 and the first tag: verifiers ignore the record",
                found=text,
                remediation=fix,
            )
        )
    kind = tags.tags.get("k", "rsa").strip().lower()
    if kind not in ("rsa", "ed25519"):
        out.append(
            Finding(
                Code.DKIM_KEY_TYPE_UNKNOWN,
                Severity.ERROR,
                f"key type k={kind[:20]} is not rsa or ed25519",
                found=text,
                remediation=fix,
            )
        )
    hashes = _list(tags, "h", "sha256")
    if "sha256" not in hashes:
        why = (
            "sha1 only, which verifiers must not accept (RFC 8301)"
            if "sha1" in hashes
            else "no hash verifiers use"
        )
        out.append(
            Finding(
                Code.DKIM_HASH_UNUSABLE,
                Severity.ERROR,
                f"h={tags.tags['h'][:40]}: {why}; no signature with this key can verify",
                found=text,
                remediation=fix,
            )
        )
    services = _list(tags, "s", "*")
    if "*" not in services and "email" not in services:
        out.append(
            Finding(
                Code.DKIM_NOT_FOR_EMAIL,
                Severity.ERROR,
                f"s={tags.tags['s'][:40]}: the key is not for email, so verifiers ignore it "
                "(RFC 6376 §3.6.1)",
                found=text,
                remediation=fix,
            )
        )
    if "y" in _list(tags, "t", ""):
        out.append(
            Finding(
                Code.DKIM_TESTING,
                Severity.WARNING,
                "t=y: the domain is testing DKIM; receivers may ignore failures and passes",
            )
        )
    return out


def _public_key_findings(
    p: str, kind: str, expected_key: str | None, fix: Remediation | None
) -> list[Finding]:
    if not p:
        return [
            Finding(Code.DKIM_REVOKED, Severity.ERROR, "p= is empty: the key is revoked", remediation=fix)
        ]
    out: list[Finding] = []
    bits = key_bits(p, kind)
    if bits is None and kind in ("rsa", "ed25519"):
        shape = "32 raw octets, base64 (RFC 8463)" if kind == "ed25519" else "a DER RSA public key, base64"
        out.append(
            Finding(
                Code.DKIM_KEY_UNPARSABLE,
                Severity.ERROR,
                f"p= is not a valid {kind} public key ({shape}); a key cut short, or with spaces or quotes "
                "inside, is the usual cause",
                remediation=fix,
            )
        )
    elif bits is not None and kind == "rsa" and bits < MIN_RSA_BITS:
        out.append(
            Finding(
                Code.DKIM_KEY_TOO_WEAK,
                Severity.ERROR,
                f"{bits}-bit RSA key: verifiers reject keys under {MIN_RSA_BITS} bits (RFC 8301)",
                found=str(bits),
                remediation=fix,
            )
        )
    elif bits is not None and kind == "rsa" and bits < RECOMMENDED_RSA_BITS:
        out.append(
            Finding(
                Code.DKIM_KEY_SHORT,
                Severity.WARNING,
                f"{bits}-bit RSA key: {RECOMMENDED_RSA_BITS} bits is recommended",
                found=str(bits),
            )
        )
    if expected_key and decode(p) != decode(expected_key):
        out.append(
            Finding(
                Code.DKIM_KEY_MISMATCH,
                Severity.ERROR,
                "the published key differs from the expected key",
                remediation=fix,
                expected=strip(expected_key),
                found=p,
            )
        )
    return out


def key_facts(text: str) -> dict[str, str | int]:
    tags = parse_tags(text).tags
    kind = tags.get("k", "rsa").strip().lower()
    bits = key_bits(strip(tags.get("p", "")), kind) if tags.get("p") else None
    return {"dkim_key_bits": bits} if bits else {}
