"""Secrets kept out of what people see: webhook URLs often carry a token in their path, query or
user part, and error texts from HTTP clients quote the URL they failed on."""

from __future__ import annotations

import re
import urllib.parse

_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]*")


def redact_url(url: str) -> str:
    """Where a URL points, and nothing that may be a secret: scheme, host and port."""
    try:
        parts = urllib.parse.urlsplit(url)
        host, port = parts.hostname or "?", parts.port
    except ValueError:
        return f"{url.split(':', 1)[0]}://?/..."
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}{f':{port}' if port else ''}/..."


def redact_urls(text: str) -> str:
    """`text` with every URL in it redacted."""
    return _URL.sub(lambda match: redact_url(match.group()), text)
