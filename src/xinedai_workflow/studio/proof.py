"""A draft's proof: the deploy's validation and process tests as a dry run, the semantic diff
against the version in force, reshaped for drawing on the diagram (problems and coverage per
element, changed elements and DMN rows)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..definitions.diff import version_diff
from ..definitions.service import DefinitionService
from ..engine import ParsedBundle
from ..engine.process_tests import TestReport
from ..errors import Invalid
from .files import problem


@dataclass
class Proof:
    ok: bool
    problems: list[dict[str, Any]]
    tests: dict[str, Any]
    diff: dict[str, Any]
    # per process key and user task, variables a process test had there (the preview's sample case)
    samples: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def answer(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": self.problems, "tests": self.tests, "diff": self.diff}


def _tests(report: TestReport | None) -> dict[str, Any]:
    if report is None:
        return {"passed": 0, "failed": 0, "items": [], "coverage": {}}
    return {
        "passed": sum(r.passed for r in report.results),
        "failed": len(report.failures),
        "items": [
            {
                "name": r.test,
                "file": r.file,
                "process_key": r.process_key,
                "passed": r.passed,
                "message": r.message,
                "element_id": r.element_id,
            }
            for r in report.results
        ],
        "coverage": report.element_counts(),
    }


def studio_diff(against_version: int | None, raw: Mapping[str, Any]) -> dict[str, Any]:
    """`definitions.diff.version_diff`'s answer split into diagram elements, DMN rows and files."""
    elements: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for change in raw["elements"]:
        detail = change.get("changes")
        if change["file"].endswith(".dmn") and change["type"] == "rule":
            rows.append(
                {
                    "file": change["file"],
                    "decision_id": change.get("decision_id"),
                    "rule_id": change["element_id"],
                    "change": change["change"],
                    "detail": detail,
                }
            )
            continue
        elements.append(
            {
                "file": change["file"],
                "process": change.get("process") or change.get("decision_id"),
                "element_id": change["element_id"],
                "kind": change["type"],
                "change": change["change"],
                "detail": detail,
            }
        )
    files = [{"name": f["file"], "change": f["change"], "diff": f.get("diff")} for f in raw["files"]]
    return {"against_version": against_version, "elements": elements, "dmn_rows": rows, "files": files}


def prove(
    definitions: DefinitionService,
    files: Mapping[str, bytes],
    in_force: Mapping[str, bytes] | None,
    in_force_version: int | None,
) -> Proof:
    """Validate `files` and run their process tests as `POST /definitions?dry_run=true` does, and
    compare them with `in_force` (the files of the key's latest version)."""
    problems: list[dict[str, Any]] = []
    bundle: ParsedBundle | None = None
    try:
        bundle = definitions.validate(files)
    except Invalid as err:
        problems += [{**p, "severity": "error"} for p in err.details or []]
    report = None
    if bundle is not None:
        problems += [{**w.to_dict(), "severity": "warning"} for w in bundle.warnings]
        report = definitions.test_report(bundle, files)
    if report is not None:
        problems += [problem(p.file, p.message, p.line, p.element_id) for p in report.problems]
        problems += [
            problem(r.file, f"process test {r.test!r} failed: {r.message}", None, r.element_id)
            for r in report.failures
        ]
    ok = bundle is not None and not any(p["severity"] == "error" for p in problems)
    return Proof(
        ok=ok,
        problems=problems,
        tests=_tests(report),
        diff=studio_diff(in_force_version, version_diff(in_force, files)),
        samples=report.task_variables if report is not None else {},
    )
