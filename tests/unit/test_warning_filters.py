"""The one deprecation warning domainwatch silences is exactly dnspython's DSA warning from
`dns.dnssecalgs.dsa` (cryptography 51); every other warning still fails the tests."""

from __future__ import annotations

import importlib
import sys
import warnings

import pytest
from cryptography.utils import CryptographyDeprecationWarning

DSA_MESSAGE = "DSA is deprecated and support will be removed in a future release."


def _warn(message: str, category: type[Warning], module: str) -> None:
    warnings.warn_explicit(message, category, filename=f"{module}.py", lineno=1, module=module)


def test_the_dsa_warning_from_dnspythons_dsa_module_is_silenced() -> None:
    """The exact message from the exact module passes under `filterwarnings = error`."""
    _warn(DSA_MESSAGE, CryptographyDeprecationWarning, "dns.dnssecalgs.dsa")


def test_another_cryptography_deprecation_still_fails() -> None:
    """Only the DSA message is silenced: another deprecation from the same module is an error."""
    with pytest.raises(CryptographyDeprecationWarning):
        _warn("TripleDES has been moved", CryptographyDeprecationWarning, "dns.dnssecalgs.dsa")


@pytest.mark.parametrize("module", ["domainwatch.dns.dnssec", "dns.dnssecalgs.dsa_extra", "dns.dnssec"])
def test_the_dsa_message_from_another_module_still_fails(module: str) -> None:
    """The same message from any other module (a prefix of the name included) is an error."""
    with pytest.raises(CryptographyDeprecationWarning):
        _warn(DSA_MESSAGE, CryptographyDeprecationWarning, module)


def test_the_dsa_message_as_another_category_still_fails() -> None:
    """The filter names its category: the same text as a plain DeprecationWarning is an error."""
    with pytest.raises(DeprecationWarning):
        _warn(DSA_MESSAGE, DeprecationWarning, "dns.dnssecalgs.dsa")


def test_importing_domainwatchs_dnssec_module_warns_nothing() -> None:
    """The import-time filter: with every warning recorded, importing our module (and so
    dns.dnssec, afresh) records none."""
    saved = {
        name: mod
        for name, mod in sys.modules.items()
        if name.startswith(("dns.dnssec", "domainwatch.dns.dnssec"))
    }
    for name in saved:
        del sys.modules[name]
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            importlib.import_module("domainwatch.dns.dnssec")
        assert [] == [str(w.message) for w in seen]
    finally:
        sys.modules.update(saved)
