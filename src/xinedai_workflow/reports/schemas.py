"""Answers of the report endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class KpiReport(BaseModel):
    """Rates are decimal strings in [0, 1] (null when nothing to divide by); money is decimal strings."""

    process_key: str
    from_: datetime = Field(alias="from", serialization_alias="from")
    to: datetime
    cases_opened: int
    cases_closed: int
    cure_rate: str | None = Field(description="Cases opened in the period that were cured / cases opened.")
    recovery_rate: str | None = Field(
        description="Collected on the period's cases / overdue at their opening."
    )
    amount_overdue_at_open: str
    amount_collected: str
    roll_rates: dict[str, str | None] = Field(
        description="Balance rolling from bucket k to k+1 over the period."
    )
    promise_kept_rate: str | None
    promises_kept: int
    promises_due: int
    right_party_contact_rate: str | None
    contact_attempts: int
    cases_per_stage: dict[str, int] = Field(description="Active and failed cases by current stage (now).")
    mean_time_in_stage_hours: dict[str, float]

    model_config = {"populate_by_name": True}


class VariantKpis(BaseModel):
    """One champion/challenger variant's cases opened in the period."""

    cases: int = Field(description="Sample size: cases of the variant opened in the period.")
    cured: int
    cure_rate: str | None
    recovery_rate: str | None
    amount_overdue_at_open: str
    amount_collected: str


class CureRateTest(BaseModel):
    """Two-proportion z-test (pooled, two-sided) of `challenger` against `champion`."""

    champion: str
    challenger: str
    difference: float = Field(description="challenger cure rate − champion cure rate")
    ci95: list[float] = Field(description="95% interval of the difference (unpooled normal)")
    z: float
    p_value: float


class KpiVariantReport(KpiReport):
    """`?by=variant`: the report above plus the same figures per strategy variant."""

    by: str
    variants: dict[str, VariantKpis] = Field(
        description="By the `variant` recorded on the case ('none' outside a split)."
    )
    cure_rate_tests: list[CureRateTest] = Field(
        description="Each other variant against the largest one (the champion)."
    )
