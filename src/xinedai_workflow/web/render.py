"""Jinja2 for the workbench's pages: autoescaped (borrower names come from upstream systems and
are untrusted), with the translator, the signed-in user and small formatting filters."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from .i18n import pick_language, translator
from .session import LANG_COOKIE, WebUser

TEMPLATES = Path(__file__).resolve().parent / "templates"
DISPLAY_ZONE = ZoneInfo("Asia/Shanghai")

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.astimezone(DISPLAY_ZONE).strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


# Call scripts are Markdown. Raw HTML in them (or in a case value rendered into them) is escaped,
# never passed through, and unsafe link schemes (javascript:) are refused by markdown-it.
_markdown = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable("table")


def _render_markdown(source: str | None) -> Markup:
    return Markup(_markdown.render(source or ""))  # html=False: markdown-it escapes raw HTML


env.filters["when"] = _when
env.filters["markdown"] = _render_markdown


def language(request: Request) -> str:
    return pick_language(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def page(
    request: Request, template: str, user: WebUser | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    lang = language(request)
    body = env.get_template(template).render(
        request=request, user=user, lang=lang, t=translator(lang), path=request.url.path, **context
    )
    return HTMLResponse(body, status_code=status_code)
