"""Tokens: HS256 (embedded default), RS256 with a PEM public key and with a JWKS file, the CLI."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tests.conftest import TEST_SECRET
from xinedai_workflow import cli
from xinedai_workflow.app import create_app
from xinedai_workflow.auth import tokens
from xinedai_workflow.auth.tokens import TokenError, TokenVerifier, mint_token
from xinedai_workflow.bootstrap import build_services
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.settings import Settings

HS = Settings(database_url="sqlite:///:memory:", jwt_secret=TEST_SECRET)


def _rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _jwk(key: rsa.RSAPrivateKey, kid: str, **extra: Any) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256", **extra}


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": "alice",
        "roles": ["collector"],
        "groups": ["collectors"],
        "iss": "xinedai-workflow",
        "aud": "xinedai-workflow",
        "iat": now,
        "exp": now + 300,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _rs256(settings_dir: Path, key_text: str) -> Settings:
    path = settings_dir / "idp-keys"
    path.write_text(key_text)
    return Settings(database_url="sqlite:///:memory:", jwt_algorithm="RS256", jwt_public_key_file=path)


def test_hs256_round_trip_and_the_checks() -> None:
    verifier = TokenVerifier(HS)
    principal = verifier.verify(mint_token(HS, "alice", ["collector", "supervisor"], ["collectors"]))
    assert principal.sub == "alice"
    assert principal.roles == {"collector", "supervisor"} and principal.groups == {"collectors"}
    bad = {
        "signature": jwt.encode(_claims(), "x" * 40, algorithm="HS256"),
        "expired": jwt.encode(_claims(exp=int(time.time()) - 60), TEST_SECRET, algorithm="HS256"),
        "issuer": jwt.encode(_claims(iss="evil"), TEST_SECRET, algorithm="HS256"),
        "audience": jwt.encode(_claims(aud="other"), TEST_SECRET, algorithm="HS256"),
        "no exp": jwt.encode(_claims(exp=None), TEST_SECRET, algorithm="HS256"),
        "no sub": jwt.encode(_claims(sub=None), TEST_SECRET, algorithm="HS256"),
        "roles not a list": jwt.encode(_claims(roles="admin"), TEST_SECRET, algorithm="HS256"),
        "groups not strings": jwt.encode(_claims(groups=[1]), TEST_SECRET, algorithm="HS256"),
        "not yet valid": jwt.encode(_claims(nbf=int(time.time()) + 600), TEST_SECRET, algorithm="HS256"),
        "alg none": jwt.encode(_claims(), None, algorithm="none"),
        "garbage": "a.b.c",
    }
    for reason, token in bad.items():
        with pytest.raises(TokenError):
            verifier.verify(token)
            pytest.fail(reason)
    unknown_roles = verifier.verify(
        jwt.encode(_claims(roles=["collector", "god"]), TEST_SECRET, algorithm="HS256")
    )
    assert unknown_roles.roles == {"collector"}


def test_minting_refuses_unknown_roles_and_an_idp_setup(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown role"):
        mint_token(HS, "alice", ["wizard"])
    with pytest.raises(ValueError, match="ttl"):
        mint_token(HS, "alice", ["collector"], ttl_seconds=0)
    with pytest.raises(ValueError, match="identity provider"):
        mint_token(_rs256(tmp_path, _pem(_rsa())), "alice", ["collector"])


def test_rs256_with_a_pem_public_key(tmp_path: Path) -> None:
    key, other = _rsa(), _rsa()
    settings = _rs256(tmp_path, _pem(key))
    verifier = TokenVerifier(settings)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert verifier.verify(jwt.encode(_claims(), private, algorithm="RS256")).sub == "alice"
    assert (
        verifier.verify(jwt.encode(_claims(), private, algorithm="RS256", headers={"kid": "any"})).sub
        == "alice"
    )
    with pytest.raises(TokenError):
        verifier.verify(jwt.encode(_claims(), other, algorithm="RS256"))
    with pytest.raises(TokenError):  # HS256 "signed" with the public key: algorithm confusion
        verifier.verify(jwt.encode(_claims(), "k" * 64, algorithm="HS256"))
    with pytest.raises(TokenError):
        verifier.verify(jwt.encode(_claims(exp=int(time.time()) - 60), key, algorithm="RS256"))


def test_rs256_with_a_jwks_file_and_key_rotation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second, third = _rsa(), _rsa(), _rsa()
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_jwk = json.loads(ECAlgorithm.to_jwk(ec_key.public_key()))
    jwks = {
        "keys": [
            _jwk(first, "k1"),
            _jwk(second, "k2"),
            _jwk(third, "enc", use="enc"),  # an encryption key is not a signing key
            {**ec_jwk, "kid": "ec"},
        ]
    }
    settings = _rs256(tmp_path, json.dumps(jwks))
    verifier = TokenVerifier(settings)
    assert (
        verifier.verify(jwt.encode(_claims(), first, algorithm="RS256", headers={"kid": "k1"})).sub == "alice"
    )
    assert (
        verifier.verify(jwt.encode(_claims(), second, algorithm="RS256", headers={"kid": "k2"})).sub
        == "alice"
    )
    for kid, key in (("k1", second), ("enc", third), ("nope", first), (None, first)):
        headers = {"kid": kid} if kid else None
        with pytest.raises(TokenError):
            verifier.verify(jwt.encode(_claims(), key, algorithm="RS256", headers=headers))

    monkeypatch.setattr(tokens, "_MIN_RELOAD_INTERVAL_SECONDS", 0.0)
    settings.jwt_public_key_file.write_text(json.dumps({"keys": [_jwk(third, "k3")]}))  # type: ignore[union-attr]
    os.utime(settings.jwt_public_key_file, (time.time() + 5, time.time() + 5))  # type: ignore[arg-type]
    rotated = jwt.encode(_claims(), third, algorithm="RS256", headers={"kid": "k3"})
    assert verifier.verify(rotated).sub == "alice"
    with pytest.raises(TokenError):  # the retired key no longer signs
        verifier.verify(jwt.encode(_claims(), first, algorithm="RS256", headers={"kid": "k1"}))


def test_bad_key_files_are_refused_at_start(tmp_path: Path) -> None:
    for text in ("{not json", json.dumps({"keys": []}), "just some text", json.dumps({"nokeys": 1})):
        with pytest.raises(ValueError):
            TokenVerifier(_rs256(tmp_path, text))
    with pytest.raises(ValueError, match="needs"):
        TokenVerifier(Settings(database_url="sqlite:///:memory:", jwt_algorithm="RS256"))
    with pytest.raises(ValueError, match="unsupported"):
        TokenVerifier(Settings(database_url="sqlite:///:memory:", jwt_algorithm="ES512"))


def test_the_api_accepts_the_bank_idps_tokens(tmp_path: Path, database_url: str) -> None:
    key = _rsa()
    jwks_path = tmp_path / "jwks.json"
    jwks_path.write_text(json.dumps({"keys": [_jwk(key, "bank-idp-1")]}))
    settings = Settings(
        database_url=database_url,
        jwt_algorithm="RS256",
        jwt_public_key_file=jwks_path,
        jwt_issuer="https://idp.bank.example",
        jwt_audience="xinedai",
        worker_enabled=False,
    )
    services = build_services(settings, ManualClock())
    good = jwt.encode(
        _claims(roles=["auditor"], iss="https://idp.bank.example", aud="xinedai"),
        key,
        algorithm="RS256",
        headers={"kid": "bank-idp-1"},
    )
    embedded_default = mint_token(HS, "mallory", ["admin"])
    with TestClient(create_app(services=services, run_worker=False)) as http:
        assert http.get("/api/v1/cases", headers={"Authorization": f"Bearer {good}"}).status_code == 200
        assert (
            http.get("/api/v1/cases", headers={"Authorization": f"Bearer {embedded_default}"}).status_code
            == 401
        )
    services.db.dispose()


def test_the_token_command_prints_only_a_valid_token(capsys: pytest.CaptureFixture[str]) -> None:
    args = cli.build_parser().parse_args(
        ["token", "--sub", "alice", "--role", "collector", "--group", "collectors", "--group", "legal"]
    )
    assert args.func(HS, args) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    principal = TokenVerifier(HS).verify(out.strip())
    assert principal.sub == "alice" and principal.groups == {"collectors", "legal"}
    short = cli.build_parser().parse_args(["token", "--sub", "bob", "--role", "system", "--ttl", "60"])
    short.func(HS, short)
    claims = jwt.decode(capsys.readouterr().out.strip(), options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 60


def test_the_token_command_explains_why_it_cannot_mint_for_an_idp(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = cli.build_parser().parse_args(["token", "--sub", "alice", "--role", "collector"])
    assert args.func(_rs256(tmp_path, _pem(_rsa())), args) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "identity provider" in captured.err


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(database_url="sqlite:///:memory:", jwt_secret=TEST_SECRET)
    verifier = TokenVerifier(settings)
    token = mint_token(settings, "alice", ["collector"], ["collectors"], ttl_seconds=60)
    assert verifier.verify(token).sub == "alice"
    assert verifier.verify(token).sub == "alice"  # answered from the cache
    checked: list[str] = []

    def full_check(token: str) -> Any:
        checked.append(token)
        raise TokenError("Signature has expired")

    monkeypatch.setattr(verifier, "_verify", full_check)
    assert verifier.verify(token).sub == "alice"  # still inside its lifetime: no new check
    later = time.time() + 60 + tokens.LEEWAY_SECONDS + 1
    monkeypatch.setattr(tokens.time, "time", lambda: later)
    with pytest.raises(TokenError):  # past its lifetime the cache no longer answers
        verifier.verify(token)
    assert checked == [token]
