"""Deploy proves what it can: each broken compliance edit of issue 12's table is refused with the
file, the element or line and what to do; the good edits (a wait, a DMN threshold, a template's
wording) still pass. Runs the bundle checks the service runs, without a database."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import PROCESSES
from xinedai_workflow.channels.operations import OPERATION_CHANNELS
from xinedai_workflow.definitions.service import read_bundle_dir
from xinedai_workflow.domain.templates import make_environment
from xinedai_workflow.engine import BundleInvalid, Problem, SpecChecker, parse_bundle
from xinedai_workflow.engine.sandbox import SandboxEnvironment, ScriptRejected, check_script
from xinedai_workflow.engine.template_checks import template_check
from xinedai_workflow.engine.xmlsafe import parse_untrusted_xml
from xinedai_workflow.runtime.script_helpers import CONTEXT_KEYS, HELPER_NAMES

CHECKER = SpecChecker(HELPER_NAMES, OPERATION_CHANNELS)
TEMPLATES = template_check(CONTEXT_KEYS, make_environment)


def problems_after(file: str, old: str, new: str) -> list[Problem]:
    files = read_bundle_dir([PROCESSES])
    text = files[file].decode("utf-8")
    assert text.count(old) >= 1, old
    files[file] = text.replace(old, new, 1).encode("utf-8")
    try:
        parse_bundle(files, CHECKER, [TEMPLATES])
    except BundleInvalid as err:
        return err.problems
    return []


def test_the_shipped_bundle_has_no_problem() -> None:
    files = read_bundle_dir([PROCESSES])
    assert TEMPLATES(files) == []
    bundle = parse_bundle(files, CHECKER, [TEMPLATES])
    assert bundle.main_key == "xinedai_overdue" and bundle.warnings == []


def line_of(file: str, text: str) -> int:
    """The 1-based line of the shipped file `file` holding `text` first."""
    lines = (PROCESSES / file).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


def test_a_jinja_syntax_error_names_the_template_and_line() -> None:
    found = problems_after("templates/sms_reminder.txt.j2", "{{ hotline }}", "{{ hotline }")
    expected_line = line_of("templates/sms_reminder.txt.j2", "{{ hotline }}")
    assert [(p.file, p.line) for p in found] == [("templates/sms_reminder.txt.j2", expected_line)]
    assert "template syntax error" in found[0].message and "fix the Jinja2 markup" in found[0].message


def test_a_template_variable_no_context_holds_is_named() -> None:
    found = problems_after(
        "templates/sms_reminder.txt.j2", "{{ hotline }}", "{{ hotline }}{{ loyalty_points }}"
    )
    expected_line = line_of("templates/sms_reminder.txt.j2", "{{ hotline }}")
    assert [(p.file, p.line) for p in found] == [("templates/sms_reminder.txt.j2", expected_line)]
    assert "'loyalty_points'" in found[0].message and "amount_owed" in found[0].message
    assert "| default('')" in found[0].message


def test_an_optional_variable_under_a_guard_is_not_a_problem() -> None:
    guarded = "{{ hotline }}{% if loyalty_points is defined %}（积分{{ loyalty_points }}）{% endif %}"
    assert problems_after("templates/sms_reminder.txt.j2", "{{ hotline }}", guarded) == []
    defaulted = "{{ hotline }}{{ loyalty_points | default('') }}"
    assert problems_after("templates/sms_reminder.txt.j2", "{{ hotline }}", defaulted) == []


@pytest.mark.parametrize(
    ("old", "new", "element", "says"),
    [
        (  # an unquoted duration says to quote it
            "<bpmn:timeDuration>call_retry_wait</bpmn:timeDuration>",
            "<bpmn:timeDuration>P3D</bpmn:timeDuration>",
            "retry_wait",
            'write the duration in quotes: "P3D"',
        ),
        (  # a start default must be a literal
            '<spiffworkflow:property name="default.prior_overdue_count" value="0"/>',
            '<spiffworkflow:property name="default.prior_overdue_count" value="count()"/>',
            "start",
            "start default 'prior_overdue_count' = 'count()' is not a Python literal",
        ),
    ],
    ids=["unquoted-duration", "start-default"],
)
def test_a_bad_diagram_value_is_refused_on_its_element(old: str, new: str, element: str, says: str) -> None:
    found = problems_after("xinedai_overdue.bpmn", old, new)
    assert [(p.file, p.element_id) for p in found] == [("xinedai_overdue.bpmn", element)]
    assert found[0].line is not None
    assert says in found[0].message


def test_a_quoted_literal_of_the_wrong_kind_is_refused() -> None:
    found = problems_after(
        "xinedai_overdue.bpmn",
        "<bpmn:timeDuration>call_retry_wait</bpmn:timeDuration>",
        '<bpmn:timeDuration>"3 days"</bpmn:timeDuration>',
    )
    assert [p.element_id for p in found] == ["retry_wait"]
    assert "not a valid ISO-8601 duration" in found[0].message and '"P3D"' in found[0].message


def test_a_dmn_cell_that_computes_instead_of_testing_names_file_row_and_line() -> None:
    found = problems_after("segmentation.dmn", "<text>&lt;= 5000</text>", "<text>&gt;&gt; 10000</text>")
    assert len(found) == 1
    assert found[0].file == "segmentation.dmn" and found[0].line is not None
    assert "'>> 10000'" in found[0].message and "row" in found[0].message
    assert "write a comparison" in found[0].message


def test_a_dmn_cell_comparing_a_number_column_with_text_is_refused() -> None:
    found = problems_after("segmentation.dmn", "<text>&lt;= 5000</text>", '<text>"5000"</text>')
    assert len(found) == 1 and "the column is number" in found[0].message


def test_a_flow_to_a_missing_element_names_the_flow_and_the_id() -> None:
    found = problems_after("xinedai_overdue.bpmn", 'targetRef="assess', 'targetRef="nowhere')
    assert len(found) == 1, found
    assert found[0].element_id == "fa1" and found[0].file == "xinedai_overdue.bpmn"
    assert "'nowhere'" in found[0].message and "sequence flow 'fa1'" in found[0].message
    assert "perhaps a form has the same ID" not in found[0].message


def test_a_duplicate_id_names_both_lines() -> None:
    found = problems_after("xinedai_overdue.bpmn", 'id="fa1"', 'id="fa2"')
    assert any("used twice" in p.message and p.element_id == "fa2" for p in found), found


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        # a wait: the call task is due in 4 hours
        (
            "xinedai_overdue.bpmn",
            '<spiffworkflow:property name="dueIn" value="P1D"/>',
            '<spiffworkflow:property name="dueIn" value="PT4H"/>',
        ),
        # a quoted timer literal instead of the DMN's wait
        (
            "xinedai_overdue.bpmn",
            "<bpmn:timeDuration>call_retry_wait</bpmn:timeDuration>",
            '<bpmn:timeDuration>"P3D"</bpmn:timeDuration>',
        ),
        # a DMN threshold
        ("segmentation.dmn", "<text>&lt;= 5000</text>", "<text>&lt;= 2000</text>"),
        # a template's wording
        ("templates/sms_reminder.txt.j2", "如已还款，请忽略本短信。", "如您已还款，请忽略本短信，谢谢。"),
    ],
)
def test_good_edits_still_pass(file: str, old: str, new: str) -> None:
    assert problems_after(file, old, new) == []


XML = '<?xml version="1.0" encoding="{enc}"?>\n<a id="x">{text}</a>'


@pytest.mark.parametrize(
    ("encoding", "text"), [("ISO-8859-1", "café"), ("windows-1252", "€ 5"), ("GB18030", "逾期")]
)
def test_ascii_compatible_encodings_are_read(encoding: str, text: str) -> None:
    tree, problems = parse_untrusted_xml(XML.format(enc=encoding, text=text).encode(encoding), "a.bpmn")
    assert problems == [] and tree is not None and tree.getroot().text == text


def test_a_doctype_in_latin1_is_still_refused() -> None:
    content = '<?xml version="1.0" encoding="ISO-8859-1"?>\n<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'
    tree, problems = parse_untrusted_xml(content.encode("latin-1"), "a.bpmn")
    assert tree is None and problems[0].line == 2 and "DTD" in problems[0].message


def test_utf7_is_refused_with_what_to_do() -> None:
    tree, problems = parse_untrusted_xml(b'<?xml version="1.0" encoding="UTF-7"?><a/>', "a.bpmn")
    assert tree is None and "save the file as UTF-8" in problems[0].message


def _run(script: str) -> dict[str, object]:
    context: dict[str, object] = {}
    SandboxEnvironment({}).execute(script, context)
    return context


def test_a_parameter_named_input_is_allowed_and_the_builtin_is_not() -> None:
    assert _run("def twice(input):\n    return input * 2\nx = twice(3)")["x"] == 6
    assert _run("input = 'a'\ny = input")["y"] == "a"
    forbidden: list[Callable[[], None]] = [
        lambda: check_script("x = input()"),
        lambda: check_script("t = type(1)"),
    ]
    for attempt in forbidden:
        with pytest.raises(ScriptRejected):
            attempt()


def test_a_dmn_file_without_a_decision_is_refused_not_a_crash() -> None:
    files = read_bundle_dir([PROCESSES])
    files["empty.dmn"] = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x"/>'
    )
    try:
        parse_bundle(files, CHECKER, [TEMPLATES])
    except BundleInvalid as err:
        assert [(p.file, p.message) for p in err.problems] == [
            ("empty.dmn", "the DMN file holds no <decision>: add one or leave the file out")
        ]
    else:
        raise AssertionError("a DMN file without a decision was accepted")
