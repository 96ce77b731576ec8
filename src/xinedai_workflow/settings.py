"""Service configuration, read from the environment (prefix ``XINEDAI_``) and an optional ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .domain.strategy import parse_split


class Settings(BaseSettings):
    """All settings of the service. Every command (serve, worker, migrate, deploy, token) reads these."""

    model_config = SettingsConfigDict(env_prefix="XINEDAI_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./var/xinedai.db",
        description="SQLAlchemy URL: a SQLite file by default; postgresql+psycopg://... in production.",
    )
    database_pool_size: int = Field(default=10, ge=1, le=200)
    processes_dir: Path = Field(
        default=Path("processes"), description="Diagrams deployed by `serve` at start."
    )
    default_process_key: str = Field(
        default="xinedai_overdue", description="Process started by overdue events."
    )
    strategy_split: str | None = Field(
        default=None,
        description="Champion/challenger: shares of new loans per version of the default process, "
        "e.g. '3:80,4:20' (stable by loan id; recorded on the case as variant 'v3'/'v4').",
    )
    default_candidate_group: str = Field(
        default="collectors", description="Group a user task outside any lane is offered to."
    )

    jwt_secret: str = Field(default="change-me-in-production-please-32-bytes!", min_length=16)
    jwt_algorithm: str = Field(default="HS256", description="HS256 (shared secret) or RS256 (public key).")
    jwt_public_key_file: Path | None = Field(
        default=None, description="PEM public key or JWKS file for RS256."
    )
    jwt_issuer: str = Field(default="xinedai-workflow")
    jwt_audience: str = Field(default="xinedai-workflow")
    jwt_default_ttl_seconds: int = Field(default=8 * 3600, ge=1)
    jwt_max_ttl_seconds: int = Field(
        default=12 * 3600, ge=60, description="Tokens whose exp - iat (or exp - now) is longer are refused."
    )

    script_time_limit_seconds: float = Field(default=1.0, gt=0, le=60)
    engine_debug_logging: bool = Field(
        default=False,
        description="SpiffWorkflow's per-task log lines with task data (built on every state change).",
    )
    step_isolation: bool = Field(
        default=True, description="Run engine steps in supervised step processes (the hard limits)."
    )
    step_time_limit_seconds: float = Field(
        default=10.0, gt=0, le=600, description="Wall-clock limit of one engine step (then it is killed)."
    )
    step_memory_limit_mb: int = Field(
        default=1024, ge=256, le=65536, description="Address-space cap (RLIMIT_AS) of a step process."
    )
    step_processes: int = Field(default=4, ge=1, le=64, description="Step processes per service process.")
    template_time_limit_seconds: float = Field(default=1.0, gt=0, le=60)
    template_max_chars: int = Field(default=100_000, ge=1000, le=10_000_000)

    worker_enabled: bool = Field(default=True, description="Run the worker inside `serve`.")
    worker_poll_seconds: float = Field(default=0.5, gt=0, le=60)
    worker_batch_size: int = Field(default=100, ge=1, le=10_000)
    worker_lease_seconds: int = Field(default=60, ge=5)

    max_body_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1024, description="Larger request bodies get 413."
    )
    body_read_timeout_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="Time a client has to send its request body (then 408)."
    )
    header_read_timeout_seconds: float = Field(
        default=10.0, gt=0, le=600, description="Time a client has to send its request line and headers."
    )
    max_header_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)
    max_json_depth: int = Field(default=32, ge=4, le=1000)
    batch_max_events: int = Field(default=10_000, ge=1)
    message_buffer_ttl_seconds: int = Field(
        default=7 * 24 * 3600,
        ge=0,
        description="How long a payment/update no wait state caught stays buffered.",
    )

    outbox_sink_dir: Path = Field(
        default=Path("var/outbox"), description="Where the local channel sink writes."
    )
    channel_gateway_url: str | None = Field(default=None, description="HTTP gateway for SMS/e-mail/mail.")
    anchor_dir: Path = Field(
        default=Path("var/anchors"), description="Write-once sink of the signed history anchors."
    )
    anchor_key_file: Path = Field(
        default=Path("var/anchor-signing-key.pem"),
        description="Ed25519 private key (PEM) signing the anchors; generated if missing.",
    )
    anchor_interval_seconds: int = Field(
        default=3600, ge=10, description="How often a worker exports anchors."
    )
    retention_purge_interval_seconds: int = Field(
        default=3600,
        ge=1,
        description="How often a worker purges contact records past the policy's retention period.",
    )
    bureau_export_dir: Path = Field(
        default=Path("var/bureau"),
        description="Where the credit-bureau export adapter writes its daily files.",
    )
    bureau_export_format: Literal["jsonl", "csv"] = Field(
        default="jsonl", description="Layout of the daily credit-bureau file (JSON Lines or CSV)."
    )
    housekeeping_interval_seconds: int = Field(
        default=60,
        ge=1,
        description="How often a worker runs the agency recalls and the credit-bureau reports.",
    )

    @field_validator("strategy_split")
    @classmethod
    def _valid_split(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            parse_split(value)  # ValueError → a clear settings error at start-up
            return value
        return None

    # the workbench (web/): local sign-in file, session lifetime, and the bank IdP (OIDC) when set
    web_users_file: Path = Field(
        default=Path("var/users.yaml"), description="Local sign-in users (`xinedai-workflow user add`)."
    )
    web_session_ttl_seconds: int = Field(default=8 * 3600, ge=60, description="Lifetime of a sign-in.")
    oidc_issuer: str | None = Field(default=None, description="OIDC issuer URL; enables IdP sign-in.")
    oidc_client_id: str | None = Field(default=None)
    oidc_client_secret: str | None = Field(default=None, description="Omit for a public client (PKCE only).")
    oidc_redirect_url: str | None = Field(
        default=None,
        description="Callback URL registered at the IdP (default: <request base>/oidc/callback).",
    )
    oidc_scopes: str = Field(default="openid profile")
    oidc_roles_claim: str = Field(default="roles", description="ID-token claim holding the roles.")
    oidc_groups_claim: str = Field(default="groups", description="ID-token claim holding the groups.")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own `Settings`)."""
    return Settings()
