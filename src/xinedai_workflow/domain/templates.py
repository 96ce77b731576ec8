"""Message templates: Jinja2 in an immutable sandbox with strict undefined variables.

Templates come from a directory or from a ``{name: text}`` mapping (deployment bundles keep their
files in the database). Filters: ``money``, ``money_plain``, ``money_words``, ``cn_date``,
``iso_date``, ``pct``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, ChoiceLoader, DictLoader, FileSystemLoader, StrictUndefined, TemplateNotFound

from xinedai_workflow.domain.money import amount_in_words, format_money, format_rate, parse_decimal
from xinedai_workflow.domain.template_limits import LimitedEnvironment, render_with_limits

# processes/templates in a source checkout (src/xinedai_workflow/domain -> repository root).
DEFAULT_TEMPLATE_DIR = Path(__file__).resolve().parents[3] / "processes" / "templates"
_SUFFIXES = ("", ".j2", ".txt.j2", ".md.j2")


class TemplateRenderError(ValueError):
    """A template is missing, malformed, or uses a variable the context does not define."""


def _decimal(value: object, what: str) -> Decimal:
    return parse_decimal(value, allow_negative=True, what=what)


def money_filter(value: object) -> str:
    """``"1234.5"`` → ``"1,234.50"`` (half-up to the fen)."""
    return format_money(_decimal(value, "money"))


def money_plain_filter(value: object) -> str:
    """``"1234.5"`` → ``"1234.50"``."""
    return format_money(_decimal(value, "money"), thousands=False)


def money_words_filter(value: object, prefix: str = "人民币") -> str:
    """Chinese capital amount: ``"1004.5"`` → ``"人民币壹仟零肆元伍角整"``."""
    return amount_in_words(_decimal(value, "money_words"), prefix=prefix)


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return datetime.fromisoformat(value).date() if "T" in value else date.fromisoformat(value)
    raise TypeError(f"expected a date, got {type(value).__name__}")


def cn_date_filter(value: object) -> str:
    """``2026-11-20`` → ``"2026年11月20日"`` (dates, datetimes or ISO strings)."""
    d = _as_date(value)
    return f"{d.year}年{d.month}月{d.day}日"


def iso_date_filter(value: object) -> str:
    """Any accepted date form → ``"2026-11-20"``."""
    return _as_date(value).isoformat()


def pct_filter(value: object, places: int = 4) -> str:
    """Annual rate fraction → percentage: ``"0.0945"`` → ``"9.45%"``."""
    return format_rate(_decimal(value, "pct"), places=places)


FILTERS = {
    "money": money_filter,
    "money_plain": money_plain_filter,
    "money_words": money_words_filter,
    "cn_date": cn_date_filter,
    "iso_date": iso_date_filter,
    "pct": pct_filter,
}


def make_environment(loader: BaseLoader | None = None) -> LimitedEnvironment:
    """The sandboxed text environment: strict undefined, no autoescape, trimmed blocks, and the
    time and output limits of `template_limits`."""
    env = LimitedEnvironment(
        loader=loader,
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


class TemplateRenderer:
    """Renders named templates from a mapping and/or a directory (the mapping wins)."""

    def __init__(
        self, templates: Mapping[str, str] | None = None, directory: str | Path | None = None
    ) -> None:
        loaders: list[BaseLoader] = []
        if templates is not None:
            loaders.append(DictLoader(dict(templates)))
        if directory is not None:
            loaders.append(FileSystemLoader(str(directory), encoding="utf-8"))
        self.env = make_environment(ChoiceLoader(loaders))

    @classmethod
    def from_mapping(cls, templates: Mapping[str, str]) -> TemplateRenderer:
        """Renderer over ``{name: text}`` (e.g. a deployment bundle loaded from the database)."""
        return cls(templates=templates)

    @classmethod
    def from_directory(cls, directory: str | Path = DEFAULT_TEMPLATE_DIR) -> TemplateRenderer:
        """Renderer over the ``.j2`` files of a directory."""
        return cls(directory=directory)

    def names(self) -> list[str]:
        """Names of the available templates."""
        return sorted(self.env.list_templates())

    def resolve(self, name: str) -> str:
        """Full template name; ``"sms_reminder"`` finds ``"sms_reminder.txt.j2"``."""
        available = set(self.names())
        for suffix in _SUFFIXES:
            if name + suffix in available:
                return name + suffix
        raise TemplateRenderError(f"template {name!r} not found")

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        """Render a named template; raises :class:`TemplateRenderError` on any template problem."""
        full = self.resolve(name)
        try:
            return render_with_limits(self.env.get_template(full), context)
        except TemplateNotFound as exc:  # pragma: no cover - resolve() checked the name
            raise TemplateRenderError(f"template {name!r} not found") from exc
        except Exception as exc:  # a template is data: any failure is the template's, never ours
            raise TemplateRenderError(f"{full}: {type(exc).__name__}: {exc}") from exc


def render_string(text: str, context: Mapping[str, Any]) -> str:
    """Render template source text in the same sandbox."""
    try:
        return render_with_limits(make_environment().from_string(text), context)
    except Exception as exc:  # a template is data: any failure is the template's, never ours
        raise TemplateRenderError(f"{type(exc).__name__}: {exc}") from exc


def render_template(
    name: str,
    context: Mapping[str, Any],
    *,
    templates: Mapping[str, str] | None = None,
    directory: str | Path | None = None,
) -> str:
    """One-shot rendering; defaults to :data:`DEFAULT_TEMPLATE_DIR` when no source is given."""
    if templates is None and directory is None:
        directory = DEFAULT_TEMPLATE_DIR
    return TemplateRenderer(templates=templates, directory=directory).render(name, context)
