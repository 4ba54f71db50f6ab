"""domainwatch: continuous verification of email-domain DNS records."""

from __future__ import annotations

import os

__all__ = ["__version__", "revision"]

try:  # written by the build from the git tag (pyproject.toml, [tool.hatch.version])
    from domainwatch._version import version as __version__
except ImportError:  # a source tree that was never built
    __version__ = "0.0.0+unknown"


def revision(version: str = __version__) -> str:
    """The commit this build is of: the image's DOMAINWATCH_REVISION (its build argument), else
    the `g<hash>` a development version carries, else "unknown" (an exact tag names itself)."""
    local = version.partition("+")[2].split(".")
    node = next((part[1:] for part in local if part.startswith("g") and len(part) > 7), "")
    return os.environ.get("DOMAINWATCH_REVISION") or node or "unknown"
