"""Deploy-time checks of a bundle's compliance assets (an `AssetCheck` of the definitions service).

- The contact policy file, if the bundle has one, must be sound (refused with its line).
- Every template (`*.j2`) is linted against the template rules of the bundle's policy file or,
  when the bundle has none, of the policy in force: required elements by kind (bank identity,
  amount owed, how to pay, the borrower's options) and prohibited wording (threats, insults,
  false claims of arrest, disclosure to third parties), each refused with file and line. The
  templates that can be a case's first message (found in the diagrams) must also carry the
  `first_contact` elements: who is collecting (CBA guideline 2026-01-30).
- A contact task's `contactChannel` / `contactTarget` properties must name a known channel and
  target, so the guard can never meet a contact it cannot classify.
"""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

from ..db.session import Database
from ..domain.contact_model import Target
from ..domain.policy_file import is_policy_file, parse_policy
from ..domain.template_lint import LintRules, lint_templates
from ..engine import Problem
from ..engine.bundle import SPIFF_NS, AssetCheck
from ..engine.xmlsafe import parse_untrusted_xml
from .first_contact import first_contact_templates
from .policy import PolicyStore
from .subjects import CONTACT_CHANNEL_PROPERTY, CONTACT_TARGET_PROPERTY, HUMAN_CHANNELS

TEMPLATE_SUFFIX = ".j2"


def _policy_problems(files: Mapping[str, bytes]) -> tuple[LintRules | None, bool, list[Problem]]:
    """(the bundle's lint rules, whether it has a policy file, problems of its policy file)."""
    names = sorted(n for n in files if is_policy_file(n))
    problems: list[Problem] = []
    if len(names) > 1:
        problems.append(
            Problem(
                names[1], None, None, f"a bundle holds one contact policy file, not {len(names)}: {names}"
            )
        )
    rules: LintRules | None = None
    for name in names:
        bundle, found = parse_policy(files[name], name)
        problems.extend(Problem(p.file, p.line, p.element_id, p.message) for p in found)
        if bundle is not None and rules is None:
            rules = bundle.lint
    return rules, bool(names), problems


def _template_problems(files: Mapping[str, bytes], rules: LintRules) -> list[Problem]:
    first = first_contact_templates(files)
    texts: dict[str, str] = {}
    problems: list[Problem] = []
    for name in sorted(n for n in files if n.endswith(TEMPLATE_SUFFIX)):
        try:
            texts[name] = files[name].decode("utf-8")
        except UnicodeDecodeError as err:
            problems.append(Problem(name, None, None, f"a template must be UTF-8 text: {err}"))
    problems.extend(Problem(p.file, p.line, p.rule, p.message) for p in lint_templates(texts, rules, first))
    return problems


def _owner_id(node: etree._Element) -> str | None:
    current: etree._Element | None = node
    while current is not None:
        if (
            isinstance(current.tag, str)
            and current.get("id")
            and not current.tag.startswith(f"{{{SPIFF_NS}}}")
        ):
            return current.get("id")
        current = current.getparent()
    return None


def contact_task_problems(files: Mapping[str, bytes]) -> list[Problem]:
    """Unknown `contactChannel` / `contactTarget` values on the diagrams' tasks."""
    allowed = {
        CONTACT_CHANNEL_PROPERTY: sorted(HUMAN_CHANNELS),
        CONTACT_TARGET_PROPERTY: sorted(t.value for t in Target),
    }
    problems: list[Problem] = []
    for name in sorted(n for n in files if n.endswith(".bpmn")):
        tree, _errors = parse_untrusted_xml(files[name], name)  # XML errors are the engine's to report
        if tree is None:
            continue
        for prop in tree.getroot().iter(f"{{{SPIFF_NS}}}property"):
            key = prop.get("name")
            if key not in allowed:
                continue
            value = (prop.get("value") or "").strip().lower()
            if value not in allowed[key]:
                problems.append(
                    Problem(
                        name,
                        prop.sourceline,
                        _owner_id(prop),
                        f"{key} {prop.get('value')!r} is not one of: {', '.join(allowed[key])}",
                    )
                )
    return problems


def compliance_asset_check(db: Database, policies: PolicyStore) -> AssetCheck:
    """The check the definitions service runs on every bundle it validates."""

    def check(files: Mapping[str, bytes]) -> list[Problem]:
        rules, has_policy, problems = _policy_problems(files)
        if any(name.endswith(TEMPLATE_SUFFIX) for name in files) and not (has_policy and rules is None):
            if rules is None:
                with db.read() as session:
                    rules = policies.in_force(session).lint
            problems.extend(_template_problems(files, rules))
        problems.extend(contact_task_problems(files))
        return problems

    return check
