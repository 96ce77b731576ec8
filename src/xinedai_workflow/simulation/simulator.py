"""A whole simulation: the baseline (and candidate) bundle, R replications each, pooled into the
summary; every run on its own scratch database under one temporary directory."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..definitions.service import read_bundle_dir
from ..engine import content_sha256
from .model import BehaviourModel
from .run import SchemaTemplate, ServiceFactory, VariantRun, scratch_dir
from .summary import differences, pool

Progress = Callable[[int, int, str], None]  # (days done, days in total, what is running)


@dataclass(frozen=True)
class Variant:
    """One bundle under test: its name in the summary and its files."""

    name: str
    directory: Path
    files: dict[str, bytes]

    @classmethod
    def from_files(cls, name: str, directory: Path, files: dict[str, bytes]) -> Variant:
        """A deployed version's files (`directory` only supplies the fallback contact policy)."""
        return cls(name, directory, dict(files))

    @classmethod
    def from_dir(cls, name: str, directory: Path) -> Variant:
        if not directory.is_dir():
            raise FileNotFoundError(f"bundle directory {directory} does not exist")
        return cls(name, directory, read_bundle_dir([directory]))

    @property
    def sha256(self) -> str:
        return content_sha256(self.files)


def simulate(
    variants: list[Variant],
    model: BehaviourModel,
    cases: int,
    days: int,
    seed: int,
    build: ServiceFactory,
    replications: int = 1,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    workdir: Path | None = None,
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """Run every variant `replications` times (replication r uses seed + r for both variants);
    return the summary and each variant's raw runs (for the charts)."""
    if not 1 <= len(variants) <= 2:
        raise ValueError("simulate one or two bundles")
    root = scratch_dir(workdir)
    total = days * replications * len(variants)
    done = 0
    runs: dict[str, list[dict[str, Any]]] = {v.name: [] for v in variants}
    try:
        template = SchemaTemplate(root)
        for r in range(replications):
            for variant in variants:
                label = f"{variant.name} replication {r + 1}/{replications}"
                base = done

                def on_day(day: int, base: int = base, label: str = label) -> None:
                    if progress is not None:
                        progress(base + day, total, label)

                run_dir = root / f"{variant.name}-{r}"
                run_dir.mkdir()
                runner = VariantRun(
                    variant.files,
                    variant.directory,
                    model,
                    cases,
                    days,
                    seed + r,
                    template,
                    run_dir,
                    build,
                    on_day,
                )
                runs[variant.name].append(runner.run(cancelled))
                shutil.rmtree(run_dir, ignore_errors=True)
                done += days
    finally:
        shutil.rmtree(root, ignore_errors=True)
    summary: dict[str, Any] = {
        "seed": seed,
        "cases": cases,
        "days": days,
        "replications": replications,
        "model": {"model_version": model.raw.get("model_version"), "start": model.start.isoformat()},
        "bundles": {v.name: {"sha256": v.sha256, "files": len(v.files)} for v in variants},
        "variants": {name: pool(found) for name, found in runs.items()},
    }
    if len(variants) == 2:
        summary["differences"] = differences(runs["baseline"], runs["candidate"])
    return summary, runs
