"""The layout check as deploy warnings: a few findings of each kind per file, the rest counted."""

from __future__ import annotations

from collections.abc import Mapping

from ..problems import Problem
from ..xmlsafe import element_lines, parse_untrusted_xml
from .check import KINDS, check_layout

SHOWN_PER_KIND = 3
PREFIX = "layout: "


def layout_warnings(files: Mapping[str, bytes]) -> list[Problem]:
    """Warnings for the diagrams of a bundle; at most `SHOWN_PER_KIND` findings of one kind per
    file are listed, then one line says how many more there are and how to fix them all."""
    warnings: list[Problem] = []
    for name in sorted(files):
        if not name.endswith(".bpmn"):
            continue
        tree, problems = parse_untrusted_xml(files[name], name)
        if tree is None or problems:
            continue  # the bundle check reports unreadable files as errors
        lines = element_lines(tree)
        findings = check_layout(tree.getroot())
        for kind in KINDS:
            of_kind = [f for f in findings if f.kind == kind]
            for finding in of_kind[:SHOWN_PER_KIND]:
                element = finding.element_ids[0] if finding.element_ids else None
                warnings.append(Problem(name, lines.get(element or ""), element, PREFIX + finding.message))
            if len(of_kind) > SHOWN_PER_KIND:
                warnings.append(
                    Problem(
                        name,
                        None,
                        None,
                        f"{PREFIX}{len(of_kind) - SHOWN_PER_KIND} more {kind.replace('_', ' ')} finding(s); "
                        "`xinedai-workflow diagram-layout FILE` redraws the diagram, "
                        "`diagram-check -v FILE` lists them all",
                    )
                )
    return warnings
