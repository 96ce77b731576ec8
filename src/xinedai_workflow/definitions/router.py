"""/api/v1/definitions: deploy bundles (multipart), list versions, read deployed files."""

from __future__ import annotations

import mimetypes
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile
from fastapi.responses import JSONResponse, Response

from ..api.deps import DefinitionReader, Deployer, provided
from ..api.errors import ERROR_RESPONSES
from ..engine.xmlsafe import MAX_XML_BYTES
from ..errors import Invalid
from .schemas import DefinitionItem, DeployAnswer, VersionDiff
from .service import DefinitionService

DefinitionsDep = Annotated[DefinitionService, Depends(provided(DefinitionService))]

router = APIRouter(prefix="/api/v1/definitions", tags=["definitions"], responses=ERROR_RESPONSES)


@router.post("", response_model=DeployAnswer, status_code=201, responses={200: {"model": DeployAnswer}})
async def deploy(
    definitions: DefinitionsDep,
    principal: Deployer,
    files: Annotated[
        list[UploadFile], File(description="The .bpmn, .dmn and form .json files of the bundle.")
    ],
    dry_run: Annotated[bool, Form()] = False,
) -> Response:
    """Validate a bundle and store a new version of each process key whose content changed."""
    contents: dict[str, bytes] = {}
    for upload in files:
        name = upload.filename or ""
        data = await upload.read(MAX_XML_BYTES + 1)
        if len(data) > MAX_XML_BYTES:
            raise Invalid(
                "a file is too large",
                details=[
                    {
                        "file": name,
                        "line": None,
                        "element_id": None,
                        "message": f"larger than {MAX_XML_BYTES} bytes",
                    }
                ],
            )
        if name in contents:
            raise Invalid(
                "duplicate file name",
                details=[
                    {
                        "file": name,
                        "line": None,
                        "element_id": None,
                        "message": "the bundle names this file twice",
                    }
                ],
            )
        contents[name] = data
    result = definitions.deploy(contents, principal.actor, dry_run)
    body = DeployAnswer.of(result)
    status = 201 if result.created and not result.dry_run else 200
    return JSONResponse(body.model_dump(mode="json"), status_code=status)


@router.get("", response_model=list[DefinitionItem])
def list_definitions(
    definitions: DefinitionsDep,
    _principal: DefinitionReader,
    all_versions: Annotated[
        bool, Query(description="Every version, not just the latest of each key.")
    ] = False,
) -> list[DefinitionItem]:
    return [
        DefinitionItem(
            key=r.key,
            version=r.version,
            name=r.name,
            sha256=r.sha256,
            deployed_at=r.deployed_at,
            deployed_by=r.deployed_by,
            approved_by=approved_by,
        )
        for r, approved_by in definitions.list_with_approvals(all_versions)
    ]


@router.get("/{key}/versions/{version}/diff", response_model=VersionDiff)
def get_diff(
    definitions: DefinitionsDep,
    _principal: DefinitionReader,
    key: Annotated[str, Path(max_length=200)],
    version: Annotated[int, Path(ge=1, le=2_147_483_647)],
) -> VersionDiff:
    """What the version changed against the one before it: elements added, removed or changed
    (with the attribute or extension property), DMN rows, and unified diffs of the other files."""
    return VersionDiff.model_validate(definitions.diff(key, version))


@router.get("/{key}/versions/{version}/files/{name:path}", response_class=Response)
def get_file(
    definitions: DefinitionsDep,
    _principal: DefinitionReader,
    key: Annotated[str, Path(max_length=200)],
    version: Annotated[int, Path(ge=1, le=2_147_483_647)],  # the column is a 32-bit integer
    name: Annotated[str, Path(max_length=200)],
) -> Response:
    """The file as deployed (byte-identical)."""
    content = definitions.file(key, version, name)
    media = mimetypes.guess_type(name)[0] or (
        "application/xml" if name.endswith((".bpmn", ".dmn")) else "text/plain"
    )
    return Response(content, media_type=media)
