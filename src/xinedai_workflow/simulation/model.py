"""The behaviour model of a simulation: a YAML file validated against `model_schema.json`.

It says who the borrowers are (portfolio mix), how they behave (answering by local hour,
promising, keeping promises, paying, hardship, disputes, answering letters) and how much work
each staff group does per day. `processes/simulation/default_model.yaml` documents every key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

SCHEMA_FILE = Path(__file__).with_name("model_schema.json")
DEFAULT_START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Shanghai
DEFAULT_ROLES = {
    "collectors": "collector",
    "legal": "legal",
    "mediation": "mediator",
    "supervisors": "supervisor",
}
DEFAULT_METRICS: dict[str, list[str]] = {
    "cured_outcomes": ["cured"],
    "paid_outcomes": ["cured", "settled"],
    "letter_operations": ["send_registered_mail"],
    "lawsuit_tasks": ["file_lawsuit"],
    "plan_tasks": ["agree_plan"],
    "plan_missed_tasks": ["plan_followup"],
}


class ModelInvalid(ValueError):
    """The model file is not valid; `problems` lists each finding (path and message)."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{p['path']}: {p['message']}" for p in problems))
        self.problems = problems


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class BehaviourModel:
    """A validated model (the raw mapping plus typed accessors the simulator uses)."""

    raw: dict[str, Any]

    @property
    def portfolio(self) -> dict[str, Any]:
        return dict(self.raw["portfolio"])

    @property
    def borrower(self) -> dict[str, Any]:
        return dict(self.raw["borrower"])

    @property
    def staff(self) -> dict[str, Any]:
        return dict(self.raw["staff"])

    @property
    def tasks(self) -> dict[str, Any]:
        return dict(self.raw.get("tasks") or {})

    @property
    def metrics(self) -> dict[str, list[str]]:
        return {**DEFAULT_METRICS, **(self.raw.get("metrics") or {})}

    @property
    def start(self) -> datetime:
        text = self.raw.get("start")
        return datetime.fromisoformat(text).astimezone(UTC) if text else DEFAULT_START

    def p(self, name: str, default: float = 0.0) -> float:
        return float(self.borrower.get(name, default))

    def answer_probability(self, local_hour: int) -> float:
        table = self.borrower["answer_by_local_hour"]
        return float(table.get(str(local_hour), table["default"]))

    def role_of(self, lane: str) -> str:
        roles = {**DEFAULT_ROLES, **(self.staff.get("roles") or {})}
        return roles.get(lane, "collector")

    def canonical(self) -> str:
        """Sorted JSON of the model (what a run's inputs hash covers)."""
        return json.dumps(self.raw, sort_keys=True, ensure_ascii=False, default=str)


def parse_model(raw: Any) -> BehaviourModel:
    """Validate a mapping (already parsed YAML/JSON) as a model, or raise `ModelInvalid`."""
    problems = [
        {"path": "/" + "/".join(str(p) for p in err.absolute_path), "message": err.message}
        for err in sorted(_validator().iter_errors(raw), key=lambda e: list(map(str, e.absolute_path)))
    ]
    if not problems:
        problems = _semantic_problems(raw)
    if problems:
        raise ModelInvalid(problems)
    return BehaviourModel(raw)


def _semantic_problems(raw: dict[str, Any]) -> list[dict[str, str]]:
    """What JSON Schema cannot say: ranges in order, probabilities of one call summing to ≤ 1."""
    problems: list[dict[str, str]] = []

    def check_range(path: str, value: Any) -> None:
        if isinstance(value, list) and len(value) == 2 and value[0] > value[1]:
            problems.append({"path": path, "message": f"range {value} is not ascending"})

    portfolio, borrower, staff = raw["portfolio"], raw["borrower"], raw["staff"]
    for i, bucket in enumerate(portfolio["dpd"]):
        check_range(f"/portfolio/dpd/{i}/range", bucket["range"])
    for key in ("overdue_principal", "principal_multiple"):
        check_range(f"/portfolio/{key}", portfolio.get(key))
    for key in ("promise_days", "part_share", "income", "payment_hours"):
        check_range(f"/borrower/{key}", borrower.get(key))
    check_range("/borrower/letter_response/days", (borrower.get("letter_response") or {}).get("days"))
    check_range("/staff/working_hours", staff.get("working_hours"))
    answered = sum(float(borrower.get(k, 0)) for k in ("wrong_party", "dispute", "hardship", "promise"))
    if answered > 1:
        problems.append(
            {
                "path": "/borrower",
                "message": f"wrong_party + dispute + hardship + promise = {answered:g} > 1",
            }
        )
    hours = staff.get("working_hours", [9, 18])
    if hours[1] > 24 or hours[0] == hours[1]:
        problems.append({"path": "/staff/working_hours", "message": "must be [start, end) within 0..24"})
    return problems


def load_model(path: Path) -> BehaviourModel:
    """Read and validate a YAML model file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ModelInvalid([{"path": "/", "message": f"{path}: not valid YAML: {err}"}]) from err
    return parse_model(raw)


def dump_model(model: BehaviourModel) -> str:
    """The model as YAML (keys in file order)."""
    return yaml.safe_dump(model.raw, sort_keys=False, allow_unicode=True)
