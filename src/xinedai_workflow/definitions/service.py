"""Deploying bundles: validate everything, then store new versions of the keys that changed."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ..clock import Clock
from ..db.models import Deployment, ProcessVersion, ProcessVersionDiff, ProcessVersionFile
from ..db.unit_of_work import UnitOfWork
from ..engine import (
    BundleInvalid,
    ParsedBundle,
    Problem,
    ProcessDefinition,
    RuntimeContext,
    SpecChecker,
    content_sha256,
    parse_bundle,
)
from ..engine.bundle import AssetCheck
from ..engine.process_tests import TestReport, run_tests
from ..errors import Invalid, NotFound
from . import repository
from .diff import version_diff
from .registry import DefinitionRegistry


@dataclass
class DeployResult:
    """What a deploy did: the bundle's main key and, per key, the version in force."""

    key: str
    version: int
    versions: dict[str, int]
    sha256: str
    warnings: list[dict[str, object]] = field(default_factory=list)
    created: bool = False
    changed: list[str] = field(default_factory=list)  # the keys that got a new version
    dry_run: bool = False
    tests: dict[str, Any] | None = None
    diff: dict[str, Any] = field(default_factory=dict)


class DefinitionService:
    """Validates and stores bundles; every key is versioned on its own."""

    def __init__(
        self,
        uow: UnitOfWork,
        registry: DefinitionRegistry,
        checker: SpecChecker,
        clock: Clock,
        asset_checks: Sequence[AssetCheck] = (),
        test_context: RuntimeContext | None = None,
    ) -> None:
        self.test_context = test_context
        self.uow = uow
        self.clock = clock
        self.registry = registry
        self.checker = checker
        self.asset_checks = list(asset_checks)

    def validate(self, files: Mapping[str, bytes]) -> ParsedBundle:
        try:
            return parse_bundle(files, self.checker, self.asset_checks)
        except BundleInvalid as err:
            raise Invalid(
                f"the bundle is invalid ({len(err.problems)} problem(s))",
                code="invalid_definition",
                details=[p.to_dict() for p in err.problems],
            ) from err

    def check_assets(self, files: Mapping[str, bytes]) -> list[Problem]:
        """The bundle's asset checks alone (templates, contact policy): no diagram is parsed."""
        return [problem for check in self.asset_checks for problem in check(files)]

    def test_report(self, bundle: ParsedBundle, files: Mapping[str, bytes]) -> TestReport | None:
        """Run the bundle's process tests in memory and report, passed or not (None: no test context)."""
        if self.test_context is None:
            return None
        definitions = {
            key: ProcessDefinition(0, key, 0, p.spec, p.subprocess_specs, p.files)
            for key, p in bundle.processes.items()
        }
        by_file: dict[str, list[str]] = {}
        for key, name in bundle.process_files.items():
            by_file.setdefault(name, []).append(key)
        return run_tests(definitions, files, by_file, self.test_context)

    def run_tests(self, bundle: ParsedBundle, files: Mapping[str, bytes]) -> TestReport | None:
        """Run the bundle's process tests in memory; a failing test refuses the deploy (422)."""
        report = self.test_report(bundle, files)
        if report is None:
            return None
        if report.problems:
            raise Invalid(
                f"the bundle is invalid ({len(report.problems)} problem(s))",
                code="invalid_definition",
                details=[p.to_dict() for p in report.problems],
            )
        if report.failures:
            raise Invalid(
                f"{len(report.failures)} of {len(report.results)} process test(s) failed",
                code="process_test_failed",
                details=[
                    {
                        "file": r.file,
                        "line": None,
                        "element_id": r.element_id,
                        "test": r.test,
                        "process_key": r.process_key,
                        "message": r.message,
                    }
                    for r in report.failures
                ],
            )
        return report

    def deploy(
        self,
        files: Mapping[str, bytes],
        actor: str,
        dry_run: bool = False,
        also: Callable[[Session, DeployResult], None] | None = None,
    ) -> DeployResult:
        """Validate `files` and run their tests; store a new version for each key whose content
        changed (one transaction, in which `also` runs after the versions are stored)."""
        bundle = self.validate(files)
        report = self.run_tests(bundle, files)

        def work(session: Session) -> DeployResult:
            stored = self._store(session, bundle, files, actor, dry_run)
            if also is not None:
                also(session, stored)
            return stored

        result = self.uow.write(work)
        result.tests = report.summary() if report is not None else None
        return result

    def diffs_against_latest(self, bundle: ParsedBundle) -> dict[str, dict[str, Any]]:
        """Per process key of `bundle`, what it changes against the key's latest version."""
        return self.uow.read(lambda session: self._diffs(session, bundle))

    @staticmethod
    def _diffs(session: Session, bundle: ParsedBundle) -> dict[str, dict[str, Any]]:
        diffs: dict[str, dict[str, Any]] = {}
        for key, process in bundle.processes.items():
            latest = repository.latest_version(session, key)
            previous = repository.version_files(session, latest.id) if latest is not None else None
            diffs[key] = {
                "against_version": latest.version if latest is not None else None,
                **version_diff(previous, process.files),
            }
        return diffs

    def _store(
        self, session: Session, bundle: ParsedBundle, files: Mapping[str, bytes], actor: str, dry_run: bool
    ) -> DeployResult:
        now = self.clock.now()
        warnings = [w.to_dict() for w in bundle.warnings]
        versions: dict[str, int] = {}
        changed: list[str] = []
        for key, process in bundle.processes.items():
            latest = repository.latest_version(session, key)
            if latest is not None and latest.sha256 == process.sha256:
                versions[key] = latest.version
            else:
                versions[key] = (latest.version + 1) if latest is not None else 1
                changed.append(key)
        diffs = self._diffs(session, bundle)
        main = bundle.processes[bundle.main_key]
        result = DeployResult(
            key=bundle.main_key,
            version=versions[bundle.main_key],
            versions=versions,
            sha256=main.sha256,
            warnings=warnings,
            created=bool(changed),
            changed=changed,
            dry_run=dry_run,
            diff=diffs,
        )
        if dry_run or not changed:
            return result
        deployment = Deployment(
            sha256=content_sha256(files),
            main_key=bundle.main_key,
            deployed_at=now,
            deployed_by=actor,
            warnings=warnings,
        )
        session.add(deployment)
        session.flush()
        for key in changed:
            process = bundle.processes[key]
            row = ProcessVersion(
                key=key,
                version=versions[key],
                name=process.name[:500],
                sha256=process.sha256,
                deployment_id=deployment.id,
                deployed_at=now,
                deployed_by=actor,
            )
            session.add(row)
            session.flush()
            session.add(
                ProcessVersionDiff(
                    process_version_id=row.id,
                    against_version=diffs[key]["against_version"],
                    diff={k: v for k, v in diffs[key].items() if k != "against_version"},
                )
            )
            for name, content in process.files.items():
                digest = repository.store_file(session, content)
                session.add(ProcessVersionFile(process_version_id=row.id, name=name, sha256=digest))
        session.flush()
        return result

    def list_with_approvals(self, all_versions: bool = False) -> list[tuple[ProcessVersion, str | None]]:
        """As `list`, each version with who approved it (four eyes), None when deployed directly."""

        def work(session: Session) -> list[tuple[ProcessVersion, str | None]]:
            rows = repository.list_versions(session, all_versions)
            approvers = repository.approvers(session, [r.id for r in rows])
            return [(r, approvers.get(r.id)) for r in rows]

        return self.uow.read(work)

    def list(self, all_versions: bool = False) -> list[ProcessVersion]:
        """The latest version of each key (or every version)."""
        return self.uow.read(lambda session: repository.list_versions(session, all_versions))

    def diff(self, key: str, version: int) -> dict[str, Any]:
        """What version `version` of `key` changed against the version before it."""
        return self.uow.read(lambda session: self._diff(session, key, version))

    @staticmethod
    def _diff(session: Session, key: str, version: int) -> dict[str, Any]:
        row = repository.get_version(session, key, version)
        if row is None:
            raise NotFound(f"{key} version {version} is not deployed")
        stored = session.get(ProcessVersionDiff, row.id)
        if stored is None:  # deployed before diffs were kept: compute it now
            before = repository.get_version(session, key, version - 1) if version > 1 else None
            previous = repository.version_files(session, before.id) if before is not None else None
            body = version_diff(previous, repository.version_files(session, row.id))
            against = before.version if before is not None else None
        else:
            body, against = stored.diff, stored.against_version
        return {"key": key, "version": version, "against_version": against, **body}

    def file(self, key: str, version: int, name: str) -> bytes:
        """A deployed file, byte-identical."""
        return self.uow.read(lambda session: self._file(session, key, version, name))

    @staticmethod
    def _file(session: Session, key: str, version: int, name: str) -> bytes:
        row = repository.get_version(session, key, version)
        if row is None:
            raise NotFound(f"{key} version {version} is not deployed")
        files = repository.version_files(session, row.id)
        if name not in files:
            raise NotFound(f"{key} version {version} has no file {name!r}")
        return files[name]


# folders of a bundle directory that are not part of the process (the simulator's model files)
NOT_DEPLOYED = frozenset({"simulation"})


def read_bundle_dir(paths: Sequence[Path]) -> dict[str, bytes]:
    """Files of a deploy from directories (relative names) and single files (base names); hidden
    files and the top-level folders in `NOT_DEPLOYED` are skipped."""
    files: dict[str, bytes] = {}
    for path in paths:
        if path.is_dir():
            for item in sorted(path.rglob("*")):
                parts = item.relative_to(path).parts
                if parts[0] in NOT_DEPLOYED and len(parts) > 1:
                    continue
                if item.is_file() and not any(part.startswith(".") for part in parts):
                    files[item.relative_to(path).as_posix()] = item.read_bytes()
        elif path.is_file():
            files[path.name] = path.read_bytes()
        else:
            raise FileNotFoundError(str(path))
    return files
