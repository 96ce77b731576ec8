"""The policy file (processes/contact_policy.yaml): parse, validate, build the policy objects.

Problems come back as `PolicyProblem`s with the file's line where it can be told, shaped for
the deploy endpoint's 422 details `{"file", "line", "element_id", "message"}`; element_id is
the dotted path of the offending setting (e.g. `contact.quiet_hours.start`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from xinedai_workflow.domain.contact_model import ContactPolicy
from xinedai_workflow.domain.local_time import is_known_timezone
from xinedai_workflow.domain.policy_schema import POLICY_SCHEMA
from xinedai_workflow.domain.template_lint import LintRules

__all__ = [
    "POLICY_FILENAMES",
    "PolicyBundle",
    "PolicyFileError",
    "PolicyProblem",
    "RetentionSettings",
    "is_policy_file",
    "load_policy",
    "parse_policy",
]

POLICY_FILENAMES = ("contact_policy.yaml", "contact_policy.yml", "contact_policy.json")
_MAX_BYTES = 512 * 1024
_VALIDATOR = Draft202012Validator(POLICY_SCHEMA)
_Path = tuple[str | int, ...]


@dataclass(frozen=True)
class RetentionSettings:
    """How long records are kept, in days."""

    contact_records_days: int = 1095
    call_recordings_days: int = 1095


@dataclass(frozen=True)
class PolicyProblem:
    """One reason the policy file is refused."""

    file: str
    line: int | None
    element_id: str | None
    message: str

    def as_detail(self) -> dict[str, Any]:
        """The deploy endpoint's 422 detail entry."""
        return {"file": self.file, "line": self.line, "element_id": self.element_id, "message": self.message}


@dataclass(frozen=True)
class PolicyBundle:
    """Everything the policy file sets, plus the sha256 of its bytes."""

    contact: ContactPolicy
    lint: LintRules
    retention: RetentionSettings
    sha256: str


class PolicyFileError(ValueError):
    """The policy file was refused; `problems` says why."""

    def __init__(self, problems: list[PolicyProblem]) -> None:
        super().__init__("; ".join(f"{p.file}:{p.line or '?'}: {p.message}" for p in problems))
        self.problems = problems


def is_policy_file(name: str) -> bool:
    """True for the file name(s) the deploy step treats as the contact policy."""
    return Path(name).name in POLICY_FILENAMES


def load_policy(path: str | Path) -> PolicyBundle:
    """Read and validate a policy file; PolicyFileError when it is refused."""
    file = Path(path)
    bundle, problems = parse_policy(file.read_bytes(), file.name)
    if bundle is None:
        raise PolicyFileError(problems)
    return bundle


def parse_policy(
    content: str | bytes, file: str = "contact_policy.yaml"
) -> tuple[PolicyBundle | None, list[PolicyProblem]]:
    """Validate the policy file's content; (bundle, []) when sound, (None, problems) otherwise."""
    raw = content.encode("utf-8") if isinstance(content, str) else content
    if len(raw) > _MAX_BYTES:
        return None, [PolicyProblem(file, None, None, f"policy file larger than {_MAX_BYTES} bytes")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [PolicyProblem(file, None, None, f"not UTF-8 text: {exc}")]
    data, lines, problems = _read(text, file)
    if problems:
        return None, problems
    problems = _schema_problems(data, lines, file)
    if not problems:
        problems = _semantic_problems(data, lines, file)
    if problems:
        return None, sorted(problems, key=lambda p: (p.line or 0, p.element_id or ""))
    contact = ContactPolicy.from_dict(
        data["contact"], policy_id=str(data["policy_id"]), policy_version=str(data["policy_version"])
    )
    retention = RetentionSettings(**data["retention"])
    bundle = PolicyBundle(
        contact, LintRules.from_dict(data["templates"]), retention, hashlib.sha256(raw).hexdigest()
    )
    return bundle, []


def _read(text: str, file: str) -> tuple[Any, dict[_Path, int], list[PolicyProblem]]:
    """Parse YAML (or JSON) into data plus a map from each path to its 1-based line."""
    if file.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return None, {}, [PolicyProblem(file, exc.lineno, None, f"invalid JSON: {exc.msg}")]
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                line = event.start_mark.line + 1
                return None, {}, [PolicyProblem(file, line, None, "YAML anchors and aliases are not allowed")]
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            yaml_data = None if node is None else loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        if file.endswith(".json"):
            return data, {}, []
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else mark.line + 1
        return None, {}, [PolicyProblem(file, line, None, f"invalid YAML: {exc}")]
    if node is None:
        return None, {}, [PolicyProblem(file, 1, None, "the policy file is empty")]
    lines: dict[_Path, int] = {}
    problems = list(_walk(node, (), lines, file))
    if not file.endswith(".json"):
        data = yaml_data
    return data, lines, problems


def _walk(node: yaml.Node, path: _Path, lines: dict[_Path, int], file: str) -> Iterator[PolicyProblem]:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag != "tag:yaml.org,2002:str":
                yield PolicyProblem(file, key.start_mark.line + 1, _dotted(path), "keys must be plain names")
                continue
            if key.value in seen:
                yield PolicyProblem(
                    file, key.start_mark.line + 1, _dotted((*path, key.value)), f"duplicate key {key.value!r}"
                )
            seen.add(key.value)
            yield from _walk(value, (*path, key.value), lines, file)
            lines[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _walk(item, (*path, index), lines, file)


def _dotted(path: _Path) -> str | None:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or None


def _line(lines: Mapping[_Path, int], path: _Path) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _schema_problems(data: Any, lines: Mapping[_Path, int], file: str) -> list[PolicyProblem]:
    problems = []
    for error in _VALIDATOR.iter_errors(data):
        path: _Path = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
            for key in sorted(set(error.instance) - set(known)):
                where = (*path, key)
                problems.append(
                    PolicyProblem(file, _line(lines, where), _dotted(where), f"unknown setting {key!r}")
                )
            continue
        problems.append(PolicyProblem(file, _line(lines, path), _dotted(path), _message(error)))
    return problems


def _message(error: ValidationError) -> str:
    path: _Path = tuple(error.absolute_path)
    where = _dotted(path) or "the file"
    if path[:2] == ("contact", "quiet_hours") and path[-1] in ("start", "end"):
        if isinstance(error.instance, int):
            return f'{where}: write the time in quotes, e.g. "22:00" (unquoted, YAML reads it as a number)'
        return f"{where}: {error.instance!r} is not a time of day written HH:MM"
    return f"{where}: {error.message}"


def _semantic_problems(data: Mapping[str, Any], lines: Mapping[_Path, int], file: str) -> list[PolicyProblem]:
    """What the schema cannot say: a real time zone, a real window, unique ids, usable phrases."""
    found: list[tuple[_Path, str]] = []
    contact = data["contact"]
    zone_name = contact["default_timezone"]
    if not is_known_timezone(zone_name):
        found.append((("contact", "default_timezone"), f"unknown time zone {zone_name!r} (use an IANA name)"))
    quiet = contact["quiet_hours"]
    if quiet["start"] == quiet["end"]:
        found.append((("contact", "quiet_hours", "end"), "quiet hours start and end at the same time"))
    for section, key in (("required_elements", "id"), ("prohibited", "rule")):
        seen: set[str] = set()
        for index, item in enumerate(data["templates"][section]):
            if item[key] in seen:
                found.append((("templates", section, index, key), f"duplicate {key} {item[key]!r}"))
            seen.add(item[key])
            for field in ("any_of", "phrases", "except_in"):
                for j, phrase in enumerate(item.get(field) or ()):
                    if not phrase.replace("*", "").strip():
                        found.append(
                            (("templates", section, index, field, j), "an empty phrase matches everything")
                        )
    if not found:
        try:
            ContactPolicy.from_dict(contact)
        except (ValueError, KeyError) as exc:
            found.append((("contact",), str(exc)))
    return [
        PolicyProblem(file, _line(lines, path), _dotted(path), f"{_dotted(path)}: {msg}")
        for path, msg in found
    ]
