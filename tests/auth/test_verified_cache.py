"""The verified-token cache is a bounded LRU: a busy client's token stays, the coldest goes."""

from __future__ import annotations

from pathlib import Path

import pytest

from xinedai_workflow.auth import tokens
from xinedai_workflow.auth.tokens import TokenError, TokenVerifier, mint_token
from xinedai_workflow.settings import Settings


def test_the_cache_keeps_the_recently_used_tokens_within_its_bound(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", jwt_secret="s" * 40)
    monkeypatch.setattr(tokens, "VERIFIED_CACHE_SIZE", 2)
    verifier = TokenVerifier(settings)
    first, second, third = (mint_token(settings, f"u{i}", ["collector"], ["collectors"]) for i in range(3))
    assert verifier.verify(first).sub == "u0"
    assert verifier.verify(second).sub == "u1"
    assert verifier.verify(first).sub == "u0"  # used again: now the most recent
    assert verifier.verify(third).sub == "u2"
    assert list(verifier._verified) == [first, third]  # the coldest (second) went
    assert verifier.verify(second).sub == "u1"  # verified afresh, still valid
    with pytest.raises(TokenError):
        verifier.verify(first[:-3] + "abc")  # a cached token's tampered twin is checked in full
