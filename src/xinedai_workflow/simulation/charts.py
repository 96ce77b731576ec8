"""The charts of a simulation, as PNG and SVG: stage funnel, outcomes, contacts per borrower-day
against the cap, and work per day per group (completed and backlog)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

COLOURS = {"baseline": "#4c72b0", "candidate": "#dd8452"}
STAGE_ORDER = ("assessment", "informal", "formal", "litigation", "mediation", "review", "closed")
# no dates or tool versions in the files: the same summary gives the same SVG
SVG_META = {"Date": None, "Creator": None}
PNG_META = {"Software": None}


def _save(fig: Any, out: Path, name: str) -> list[Path]:
    fig.tight_layout()
    png, svg = out / f"{name}.png", out / f"{name}.svg"
    fig.savefig(png, dpi=110, metadata=PNG_META)
    plt.rcParams["svg.hashsalt"] = "xinedai-simulation"
    fig.savefig(svg, metadata=SVG_META)
    plt.close(fig)
    return [png, svg]


def _bars(ax: Any, labels: list[str], series: dict[str, list[float]]) -> None:
    width = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series.items()):
        xs = [x + (i - (len(series) - 1) / 2) * width for x in range(len(labels))]
        ax.bar(xs, values, width, label=name, color=COLOURS.get(name))
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.legend()


def write_charts(summary: dict[str, Any], out: Path) -> list[Path]:
    """Write the four charts into `out`; return the files written."""
    out.mkdir(parents=True, exist_ok=True)
    variants: dict[str, Any] = summary["variants"]
    written: list[Path] = []

    stages = [s for s in STAGE_ORDER if any(s in v["stage_entries"] for v in variants.values())]
    stages += sorted({s for v in variants.values() for s in v["stage_entries"]} - set(stages))
    fig, ax = plt.subplots(figsize=(8, 4.5))
    labels = ["cases", *stages]
    _bars(
        ax,
        labels,
        {n: [v["cases_total"], *(v["stage_entries"].get(s, 0) for s in stages)] for n, v in variants.items()},
    )
    ax.set_title("Funnel: cases entering each stage")
    ax.set_ylabel("cases")
    written += _save(fig, out, "funnel")

    outcomes = sorted({o for v in variants.values() for o in v["outcomes"]})
    fig, ax = plt.subplots(figsize=(8, 4.5))
    _bars(ax, outcomes, {n: [v["outcomes"].get(o, 0) for o in outcomes] for n, v in variants.items()})
    ax.set_title("Outcomes at the end of the simulated period")
    ax.set_ylabel("cases")
    written += _save(fig, out, "outcomes")

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, key, title in (
        (axes[0], "contacts_per_borrower_day", "Contacts per borrower-day"),
        (axes[1], "connected_calls_per_borrower_day", "Connected calls per borrower-day"),
    ):
        cap = next(iter(variants.values()))[key]["cap"]
        counts = sorted(
            {int(k) for v in variants.values() for k in v[key]["distribution"]} | ({cap} if cap else set())
        )
        _bars(
            ax,
            [str(c) for c in counts],
            {n: [v[key]["distribution"].get(str(c), 0) for c in counts] for n, v in variants.items()},
        )
        if cap is not None:
            ax.axvline(counts.index(cap) + 0.5, color="red", linestyle="--", label=f"cap {cap}")
            ax.legend()
        ax.set_title(title)
        ax.set_xlabel("per borrower and local day")
        ax.set_ylabel("borrower-days")
    written += _save(fig, out, "contacts")

    groups = sorted({g for v in variants.values() for g in v["workload"]})
    fig, axes = plt.subplots(len(groups) or 1, 1, figsize=(9, 2.6 * max(len(groups), 1)), squeeze=False)
    for ax, group in zip(axes[:, 0], groups, strict=False):
        for name, v in variants.items():
            day = v["workload"].get(group, {}).get("per_day", {})
            colour = COLOURS.get(name)
            ax.plot(day.get("completed", []), color=colour, label=f"{name} completed")
            ax.plot(day.get("backlog", []), color=colour, linestyle=":", label=f"{name} backlog")
        ax.set_title(f"{group}: tasks completed per day and open at end of day (replication 1)")
        ax.set_xlabel("simulated day")
        ax.legend(fontsize=7)
    written += _save(fig, out, "workload")
    return written
