"""The studio's use cases: drafts of a process bundle edited on the server, their proof, four-eyes
review and deploy as one version. Every change is one transaction with its audit entry."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..cases.views import amounts_owed
from ..clock import Clock
from ..db.models import Draft
from ..db.unit_of_work import UnitOfWork
from ..definitions import repository as versions
from ..definitions.service import DefinitionService, DeployResult
from ..engine.bundle import MAX_FILES
from ..errors import Conflict, Forbidden, Invalid, NotFound
from . import repository
from .files import content_problems, media_type, name_problems
from .instructions import instructions_of, sample_case
from .proof import Proof, prove
from .views import audit_view, draft_view

STATUSES = ("editing", "in_review", "approved", "deployed", "discarded")
Renderer = Callable[[str, Mapping[str, Any]], str]
MAX_AUDIT = 1000
MAX_CACHED_PROOFS = 16


@dataclass
class Snapshot:
    """A draft as read for a proof: its files (shas and bytes) and the version in force."""

    draft: Draft
    shas: dict[str, str]
    files: dict[str, bytes]
    in_force: dict[str, bytes] | None
    in_force_version: int | None


class SimulationSubmitter(Protocol):
    """Queues a simulation whose candidate is a set of stored files (the simulator's service)."""

    def __call__(
        self,
        actor: str,
        params: Mapping[str, Any],
        baseline: Mapping[str, Any],
        candidate: Mapping[str, Any],
        also: Callable[[Session, dict[str, Any]], None],
    ) -> dict[str, Any]: ...


class StudioService:
    """Drafts, proof, four eyes, deploy and the definitions' audit history."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        definitions: DefinitionService,
        render: Renderer,
        simulate: SimulationSubmitter | None = None,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.definitions = definitions
        self.render = render
        self.simulate_with = simulate
        self._proofs: OrderedDict[str, Proof] = OrderedDict()  # by files digest: proofs are pure
        self._lock = threading.Lock()

    # -- helpers -------------------------------------------------------------------------------
    @staticmethod
    def _draft(session: Session, draft_id: str) -> Draft:
        draft = session.get(Draft, draft_id)
        if draft is None:
            raise NotFound(f"draft {draft_id} not found", code="unknown_draft")
        return draft

    @staticmethod
    def _own(draft: Draft, principal: Principal) -> None:
        if principal.actor != draft.owner:
            raise Forbidden(f"only the draft's owner ({draft.owner}) may do this", code="not_draft_owner")

    @staticmethod
    def _status(draft: Draft, *allowed: str) -> None:
        if draft.status not in allowed:
            raise Conflict(
                f"the draft is {draft.status}; this needs {' or '.join(allowed)}",
                code="draft_status",
                details={"status": draft.status, "allowed": list(allowed)},
            )

    @staticmethod
    def _base(session: Session, draft: Draft) -> dict[str, str]:
        if draft.base_version is None:
            return {}
        row = versions.get_version(session, draft.key, draft.base_version)
        return repository.version_file_shas(session, row.id) if row is not None else {}

    def _view(self, session: Session, draft: Draft, shas: Mapping[str, str] | None = None) -> dict[str, Any]:
        shas = repository.file_shas(session, draft.id) if shas is None else shas
        return draft_view(
            draft, shas, self._base(session, draft), repository.sizes(session, set(shas.values()))
        )

    def _record(
        self, session: Session, principal: Principal, draft: Draft, action: str, **detail: Any
    ) -> None:
        version = detail.pop("version", None)
        repository.record(
            session,
            key=draft.key,
            at=self.clock.now(),
            actor=principal.actor,
            action=action,
            draft_id=draft.id,
            version=version,
            detail=detail,
        )

    def _touch(self, draft: Draft) -> None:
        draft.updated_at = self.clock.now()

    # -- drafts --------------------------------------------------------------------------------
    def create(self, principal: Principal, key: str, base_version: int | None, title: str) -> dict[str, Any]:
        """A draft holding every file of `key`'s version `base_version` (latest if None)."""

        def work(session: Session) -> dict[str, Any]:
            row = (
                versions.get_version(session, key, base_version)
                if base_version is not None
                else versions.latest_version(session, key)
            )
            if row is None:
                which = f"version {base_version}" if base_version is not None else "any version"
                raise NotFound(f"{key} {which} is not deployed", code="unknown_version")
            now = self.clock.now()
            draft = Draft(
                id=str(uuid.uuid4()),
                key=key,
                base_version=row.version,
                owner=principal.actor,
                title=title,
                status="editing",
                created_at=now,
                updated_at=now,
            )
            session.add(draft)
            session.flush()
            shas = repository.version_file_shas(session, row.id)
            for name, sha in shas.items():
                repository.set_file(session, draft.id, name, sha)
            self._record(session, principal, draft, "draft_created", title=title, base_version=row.version)
            session.flush()
            return self._view(session, draft, shas)

        return self.uow.write(work)

    def drafts(
        self, principal: Principal, status: str | None, mine: bool, key: str | None
    ) -> list[dict[str, Any]]:
        def work(session: Session) -> list[dict[str, Any]]:
            drafts = repository.list_drafts(session, status, principal.actor if mine else None, key)
            shas = repository.files_by_draft(session, [d.id for d in drafts])
            return [self._view(session, d, shas[d.id]) for d in drafts]

        return self.uow.read(work)

    def get(self, draft_id: str) -> dict[str, Any]:
        return self.uow.read(lambda session: self._view(session, self._draft(session, draft_id)))

    def file(self, draft_id: str, name: str) -> tuple[bytes, str]:
        """A draft file's bytes and media type."""

        def work(session: Session) -> bytes:
            self._draft(session, draft_id)
            sha = repository.file_shas(session, draft_id).get(name)
            if sha is None:
                raise NotFound(f"the draft has no file {name!r}", code="unknown_file")
            return versions.stored_contents(session, {name: sha})[name]

        return self.uow.read(work), media_type(name)

    def put_file(self, principal: Principal, draft_id: str, name: str, content: bytes) -> dict[str, Any]:
        """Store one file of an editing draft (the owner's); it must parse as its type."""
        problems = name_problems(name) or content_problems(name, content)
        if problems:
            raise Invalid(f"the file {name!r} is refused", code="invalid_file", details=problems)

        def work(session: Session) -> dict[str, Any]:
            draft = self._draft(session, draft_id)
            self._own(draft, principal)
            self._status(draft, "editing")
            shas = repository.file_shas(session, draft.id)
            if name not in shas and len(shas) >= MAX_FILES:
                raise Invalid(f"a draft holds at most {MAX_FILES} files", code="invalid_file")
            sha = versions.store_file(session, content)
            if shas.get(name) != sha:
                repository.set_file(session, draft.id, name, sha)
                shas[name] = sha
                self._touch(draft)
                self._record(
                    session, principal, draft, "file_saved", file=name, sha256=sha, size=len(content)
                )
                session.flush()
            return self._view(session, draft, shas)

        return self.uow.write(work)

    def delete_file(self, principal: Principal, draft_id: str, name: str) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            draft = self._draft(session, draft_id)
            self._own(draft, principal)
            self._status(draft, "editing")
            if not repository.remove_file(session, draft.id, name):
                raise NotFound(f"the draft has no file {name!r}", code="unknown_file")
            self._touch(draft)
            self._record(session, principal, draft, "file_deleted", file=name)
            session.flush()
            return self._view(session, draft)

        return self.uow.write(work)

    def discard(self, principal: Principal, draft_id: str) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            draft = self._draft(session, draft_id)
            self._own(draft, principal)
            self._status(draft, "editing", "in_review", "approved")
            draft.status = "discarded"
            self._touch(draft)
            self._record(session, principal, draft, "draft_discarded")
            session.flush()
            return self._view(session, draft)

        return self.uow.write(work)

    # -- proof -----------------------------------------------------------------------------------
    def _files(self, draft_id: str) -> Snapshot:
        def work(session: Session) -> Snapshot:
            draft = self._draft(session, draft_id)
            shas = repository.file_shas(session, draft.id)
            latest = versions.latest_version(session, draft.key)
            in_force = versions.version_files(session, latest.id) if latest is not None else None
            session.expunge(draft)
            files = versions.stored_contents(session, shas)
            return Snapshot(draft, shas, files, in_force, latest.version if latest else None)

        return self.uow.read(work)

    def _prove(self, snap: Snapshot) -> Proof:
        key = f"{repository.files_digest(snap.shas)}:{snap.in_force_version}"
        with self._lock:
            cached = self._proofs.get(key)
        if cached is not None:
            return cached
        proof = prove(self.definitions, snap.files, snap.in_force, snap.in_force_version)
        with self._lock:
            self._proofs[key] = proof
            while len(self._proofs) > MAX_CACHED_PROOFS:
                self._proofs.popitem(last=False)
        return proof

    def proof(self, principal: Principal, draft_id: str) -> dict[str, Any]:
        """The dry run of the draft's files (validation, process tests, diff); recorded in the audit."""
        snap = self._files(draft_id)
        proof = self._prove(snap)

        def work(session: Session) -> None:
            row = self._draft(session, draft_id)
            self._record(
                session,
                principal,
                row,
                "proof_run",
                ok=proof.ok,
                sha256=repository.files_digest(snap.shas),
                problems=len(proof.problems),
                passed=proof.tests["passed"],
                failed=proof.tests["failed"],
            )

        self.uow.write(work)
        return proof.answer()

    def lint(self, draft_id: str, name: str, content: str) -> list[dict[str, Any]]:
        """The checks for one file's unsaved text against the rest of the draft; changes nothing."""
        raw = content.encode("utf-8")
        problems = name_problems(name) or content_problems(name, raw)
        if problems:
            return problems
        files = dict(self._files(draft_id).files)
        files[name] = raw
        if name.endswith((".bpmn", ".dmn", ".json")):
            try:
                bundle = self.definitions.validate(files)
            except Invalid as err:
                return [
                    {**p, "severity": "error"} for p in err.details or [] if p.get("file") in (name, None)
                ]
            return [{**w.to_dict(), "severity": "warning"} for w in bundle.warnings if w.file == name]
        return [
            {**p.to_dict(), "severity": "error"}
            for p in self.definitions.check_assets(files)
            if p.file == name
        ]

    def preview_instructions(self, draft_id: str, element_id: str, text: str | None) -> dict[str, Any]:
        """A user task's instructions (or `text`, unsaved) rendered against a sample case: the case
        variables a process test had at that task, else the draft's first test case's start."""
        snap = self._files(draft_id)
        source = text if text is not None else instructions_of(snap.files, element_id)
        if source is None:
            return {"text": None, "problems": [], "sample": None}
        proof = self._prove(snap)
        sample, where = sample_case(proof.samples, snap.files, element_id)
        try:  # what the task page adds for its instructions
            sample["amounts_owed"] = amounts_owed(sample, self.clock.now())
        except Exception:  # a sample without a loan's figures: the instructions may not need them
            sample["amounts_owed"] = None
        try:
            rendered: str | None = str(self.render(source, sample))
            problems: list[dict[str, Any]] = []
        except Exception as err:  # instructions are diagram data: the reason is the answer, not a 500
            rendered = None
            problems = [
                {
                    "file": None,
                    "line": None,
                    "element_id": element_id,
                    "message": f"cannot render: {err}",
                    "severity": "error",
                }
            ]
        return {"text": rendered, "problems": problems, "sample": where}

    # -- four eyes -------------------------------------------------------------------------------
    def submit(self, principal: Principal, draft_id: str) -> dict[str, Any]:
        """Owner: editing → in_review; the proof of the files as they are must be ok."""
        snap = self._files(draft_id)
        proof = self._prove(snap)
        if not proof.ok:
            errors = [p for p in proof.problems if p["severity"] == "error"]
            raise Invalid(f"the proof found {len(errors)} problem(s)", code="proof_failed", details=errors)
        digest = repository.files_digest(snap.shas)

        def work(session: Session) -> dict[str, Any]:
            draft = self._draft(session, draft_id)
            self._own(draft, principal)
            self._status(draft, "editing")
            now_shas = repository.file_shas(session, draft.id)
            if repository.files_digest(now_shas) != digest:
                raise Conflict("the draft changed while it was proved; submit again", code="draft_changed")
            draft.status, draft.submitted_at, draft.reviewer_note = "in_review", self.clock.now(), None
            self._touch(draft)
            self._record(session, principal, draft, "submitted", sha256=digest)
            session.flush()
            return self._view(session, draft, now_shas)

        return self.uow.write(work)

    def approve(self, principal: Principal, draft_id: str, note: str | None) -> dict[str, Any]:
        """A second compliance user (never the owner, admin included): in_review → approved."""

        def work(session: Session) -> dict[str, Any]:
            draft = self._draft(session, draft_id)
            if principal.actor == draft.owner:
                raise Forbidden("four eyes: the owner cannot approve their own draft", code="four_eyes")
            self._status(draft, "in_review")
            shas = repository.file_shas(session, draft.id)
            now = self.clock.now()
            draft.status, draft.approved_by, draft.approved_at = "approved", principal.actor, now
            draft.approved_sha256, draft.reviewer_note = repository.files_digest(shas), note
            self._touch(draft)
            self._record(session, principal, draft, "approved", sha256=draft.approved_sha256, note=note)
            session.flush()
            return self._view(session, draft, shas)

        return self.uow.write(work)

    def reject(self, principal: Principal, draft_id: str, note: str | None) -> dict[str, Any]:
        """in_review or approved → editing (a reviewer's rejection, or the owner taking it back)."""

        def work(session: Session) -> dict[str, Any]:
            draft = self._draft(session, draft_id)
            self._status(draft, "in_review", "approved")
            draft.status, draft.reviewer_note = "editing", note
            draft.approved_by = draft.approved_at = draft.approved_sha256 = None
            self._touch(draft)
            action = "withdrawn" if principal.actor == draft.owner else "rejected"
            self._record(session, principal, draft, action, note=note)
            session.flush()
            return self._view(session, draft)

        return self.uow.write(work)

    # -- deploy ----------------------------------------------------------------------------------
    def deploy(self, principal: Principal, draft_id: str) -> DeployResult:
        """Owner or approver: an approved, unchanged draft becomes a version that records its approval."""
        snap = self._files(draft_id)
        self._can_deploy(snap.draft, principal, snap.shas)

        def also(session: Session, result: DeployResult) -> None:
            row = self._draft(session, draft_id)
            self._can_deploy(row, principal, repository.file_shas(session, row.id))
            if not result.created:
                raise Conflict(
                    f"nothing to deploy: the files are version {result.version} of {result.key}",
                    code="nothing_to_deploy",
                )
            assert row.approved_by is not None and row.approved_at is not None and row.approved_sha256
            for key in result.changed:
                version = versions.get_version(session, key, result.versions[key])
                assert version is not None
                repository.approve_version(session, version.id, row)
            row.status, row.deployed_version = "deployed", result.versions.get(row.key, result.version)
            self._touch(row)
            self._record(
                session,
                principal,
                row,
                "deployed",
                version=row.deployed_version,
                versions=result.versions,
                approved_by=row.approved_by,
                sha256=row.approved_sha256,
            )

        return self.definitions.deploy(snap.files, principal.actor, also=also)

    def _can_deploy(self, draft: Draft, principal: Principal, shas: Mapping[str, str]) -> None:
        if principal.actor not in (draft.owner, draft.approved_by):
            raise Forbidden("only the draft's owner or its approver may deploy it", code="not_draft_owner")
        self._status(draft, "approved")
        if repository.files_digest(shas) != draft.approved_sha256:
            raise Conflict("the files changed since the approval", code="draft_changed")

    # -- simulation ------------------------------------------------------------------------------
    def simulate(self, principal: Principal, draft_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Queue a simulation: baseline the version in force, candidate the draft's files as they are."""
        if self.simulate_with is None:
            raise Conflict("simulations are not available here", code="simulation_unavailable")
        snap = self._files(draft_id)
        draft, version = snap.draft, snap.in_force_version
        if version is None:
            raise NotFound(f"no version of {draft.key} is deployed", code="unknown_version")
        candidate = {
            "source": "files",
            "key": draft.key,
            "label": f"draft {draft.id}",
            "files": dict(snap.shas),
        }

        def also(session: Session, answer: dict[str, Any]) -> None:
            row = self._draft(session, draft_id)
            self._record(
                session, principal, row, "simulation_requested", simulation_id=answer["simulation_id"]
            )

        return self.simulate_with(
            principal.actor,
            params,
            {"source": "deployed", "key": draft.key, "version": version},
            candidate,
            also,
        )

    # -- audit -----------------------------------------------------------------------------------
    def audit(self, key: str, draft_id: str | None, limit: int = MAX_AUDIT) -> list[dict[str, Any]]:
        return self.uow.read(
            lambda session: [audit_view(e) for e in repository.audit(session, key, draft_id, limit)]
        )
