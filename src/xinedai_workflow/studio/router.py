"""/api/v1/drafts (the compliance studio) and /api/v1/definitions/{key}/audit."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from ..api.deps import DefinitionReader, Deployer, provided
from ..api.errors import ERROR_RESPONSES
from ..definitions.schemas import DeployAnswer
from ..engine.xmlsafe import MAX_XML_BYTES
from ..errors import Invalid
from .files import problem
from .schemas import (
    AuditList,
    DraftList,
    DraftStatus,
    DraftView,
    LintAnswer,
    LintRequest,
    NewDraft,
    Note,
    PreviewAnswer,
    ProofAnswer,
    SimulateRequest,
)
from .service import StudioService

StudioDep = Annotated[StudioService, Depends(provided(StudioService))]
DraftId = Annotated[uuid.UUID, Path(description="The draft's id.")]
FileName = Annotated[
    str, Path(max_length=200, description="The file's name in the bundle, e.g. forms/x.json.")
]

router = APIRouter(prefix="/api/v1", tags=["studio"], responses=ERROR_RESPONSES)


@router.post("/drafts", response_model=DraftView, status_code=201)
def create_draft(studio: StudioDep, principal: Deployer, body: NewDraft) -> Any:
    """A draft holding every file of a deployed version (the latest when `base_version` is null)."""
    return studio.create(principal, body.key, body.base_version, body.title)


@router.get("/drafts", response_model=DraftList)
def list_drafts(
    studio: StudioDep,
    principal: DefinitionReader,
    status: DraftStatus | None = None,
    mine: bool = False,
    key: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:
    return {"items": studio.drafts(principal, status, mine, key)}


@router.get("/drafts/{draft_id}", response_model=DraftView)
def get_draft(studio: StudioDep, _principal: DefinitionReader, draft_id: DraftId) -> Any:
    return studio.get(str(draft_id))


@router.get("/drafts/{draft_id}/files/{name:path}", response_class=Response)
def get_draft_file(
    studio: StudioDep, _principal: DefinitionReader, draft_id: DraftId, name: FileName
) -> Response:
    """The file's bytes as stored."""
    content, media = studio.file(str(draft_id), name)
    return Response(content, media_type=media)


async def _bounded_body(request: Request, name: str) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_XML_BYTES:
            raise Invalid(
                "a file is too large",
                code="invalid_file",
                details=[problem(name, f"larger than {MAX_XML_BYTES} bytes")],
            )
    return bytes(body)


@router.put("/drafts/{draft_id}/files/{name:path}", response_model=DraftView)
async def put_draft_file(
    studio: StudioDep, principal: Deployer, draft_id: DraftId, name: FileName, request: Request
) -> Any:
    """Store the raw body as the file (owner, while editing); it must parse as its type."""
    content = await _bounded_body(request, name)
    return studio.put_file(principal, str(draft_id), name, content)


@router.delete("/drafts/{draft_id}/files/{name:path}", response_model=DraftView)
def delete_draft_file(studio: StudioDep, principal: Deployer, draft_id: DraftId, name: FileName) -> Any:
    return studio.delete_file(principal, str(draft_id), name)


@router.post("/drafts/{draft_id}/discard", response_model=DraftView)
def discard_draft(studio: StudioDep, principal: Deployer, draft_id: DraftId) -> Any:
    return studio.discard(principal, str(draft_id))


@router.post("/drafts/{draft_id}/proof", response_model=ProofAnswer)
def prove_draft(studio: StudioDep, principal: Deployer, draft_id: DraftId) -> Any:
    """The dry run of the draft: the deploy's validation and process tests, the diff against the
    version in force."""
    return studio.proof(principal, str(draft_id))


@router.post("/drafts/{draft_id}/lint", response_model=LintAnswer)
def lint_draft_file(studio: StudioDep, _principal: Deployer, draft_id: DraftId, body: LintRequest) -> Any:
    """The checks for one file's unsaved text (changes nothing)."""
    return {"problems": studio.lint(str(draft_id), body.name, body.content)}


@router.get("/drafts/{draft_id}/preview/instructions", response_model=PreviewAnswer)
def preview_instructions(
    studio: StudioDep,
    _principal: DefinitionReader,
    draft_id: DraftId,
    element_id: Annotated[str, Query(min_length=1, max_length=200)],
    text: Annotated[
        str | None, Query(max_length=20_000, description="Unsaved instructions to render.")
    ] = None,
) -> Any:
    """The user task's instructions rendered against a sample case."""
    return studio.preview_instructions(str(draft_id), element_id, text)


@router.post("/drafts/{draft_id}/simulate", status_code=202)
def simulate_draft(studio: StudioDep, principal: Deployer, draft_id: DraftId, body: SimulateRequest) -> Any:
    """Queue a simulation: baseline the version in force, candidate the draft (read it with
    `GET /api/v1/simulations/{id}`)."""
    return studio.simulate(principal, str(draft_id), body.model_dump())


@router.post("/drafts/{draft_id}/submit", response_model=DraftView)
def submit_draft(studio: StudioDep, principal: Deployer, draft_id: DraftId) -> Any:
    return studio.submit(principal, str(draft_id))


@router.post("/drafts/{draft_id}/approve", response_model=DraftView)
def approve_draft(studio: StudioDep, principal: Deployer, draft_id: DraftId, body: Note) -> Any:
    return studio.approve(principal, str(draft_id), body.note)


@router.post("/drafts/{draft_id}/reject", response_model=DraftView)
def reject_draft(studio: StudioDep, principal: Deployer, draft_id: DraftId, body: Note) -> Any:
    return studio.reject(principal, str(draft_id), body.note)


@router.post("/drafts/{draft_id}/deploy", response_model=DeployAnswer, status_code=201)
def deploy_draft(studio: StudioDep, principal: Deployer, draft_id: DraftId) -> Response:
    """Deploy an approved, unchanged draft as a new version that records its approval."""
    result = studio.deploy(principal, str(draft_id))
    return JSONResponse(DeployAnswer.of(result).model_dump(mode="json"), status_code=201)


@router.get("/definitions/{key}/audit", response_model=AuditList)
def definition_audit(
    studio: StudioDep,
    _principal: DefinitionReader,
    key: Annotated[str, Path(max_length=200)],
    draft_id: uuid.UUID | None = None,
) -> Any:
    """Every studio action on the key's definition, oldest first."""
    return {"items": studio.audit(key, str(draft_id) if draft_id else None)}
