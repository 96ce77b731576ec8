"""The compliance studio's pages: the drafts list, the modeler of a draft (or of a deployed
version, read-only), and the DMN, form, template and contact-policy editors.

The pages are shells: their scripts (static/js/studio/) read and write the draft through the
JSON API under `/studio/api/v1` (see bridge.py), so the studio does exactly what an API client may
do, with the same role checks. `compliance` (and `admin`) edit; `auditor` reads.
"""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ..errors import Forbidden, Invalid, ServiceError
from ..runtime.script_helpers import SCRIPT_HELPERS, VERSION_HELPER_NAMES
from .pages import ServicesDep, User, error_page
from .render import page
from .session import WebUser

router = APIRouter(include_in_schema=False)
EDITORS = ("compliance",)
READERS = ("compliance", "auditor")
FILE_KINDS = {"dmn": ".dmn", "forms": ".json", "templates": ".j2"}
POLICY_FILE = "contact_policy.yaml"


def _role(user: WebUser) -> str:
    """`edit` for compliance and admin, `read` for auditors; others are refused."""
    p = user.principal
    if p.is_admin or p.has(*EDITORS):
        return "edit"
    if p.has(*READERS):
        return "read"
    raise Forbidden("the studio is for compliance and audit", code="role_not_allowed")


def _shell(request: Request, user: WebUser, template: str, **context: Any) -> HTMLResponse:
    try:
        role = _role(user)
    except ServiceError as err:
        return error_page(request, user, err)
    return page(request, template, user, role=role, me=user.principal.sub, **context)


@router.get("/studio", response_class=HTMLResponse)
def drafts(request: Request, user: User) -> HTMLResponse:
    return _shell(request, user, "studio/drafts.html")


@router.get("/studio/drafts/{draft_id}", response_class=HTMLResponse)
def draft(request: Request, user: User, draft_id: str) -> HTMLResponse:
    return _shell(request, user, "studio/draft.html", draft_id=draft_id, version=None, key=None)


@router.get("/studio/definitions/{key}/{version}", response_class=HTMLResponse)
def deployed(request: Request, services: ServicesDep, user: User, key: str, version: int) -> HTMLResponse:
    """A deployed version in the modeler, read-only (the files as deployed)."""
    try:
        _role(user)
        with services.db.read() as session:
            definition = services.registry.version(session, key, version)
    except ServiceError as err:
        return error_page(request, user, err)
    return _shell(
        request,
        user,
        "studio/draft.html",
        draft_id=None,
        key=key,
        version=version,
        files=sorted(definition.files),
    )


@router.get("/studio/drafts/{draft_id}/{kind}/{name:path}", response_class=HTMLResponse)
def file_editor(request: Request, user: User, draft_id: str, kind: str, name: str) -> HTMLResponse:
    """The DMN editor (dmn-js), the form editor or the template editor of one draft file."""
    if kind not in FILE_KINDS or not name.endswith(FILE_KINDS[kind]) or ".." in name:
        return error_page(request, user, Invalid("no such editor"))
    template = "studio/dmn.html" if kind == "dmn" else "studio/text.html"
    path = name if kind == "dmn" else f"{kind}/{name}"
    return _shell(request, user, template, draft_id=draft_id, kind=kind, name=path)


@router.get("/studio/drafts/{draft_id}/policy", response_class=HTMLResponse)
def policy_editor(request: Request, user: User, draft_id: str) -> HTMLResponse:
    return _shell(request, user, "studio/text.html", draft_id=draft_id, kind="policy", name=POLICY_FILE)


def _helper(name: str, value: Any) -> dict[str, Any]:
    try:
        params = [
            p.name
            for p in inspect.signature(value).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        ]
    except (TypeError, ValueError):  # builtins and classes without a readable signature
        params = []
    doc = (inspect.getdoc(value) or "").split("\n", 1)[0] if callable(value) else ""
    return {"name": name, "params": params, "doc": doc[:160]}


HELPERS = sorted(
    [_helper(name, value) for name, value in SCRIPT_HELPERS.items()]
    + [
        {
            "name": "render_template",
            "params": ["name", "context"],
            "doc": "Render a template of this version.",
        }
    ]
    * bool(VERSION_HELPER_NAMES),
    key=lambda h: str(h["name"]),
)


@router.get("/studio/helpers.json")
def helpers(user: User) -> Response:
    """The script helper table (name, required parameters, first doc line) for completion."""
    try:
        _role(user)
    except ServiceError as err:
        return JSONResponse({"error": {"code": err.code, "message": err.message}}, status_code=err.status)
    return JSONResponse({"items": HELPERS})
