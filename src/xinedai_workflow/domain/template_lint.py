"""Template lint: message templates must carry the required elements and no prohibited wording.

Rules are data (the `templates:` section of processes/contact_policy.yaml). Matching ignores
whitespace, zero-width characters, case and full-/half-width differences (NFKC), treats 您 as
你, and `*` in a phrase stands for up to four characters (Chinese) or three words (English),
so "通知*家人" catches 通知你的家人 and 通知您家人. A single English word also matches its
longer forms (arrest → arrested). Jinja comments `{# ... #}` are not checked:
notes to authors may quote what must not be said.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

__all__ = [
    "TEMPLATE_KINDS",
    "LintProblem",
    "LintRules",
    "ProhibitedWording",
    "RequiredElement",
    "lint_template",
    "lint_templates",
    "template_kind_from_name",
]

TEMPLATE_KINDS: tuple[str, ...] = ("sms", "email", "letter", "call_script", "voice")
_FOLD = {"您": "你", "妳": "你"}
_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
_JINJA_TAG = re.compile(r"\{[{%](.*?)[}%]\}", re.DOTALL)
_CJK_GAP = r"\w{0,4}"
_WORD_GAP = r" (?:[\w'’]+ ){0,3}"


@dataclass(frozen=True)
class RequiredElement:
    """An element every template of `kinds` must contain: any one of `any_of`.

    An alternative starting with `{{` names a Jinja variable (prefix): `{{ claim.total` is met
    by `{{claim.total_due}}` or `{% set owed = claim.total %}`; anything else is a literal phrase.
    `first_contact`: required only in a template that can be the first message of a case.
    """

    id: str
    kinds: frozenset[str]
    any_of: tuple[str, ...]
    message: str
    first_contact: bool = False


@dataclass(frozen=True)
class ProhibitedWording:
    """Phrases no template may contain, unless inside one of `except_in` (e.g. 不涉及刑事责任)."""

    rule: str
    phrases: tuple[str, ...]
    message: str
    except_in: tuple[str, ...] = ()


@dataclass(frozen=True)
class LintRules:
    """What template lint checks."""

    required: tuple[RequiredElement, ...] = ()
    prohibited: tuple[ProhibitedWording, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LintRules:
        """Build from the `templates:` section of the policy file."""
        required = tuple(
            RequiredElement(
                id=str(item["id"]),
                kinds=frozenset(str(k) for k in item.get("kinds", TEMPLATE_KINDS)),
                any_of=tuple(str(p) for p in item["any_of"]),
                message=str(item.get("message", "")),
                first_contact=bool(item.get("first_contact", False)),
            )
            for item in data.get("required_elements") or ()
        )
        prohibited = tuple(
            ProhibitedWording(
                rule=str(item["rule"]),
                phrases=tuple(str(p) for p in item["phrases"]),
                message=str(item.get("message", "")),
                except_in=tuple(str(p) for p in item.get("except_in") or ()),
            )
            for item in data.get("prohibited") or ()
        )
        return cls(required=required, prohibited=prohibited)


@dataclass(frozen=True)
class LintProblem:
    """One finding. `line` is 1-based; None for a missing element. `phrase` is the rule's phrase."""

    file: str
    line: int | None
    phrase: str | None
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"

    def as_detail(self) -> dict[str, Any]:
        """The deploy endpoint's 422 detail entry."""
        return {"file": self.file, "line": self.line, "element_id": self.rule, "message": self.message}


def template_kind_from_name(filename: str) -> str | None:
    """sms_*.j2 → sms, email_* → email, call_script* → call_script, voice_* → voice (an automated
    call's spoken text), *letter* → letter, else None."""
    stem = PurePath(filename).name.lower()
    if stem.startswith("sms_") or stem.startswith("sms."):
        return "sms"
    if stem.startswith("email_") or stem.startswith("email."):
        return "email"
    if stem.startswith("call_script"):
        return "call_script"
    if stem.startswith("voice_") or stem.startswith("voice."):
        return "voice"
    if "letter" in stem:
        return "letter"
    return None


class _Normalized:
    """A template's text folded for matching, each character remembering its source line.

    `squeezed` drops all whitespace (for Chinese phrases); `spaced` collapses each run of
    whitespace to one space (for English phrases, which need word boundaries).
    """

    def __init__(self, text: str) -> None:
        text = _JINJA_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)
        self.jinja_tags = [_fold(m.group(1)) for m in _JINJA_TAG.finditer(text)]
        squeezed: list[str] = []
        spaced: list[str] = []
        self.squeezed_lines: list[int] = []
        self.spaced_lines: list[int] = []
        line = 1
        for raw in text:
            for ch in _fold(raw):
                if ch.isspace():
                    if spaced and spaced[-1] != " ":
                        spaced.append(" ")
                        self.spaced_lines.append(line)
                    continue
                squeezed.append(ch)
                self.squeezed_lines.append(line)
                spaced.append(ch)
                self.spaced_lines.append(line)
            if raw == "\n":
                line += 1
        self.squeezed = "".join(squeezed)
        self.spaced = "".join(spaced)


def _fold(text: str) -> str:
    out = []
    for ch in unicodedata.normalize("NFKC", text).casefold():
        if unicodedata.category(ch) == "Cf":
            continue
        out.append(_FOLD.get(ch, ch))
    return "".join(out)


def _is_english(phrase: str) -> bool:
    return phrase.isascii()


def _pattern(phrase: str) -> re.Pattern[str]:
    """The regex for `phrase` on its stream (spaced for English, squeezed otherwise)."""
    folded = _fold(phrase)
    if _is_english(folded):
        parts = [" ".join(part.split()) for part in folded.split("*")]
        body = _WORD_GAP.join(re.escape(p) for p in parts if p)
        # One word also matches its longer forms (arrest → arrested); several words must end
        # at a word end, so "or else" does not catch "or elsewhere".
        tail = r"(?![a-z0-9])" if " " in folded.strip() else ""
        return re.compile(r"(?<![a-z0-9])" + body + tail)
    parts = ["".join(part.split()) for part in folded.split("*")]
    return re.compile(_CJK_GAP.join(re.escape(p) for p in parts if p))


def _spans(norm: _Normalized, phrase: str) -> list[tuple[int, int, int]]:
    """(start, end, line) of each occurrence of `phrase`."""
    english = _is_english(_fold(phrase))
    stream = norm.spaced if english else norm.squeezed
    lines = norm.spaced_lines if english else norm.squeezed_lines
    return [
        (m.start(), m.end(), lines[m.start()])
        for m in _pattern(phrase).finditer(stream)
        if m.end() > m.start()
    ]


def _jinja_name_found(norm: _Normalized, alternative: str) -> bool:
    """True when an expression or statement tag uses a name starting with the alternative's."""
    name = "".join(_fold(alternative).split())[2:].rstrip("}")
    pattern = re.compile(r"(?<![\w.])" + re.escape(name))
    return any(pattern.search(tag) for tag in norm.jinja_tags)


def _has_any(norm: _Normalized, alternatives: Iterable[str]) -> bool:
    for alternative in alternatives:
        if alternative.lstrip().startswith("{{"):
            if _jinja_name_found(norm, alternative):
                return True
        elif _spans(norm, alternative):
            return True
    return False


def lint_template(
    name: str, text: str, kind: str | None, rules: LintRules, first_contact: bool = False
) -> list[LintProblem]:
    """Every problem in one template, prohibited wording first in line order.

    `kind` is one of TEMPLATE_KINDS, or None for a template that is no message to a borrower
    (then only prohibited wording is checked). `first_contact`: the template can be the first
    message of a case, so the elements marked `first_contact` are required too.
    """
    norm = _Normalized(text)
    problems: list[LintProblem] = []
    for group in rules.prohibited:
        english_allowed = [s for p in group.except_in if _is_english(_fold(p)) for s in _spans(norm, p)]
        other_allowed = [s for p in group.except_in if not _is_english(_fold(p)) for s in _spans(norm, p)]
        for phrase in group.phrases:
            allowed = english_allowed if _is_english(_fold(phrase)) else other_allowed
            for start, end, line in _spans(norm, phrase):
                if any(a <= start and end <= b for a, b, _ in allowed):
                    continue
                problems.append(
                    LintProblem(
                        file=name,
                        line=line,
                        phrase=phrase,
                        rule=group.rule,
                        message=f'line {line}: prohibited wording "{phrase}" ({group.rule}): {group.message}',
                    )
                )
    problems.sort(key=lambda p: (p.line or 0, p.rule))
    for element in rules.required:
        if element.first_contact and not first_contact:
            continue
        if kind in element.kinds and not _has_any(norm, element.any_of):
            choices = " / ".join(element.any_of)
            where = " in the first message of a case" if element.first_contact else ""
            problems.append(
                LintProblem(
                    file=name,
                    line=None,
                    phrase=None,
                    rule=element.id,
                    message=f"missing {element.id}{where} ({element.message}); use one of: {choices}",
                )
            )
    return problems


def lint_templates(
    files: Mapping[str, str], rules: LintRules, first_contact: frozenset[str] = frozenset()
) -> list[LintProblem]:
    """Lint a bundle {file name: text}; the kind of each comes from its name. `first_contact`
    names the templates that can be the first message of a case."""
    problems: list[LintProblem] = []
    for name in sorted(files):
        kind = template_kind_from_name(name)
        problems.extend(lint_template(name, files[name], kind, rules, name in first_contact))
    return problems
