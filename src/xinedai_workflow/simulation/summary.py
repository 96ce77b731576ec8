"""Pooling replications into a variant's figures, the differences between variants with a 95%
interval, `summary.json` (byte-identical for the same inputs) and the side-by-side table."""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from .metrics import percentile

# two-sided 95% Student t quantiles by degrees of freedom (1.96 beyond 30)
T95 = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
    10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110,
    18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064, 25: 2.060,
    26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042,
}  # fmt: skip
COMPARED = (
    "cure_rate",
    "recovery_rate",
    "letters_per_case",
    "lawsuits_per_case",
    "plans_agreed_per_case",
    "contacts_per_borrower_day_mean",
    "mean_days_to_close",
    "policy_violations",
)
PLACES = 6


def _r(value: float | None) -> float | None:
    return None if value is None else round(float(value), PLACES)


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def _distribution(histogram: Counter[int]) -> dict[str, Any]:
    days = sum(histogram.values())
    total = sum(k * v for k, v in histogram.items())
    return {
        "borrower_days": days,
        "max": max((k for k, v in histogram.items() if v), default=0),
        "mean": _r(_share(total, days)),
        "distribution": {str(k): histogram[k] for k in sorted(histogram)},
    }


def _workload(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    groups = sorted({g for run in runs for g in run["workload"]})
    out: dict[str, Any] = {}
    for group in groups:
        done = [d for run in runs for d in run["workload"].get(group, {}).get("done", [])]
        backlog = [b for run in runs for b in run["workload"].get(group, {}).get("backlog", [])]
        first = runs[0]["workload"].get(group, {})
        out[group] = {
            "completed_per_day": {
                "mean": _r(statistics.fmean(done)) if done else 0.0,
                "peak": max(done, default=0),
            },
            "backlog": {
                "mean": _r(statistics.fmean(backlog)) if backlog else 0.0,
                "peak": max(backlog, default=0),
                "end": _end_backlog(runs, group),
            },
            "per_day": {"completed": list(first.get("done", [])), "backlog": list(first.get("backlog", []))},
        }
    return out


def _end_backlog(runs: Sequence[dict[str, Any]], group: str) -> float:
    ends = [(run["workload"].get(group, {}).get("backlog") or [0])[-1] for run in runs]
    return _r(statistics.fmean(ends)) or 0.0


def scalar_figures(run: dict[str, Any]) -> dict[str, float]:
    """The per-run numbers compared between variants."""
    cases = run["cases"]
    histogram = Counter({int(k): v for k, v in run["contacts_histogram"].items()})
    days = sum(histogram.values())
    durations = run["durations"]
    return {
        "cure_rate": _share(run["cured"], cases),
        "recovery_rate": float(_share(float(run["amount_recovered"]), float(run["amount_overdue"]))),
        "letters_per_case": _share(run["letters"], cases),
        "lawsuits_per_case": _share(run["lawsuits"], cases),
        "plans_agreed_per_case": _share(run["plans_agreed"], cases),
        "contacts_per_borrower_day_mean": _share(sum(k * v for k, v in histogram.items()), days),
        "mean_days_to_close": statistics.fmean(durations) if durations else 0.0,
        "policy_violations": float(run["violations_over_cap"] + run["violations_quiet_hours"]),
    }


def pool(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A variant's figures over its replications: counts summed, rates over the pooled cases."""
    cases = sum(r["cases"] for r in runs)
    outcomes: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    contacts: Counter[int] = Counter()
    calls: Counter[int] = Counter()
    for run in runs:
        outcomes.update(run["outcomes"])
        stages.update(run["stage_entries"])
        contacts.update({int(k): v for k, v in run["contacts_histogram"].items()})
        calls.update({int(k): v for k, v in run["calls_histogram"].items()})
    overdue = sum((Decimal(r["amount_overdue"]) for r in runs), Decimal(0))
    recovered = sum((Decimal(r["amount_recovered"]) for r in runs), Decimal(0))
    durations = [d for r in runs for d in r["durations"]]
    violations = sum(r["violations_over_cap"] + r["violations_quiet_hours"] for r in runs)
    return {
        "cases_total": cases,
        "cure_rate": _r(_share(sum(r["cured"] for r in runs), cases)),
        "recovery_rate": _r(float(recovered / overdue) if overdue else 0.0),
        "amount_overdue": f"{overdue:.2f}",
        "amount_recovered": f"{recovered:.2f}",
        "outcomes": {k: outcomes[k] for k in sorted(outcomes)},
        "stage_entries": {k: stages[k] for k in sorted(stages)},
        "contacts_per_borrower_day": {**_distribution(contacts), "cap": runs[0]["cap_contacts"]},
        "connected_calls_per_borrower_day": {**_distribution(calls), "cap": runs[0]["cap_connected_calls"]},
        "policy_violations": violations,
        "policy_violations_detail": {
            "over_daily_cap": sum(r["violations_over_cap"] for r in runs),
            "quiet_hours": sum(r["violations_quiet_hours"] for r in runs),
        },
        "guard_refusals": sum(r["guard_refusals"] for r in runs),
        "letters": sum(r["letters"] for r in runs),
        "messages_by_channel": dict(
            sorted(sum((Counter(r["messages_by_channel"]) for r in runs), Counter()).items())
        ),
        "lawsuits": sum(r["lawsuits"] for r in runs),
        "plans_agreed": sum(r["plans_agreed"] for r in runs),
        "plans_kept": sum(r["plans_kept"] for r in runs),
        "workload": _workload(runs),
        "closed_cases": len(durations),
        "mean_days_to_close": _r(statistics.fmean(durations)) if durations else None,
        "p90_days_to_close": _r(percentile(durations, 0.9)),
        "engine_steps": sum(r["engine_steps"] for r in runs),
        "per_replication": [{k: _r(v) for k, v in scalar_figures(r).items()} for r in runs],
    }


def differences(baseline: Sequence[dict[str, Any]], candidate: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Candidate − baseline per figure: the mean over replications (paired: replication r of both
    variants has the same seed and portfolio) with a 95% t-interval; with one replication, a
    normal-approximation interval for the two rates, none for the rest."""
    out: dict[str, Any] = {}
    pairs = list(zip(baseline, candidate, strict=True))
    for name in COMPARED:
        deltas = [scalar_figures(c)[name] - scalar_figures(b)[name] for b, c in pairs]
        mean = statistics.fmean(deltas)
        low = high = None
        method = "paired_t"
        if len(deltas) >= 2:
            half = T95.get(len(deltas) - 1, 1.96) * statistics.stdev(deltas) / math.sqrt(len(deltas))
            low, high = mean - half, mean + half
        elif name in ("cure_rate",):
            b, c = scalar_figures(baseline[0])[name], scalar_figures(candidate[0])[name]
            nb, nc = baseline[0]["cases"], candidate[0]["cases"]
            half = 1.96 * math.sqrt(b * (1 - b) / max(nb, 1) + c * (1 - c) / max(nc, 1))
            low, high, method = mean - half, mean + half, "two_proportion_normal"
        else:
            method = "none (needs --replications >= 2)"
        out[name] = {
            "difference": _r(mean),
            "ci95": [_r(low), _r(high)] if low is not None else None,
            "method": method,
        }
    return out


def summary_json(summary: dict[str, Any]) -> str:
    """The canonical text of summary.json (sorted keys, fixed rounding, trailing newline)."""
    return json.dumps(summary, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def table(summary: dict[str, Any]) -> str:
    """The side-by-side table printed by the command."""
    variants = summary["variants"]
    names = [n for n in ("baseline", "candidate") if n in variants]
    diffs = summary.get("differences") or {}
    rows: list[tuple[str, ...]] = []

    def fmt(value: Any) -> str:
        if value is None:
            return "–"
        if isinstance(value, float):
            return f"{value:.4f}"
        return str(value)

    def add(label: str, values: list[Any], diff_key: str | None = None) -> None:
        extra: tuple[str, ...] = ()
        if len(names) == 2:
            d = diffs.get(diff_key or "") if diff_key else None
            if d:
                ci = d["ci95"]
                extra = (f"{d['difference']:+.4f}" + (f" [{ci[0]:+.4f}, {ci[1]:+.4f}]" if ci else ""),)
            else:
                extra = ("",)
        rows.append((label, *(fmt(v) for v in values), *extra))

    v = [variants[n] for n in names]
    add("cure rate", [x["cure_rate"] for x in v], "cure_rate")
    add("recovery rate", [x["recovery_rate"] for x in v], "recovery_rate")
    add("amount recovered (CNY)", [x["amount_recovered"] for x in v])
    for outcome in sorted({k for x in v for k in x["outcomes"]}):
        add(f"outcome {outcome}", [x["outcomes"].get(outcome, 0) for x in v])
    for stage in sorted({k for x in v for k in x["stage_entries"]}):
        add(f"entered {stage}", [x["stage_entries"].get(stage, 0) for x in v])
    add("contacts/borrower-day max", [x["contacts_per_borrower_day"]["max"] for x in v])
    add(
        "contacts/borrower-day mean",
        [x["contacts_per_borrower_day"]["mean"] for x in v],
        "contacts_per_borrower_day_mean",
    )
    add("policy violations", [x["policy_violations"] for x in v], "policy_violations")
    add("calls refused by the guard", [x["guard_refusals"] for x in v])
    add("letters", [x["letters"] for x in v], "letters_per_case")
    add("lawsuits", [x["lawsuits"] for x in v], "lawsuits_per_case")
    add("plans agreed", [x["plans_agreed"] for x in v], "plans_agreed_per_case")
    add("plans kept", [x["plans_kept"] for x in v])
    for group in sorted({g for x in v for g in x["workload"]}):
        add(
            f"{group} tasks/day mean",
            [x["workload"].get(group, {}).get("completed_per_day", {}).get("mean") for x in v],
        )
        add(f"{group} backlog peak", [x["workload"].get(group, {}).get("backlog", {}).get("peak") for x in v])
    add("mean days to close", [x["mean_days_to_close"] for x in v], "mean_days_to_close")
    add("p90 days to close", [x["p90_days_to_close"] for x in v])
    header = ("figure", *names, *(("candidate − baseline [95% CI]",) if len(names) == 2 else ()))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
