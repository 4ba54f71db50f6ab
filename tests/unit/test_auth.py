"""The access decision: roles, missing and wrong tokens, and no tokens configured."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from domainwatch.config.schema import TokenConfig
from domainwatch.web.auth import Denied, authorize

VIEWER = TokenConfig(name="grafana", role="viewer", token=SecretStr("v" * 20))
ADMIN = TokenConfig(name="ops", role="admin", token=SecretStr("a" * 20))
TOKENS = [VIEWER, ADMIN]


@pytest.mark.parametrize(
    ("tokens", "header", "needed", "expected"),
    [
        ([], None, "viewer", None),
        ([], None, "admin", 403),
        ([], None, "open", None),
        (TOKENS, None, "open", None),
        (TOKENS, None, "viewer", 401),
        (TOKENS, "Bearer " + "x" * 20, "viewer", 401),
        (TOKENS, "Basic " + "v" * 20, "viewer", 401),
        (TOKENS, "Bearer", "viewer", 401),
        (TOKENS, "Bearer " + "v" * 20, "viewer", VIEWER),
        (TOKENS, "bearer " + "v" * 20, "viewer", VIEWER),
        (TOKENS, "Bearer " + "v" * 20, "admin", 403),
        (TOKENS, "Bearer " + "a" * 20, "admin", ADMIN),
        (TOKENS, "Bearer " + "a" * 19, "admin", 401),
    ],
)
def test_authorize(tokens: list[TokenConfig], header: str | None, needed: str, expected: object) -> None:
    """Each combination of configured tokens, presented header and needed role."""
    decision = authorize(tokens, header, needed)  # type: ignore[arg-type]
    if isinstance(expected, int):
        assert isinstance(decision, Denied)
        assert expected == decision.status
    else:
        assert expected == decision


def test_denials_never_echo_the_presented_token() -> None:
    """The message of a refusal names the token's name at most, never a secret."""
    decision = authorize(TOKENS, "Bearer " + "v" * 20, "admin")
    assert isinstance(decision, Denied)
    assert "v" * 20 not in decision.message
    assert "grafana" in decision.message
