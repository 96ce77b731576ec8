"""The workbench's pages: sign-in, the desk (inbox + next task), the task page and the case page.

Every page calls the same services the API routers call (`services.tasks`, `services.cases`,
`services.history`, `services.compliance`): the same visibility (404 outside one's lanes), the
same masking of personal data, the same validation messages, the same history entries.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ..api.deps import READ_CASES, READ_TASKS, WORK_TASKS
from ..compliance.subjects import HUMAN_CHANNELS
from ..domain.contact_model import Channel, Target
from ..errors import Forbidden, Invalid, NotFound, ServiceError
from .formgen import form_fields, parse_form
from .parts import WebParts, WebPartsDep
from .reads import contact_of_task, contacts_of_case, diagram_xml, letter_of_case, letters_of_case, works
from .render import page
from .session import CSRF_FIELD, CSRF_HEADER, WebUser, check_csrf, read_session

router = APIRouter(include_in_schema=False)
STAGES = ("assessment", "informal", "formal", "litigation", "mediation", "review")
INBOX_PAGE = 50
TARGETS = ("borrower", "guarantor", "emergency_contact")
HISTORY_LIMIT = 200

ServicesDep = WebPartsDep


async def signed_in(request: Request, services: ServicesDep) -> WebUser:
    """The person of this request (NotSignedIn → the sign-in page)."""
    return read_session(services.settings, request)


async def posted(request: Request, user: Annotated[WebUser, Depends(signed_in)]) -> WebUser:
    """A signed-in person whose POST carries the session's CSRF token."""
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    check_csrf(user, submitted)
    return user


User = Annotated[WebUser, Depends(signed_in)]
Poster = Annotated[WebUser, Depends(posted)]


def _require(user: WebUser, roles: tuple[str, ...]) -> None:
    p = user.principal
    if not (p.is_admin or p.has(*roles)):
        raise Forbidden("role not allowed", code="role_not_allowed")


def error_page(request: Request, user: WebUser | None, err: ServiceError) -> HTMLResponse:
    key = {404: "not_found", 403: "forbidden"}.get(err.status)
    return page(request, "error.html", user, status_code=err.status, key=key, message=err.message)


@router.get("/")
def home(user: User) -> Response:
    target = "/desk" if user.principal.works_tasks or user.principal.is_admin else "/dashboard"
    return RedirectResponse(target, status_code=303)


# -- the desk ----------------------------------------------------------------------------------
def _inbox_args(assigned: str, group: str, stage: str) -> dict[str, Any]:
    return {
        "assigned": assigned if assigned in ("me", "unassigned", "any") else "any",
        "group": group or None,
        "stage": stage if stage in STAGES else None,
        "case_id": None,
    }


def _more_rows(args: dict[str, Any], next_cursor: str | None) -> str | None:
    """The htmx URL of the inbox's next page (None on the last page)."""
    if not next_cursor:
        return None
    return "/desk/rows?" + urlencode(
        {k: v for k, v in {**args, "cursor": next_cursor}.items() if v is not None}
    )


@router.get("/desk", response_class=HTMLResponse)
def desk(
    request: Request,
    services: ServicesDep,
    user: User,
    assigned: str = "any",
    group: str = "",
    stage: str = "",
    cursor: str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    try:
        _require(user, READ_TASKS)
        args = _inbox_args(assigned, group, stage)
        inbox = services.tasks.list(user.principal, **args, limit=INBOX_PAGE, cursor=cursor)
        counts = services.tasks.counts(user.principal)
    except ServiceError as err:
        return error_page(request, user, err)
    more = _more_rows(args, inbox["next_cursor"])
    template = "inbox_rows.html" if request.headers.get("hx-request") and cursor else "desk.html"
    return page(
        request,
        template,
        user,
        tasks=inbox["items"],
        counts=counts,
        filters=args,
        groups=sorted(user.principal.lanes) or sorted(counts["by_group"]),
        stages=STAGES,
        more=more,
        now=services.clock.now(),
        notice=notice,
    )


@router.get("/desk/rows", response_class=HTMLResponse)
def desk_rows(
    request: Request,
    services: ServicesDep,
    user: User,
    assigned: str = "any",
    group: str = "",
    stage: str = "",
    cursor: str | None = None,
) -> HTMLResponse:
    """The next page of inbox rows (htmx "more")."""
    try:
        _require(user, READ_TASKS)
        args = _inbox_args(assigned, group, stage)
        inbox = services.tasks.list(user.principal, **args, limit=INBOX_PAGE, cursor=cursor)
    except ServiceError as err:
        return error_page(request, user, err)
    more = _more_rows(args, inbox["next_cursor"])
    return page(request, "inbox_rows.html", user, tasks=inbox["items"], more=more, now=services.clock.now())


@router.post("/desk/next")
def take_next(request: Request, services: ServicesDep, user: Poster) -> Response:
    """The "next task" key: claim the best free task (POST /tasks:next) and open it."""
    try:
        _require(user, WORK_TASKS)
        task = services.tasks.claim_next(user.principal, None, None)
    except ServiceError as err:
        if err.status == 409:
            return RedirectResponse("/desk?notice=no_task", status_code=303)
        return error_page(request, user, err)
    return RedirectResponse(f"/task/{task['task_id']}", status_code=303)


# -- the task page -----------------------------------------------------------------------------
def _task_page(
    request: Request,
    services: ServicesDep,
    user: WebUser,
    task_id: uuid.UUID,
    values: dict[str, Any] | None = None,
    problems: list[dict[str, Any]] | None = None,
    refusal: ServiceError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    try:
        _require(user, READ_TASKS)
        detail = services.tasks.detail(user.principal, task_id)
        history = services.history.page(user.principal, uuid.UUID(detail["case_id"]), HISTORY_LIMIT, None)
    except ServiceError as err:
        return error_page(request, user, err)
    errors = {p["field"]: p["message"] for p in problems or []}
    fields = form_fields(detail.get("form"), detail.get("ui_schema"), values or {}, errors)
    channel, target = contact_of_task(services, uuid.UUID(detail["case_id"]), detail["name"])
    return page(
        request,
        "task.html",
        user,
        status_code=status_code,
        task=detail,
        case=detail["case"],
        fields=fields,
        problems=problems or [],
        refusal=refusal,
        history=list(reversed(history["items"])),
        channel=channel,
        target=target,
        mine=detail["assignee"] == user.principal.sub,
        now=services.clock.now(),
    )


@router.get("/task/{task_id}", response_class=HTMLResponse)
def task_page(request: Request, services: ServicesDep, user: User, task_id: uuid.UUID) -> HTMLResponse:
    return _task_page(request, services, user, task_id)


@router.get("/task/{task_id}/contact-check", response_class=HTMLResponse)
def contact_check(
    request: Request,
    services: ServicesDep,
    user: User,
    task_id: uuid.UUID,
    channel: str = "call",
    target: str = "borrower",
) -> HTMLResponse:
    """The verdict before dialling (GET /cases/{id}/contact-check), refreshed by htmx."""
    try:
        _require(user, WORK_TASKS)
        if channel not in HUMAN_CHANNELS or target not in TARGETS:
            raise Invalid("unknown channel or target")
        case_id = uuid.UUID(services.tasks.detail(user.principal, task_id)["case_id"])
        check = services.compliance.contact_check(user.principal, case_id, Channel(channel), Target(target))
    except ServiceError as err:
        return error_page(request, user, err)
    return page(request, "contact_check.html", user, check=check)


@router.post("/task/{task_id}/claim")
def claim(request: Request, services: ServicesDep, user: Poster, task_id: uuid.UUID) -> Response:
    try:
        services.tasks.claim(user.principal, task_id)
    except ServiceError as err:
        return _task_page(request, services, user, task_id, refusal=err, status_code=err.status)
    return RedirectResponse(f"/task/{task_id}", status_code=303)


@router.post("/task/{task_id}/unclaim")
def unclaim(request: Request, services: ServicesDep, user: Poster, task_id: uuid.UUID) -> Response:
    try:
        services.tasks.unclaim(user.principal, task_id)
    except ServiceError as err:
        return _task_page(request, services, user, task_id, refusal=err, status_code=err.status)
    return RedirectResponse("/desk", status_code=303)


@router.post("/task/{task_id}/complete")
async def complete(request: Request, services: ServicesDep, user: Poster, task_id: uuid.UUID) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str) and k != CSRF_FIELD}
    return await run_in_threadpool(_complete, request, services, user, task_id, form)


def _complete(
    request: Request, services: WebParts, user: WebUser, task_id: uuid.UUID, form: dict[str, str]
) -> Response:
    try:
        _require(user, WORK_TASKS)
        detail = services.tasks.detail(user.principal, task_id)
        data = parse_form(detail.get("form"), form)
        case = services.tasks.complete(user.principal, task_id, data)
    except Invalid as err:
        details = err.details if isinstance(err.details, list) else []
        return _task_page(request, services, user, task_id, form, details, status_code=422)
    except ServiceError as err:
        return _task_page(request, services, user, task_id, form, refusal=err, status_code=err.status)
    return RedirectResponse(f"/case/{case['case_id']}?notice=completed", status_code=303)


# -- the case page -----------------------------------------------------------------------------
@router.get("/case/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request, services: ServicesDep, user: User, case_id: uuid.UUID, notice: str | None = None
) -> HTMLResponse:
    try:
        _require(user, READ_CASES)
        view = services.cases.get(user.principal, case_id)
        history = services.history.page(user.principal, case_id, HISTORY_LIMIT, None)
    except ServiceError as err:
        return error_page(request, user, err)
    entries = history["items"]
    stages = [
        {"at": e["at"], "from": (e.get("data") or {}).get("from"), "to": (e.get("data") or {}).get("to")}
        for e in entries
        if e["action"] == "stage_entered"
    ]
    may_open = works(services, user.principal, case_id)
    variables = view.get("variables") or {}
    return page(
        request,
        "case.html",
        user,
        case=view,
        borrower=variables.get("borrower") if isinstance(variables.get("borrower"), dict) else None,
        history=list(reversed(entries)),
        stages=stages,
        contacts=contacts_of_case(services, case_id),
        letters=letters_of_case(services, case_id) if may_open else [],
        evidence=variables.get("evidence")
        if may_open and isinstance(variables.get("evidence"), dict)
        else None,
        notice=notice,
    )


@router.get("/case/{case_id}/diagram.json")
def case_diagram(services: ServicesDep, user: User, case_id: uuid.UUID) -> Response:
    """The diagram and the live position for the bpmn-js viewer (active, taken, waits)."""
    try:
        _require(user, READ_CASES)
        view = services.cases.get(user.principal, case_id)
        history = services.history.page(user.principal, case_id, HISTORY_LIMIT, None)
    except ServiceError as err:
        return JSONResponse({"error": {"code": err.code, "message": err.message}}, status_code=err.status)
    xml = diagram_xml(services, case_id)
    active = sorted({t["name"] for t in view["open_tasks"]})
    if view.get("error") and view["error"].get("element_id"):
        active.append(str(view["error"]["element_id"]))
    taken = sorted({e["element_id"] for e in history["items"] if e.get("element_id")} - set(active))
    waits = [
        {
            "element_id": w.get("element_id"),
            "kind": w["kind"],
            "name": w["name"],
            "due_at": w["due_at"].isoformat() if hasattr(w.get("due_at"), "isoformat") else w.get("due_at"),
        }
        for w in view["waiting"]
        if w.get("element_id")
    ]
    return JSONResponse({"xml": xml, "active": active, "taken": taken, "waits": waits})


@router.get("/case/{case_id}/letters/{message_id}.pdf")
def letter(services: ServicesDep, user: User, case_id: uuid.UUID, message_id: uuid.UUID) -> Response:
    try:
        _require(user, READ_CASES)
        services.cases.get(user.principal, case_id)
        if not works(services, user.principal, case_id):
            raise NotFound("no such letter")
        pdf = letter_of_case(services, case_id, message_id)
        if pdf is None:
            raise NotFound("no such letter")
    except ServiceError as err:
        return JSONResponse({"error": {"code": err.code, "message": err.message}}, status_code=err.status)
    return Response(pdf, media_type="application/pdf", headers={"content-disposition": "inline"})
