"""Template lint: required elements and prohibited wording, with the rules of the policy file."""

from __future__ import annotations

from pathlib import Path

import pytest

from xinedai_workflow.domain.policy_file import load_policy, parse_policy
from xinedai_workflow.domain.template_lint import (
    LintRules,
    lint_template,
    lint_templates,
    template_kind_from_name,
)

ROOT = Path(__file__).resolve().parents[2]
POLICY_PATH = ROOT / "processes" / "contact_policy.yaml"
RULES: LintRules = load_policy(POLICY_PATH).lint

GOOD_SMS = "【{{ bank_name }}】您的薪e贷已逾期，应还金额{{ claim.total | money }}元，请通过手机银行还款。"
GOOD_EMAIL = """Subject: {{ bank_name }} 薪e贷逾期提醒
尊敬的{{ borrower.name }}：
您的贷款已逾期 {{ days_past_due }} 天，欠款金额 {{ amount_owed | money }} 元。
还款方式：登录手机银行或前往营业网点。
如一次性还款有困难，可与我行协商分期或调整还款计划。
"""
GOOD_LETTER = """催款通知书
{{ bank_name }}
{{ borrower.name }}：
截至{{ as_of | cn_date }}，您尚欠{{ claim.total | money }}元。
请将款项存入还款账户 {{ repayment_account }}。
如有困难，请在收到本通知后与我行协商分期还款方案。逾期不还，我行将依法向人民法院提起诉讼，
并申请强制执行；生效判决未履行的，可能被纳入失信被执行人名单，并影响您的征信记录。
本通知不涉及刑事责任的认定。
{# 不得写“坐牢”“上门”之类的话 #}
"""
GOOD_CALL_SCRIPT = """开场：您好，我是{{ bank_name }}的工作人员，工号{{ agent_id }}。
原因：您的薪e贷已逾期，欠款金额{{ amount_owed | money }}元。
后果：会产生罚息并影响征信记录。
方案：可以协商分期或延期还款；还款方式为手机银行转账或登录薪e贷APP还款。
"""
GOOD = {
    "sms_reminder.j2": GOOD_SMS,
    "email_reminder.j2": GOOD_EMAIL,
    "demand_letter.j2": GOOD_LETTER,
    "call_script_first.j2": GOOD_CALL_SCRIPT,
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_good_fixtures_pass(name: str) -> None:
    assert lint_template(name, GOOD[name], template_kind_from_name(name), RULES) == []


def test_threat_is_refused_naming_phrase_and_line() -> None:
    text = GOOD_SMS + "\n再不还款，后果自负！\n"
    problems = lint_templates({"sms_final.j2": text}, RULES)
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.file, problem.line, problem.phrase, problem.rule) == (
        "sms_final.j2",
        2,
        "后果自负",
        "threat",
    )
    assert "后果自负" in problem.message and "line 2" in problem.message
    assert problem.as_detail() == {
        "file": "sms_final.j2",
        "line": 2,
        "element_id": "threat",
        "message": problem.message,
    }
    assert str(problem).startswith("sms_final.j2:2: ")


@pytest.mark.parametrize(
    ("text", "phrase", "rule", "line"),
    [
        ("第一行\n否则我们将派人上门。", "上门", "threat", 2),
        ("你将被追究刑 事 责 任", "刑事责任", "false_criminal_claim", 1),
        ("你将被追究刑事\n责任", "刑事责任", "false_criminal_claim", 1),
        ("等着坐\u3000牢吧", "坐牢", "false_criminal_claim", 1),
        ("我们会报\u200b警", "报警", "false_criminal_claim", 1),
        ("a\nb\nYou may be ＡＲＲＥＳＴＥＤ.", "arrest", "false_criminal_claim", 3),
        ("We will send you to jail", "jail", "false_criminal_claim", 1),
        ("你这个老赖", "老赖", "insult", 1),
        ("我们将通知您的家人和单位", "通知*家人", "third_party_disclosure", 1),
        ("We will tell your employer about this.", "tell * employer", "third_party_disclosure", 1),
        ("我们会把你曝光到网上", "曝光", "public_shaming", 1),
        ("Pay now or else.", "or else", "threat", 1),
    ],
)
def test_prohibited_wording_is_found_whatever_the_spacing_or_width(
    text: str, phrase: str, rule: str, line: int
) -> None:
    problems = lint_template("x.j2", text, None, RULES)
    assert (phrase, rule, line) in {(p.phrase, p.rule, p.line) for p in problems}, problems


@pytest.mark.parametrize(
    "text",
    [
        "逾期不还，我行将依法向人民法院提起诉讼并申请强制执行。",
        "可能被纳入失信被执行人名单，影响征信。",
        "本事项不涉及刑事责任。",
        "请登录我行线上门户还款。",
        "Please pay here or elsewhere; this is not a criminal matter.",
        "We may take legal action in court.",
        "{# 不要说：后果自负、坐牢 #}您好。",
    ],
)
def test_legitimate_wording_passes(text: str) -> None:
    assert lint_template("x.j2", text, None, RULES) == []


def test_missing_required_elements_are_named() -> None:
    problems = lint_template("email_bad.j2", "您好，请尽快处理。", "email", RULES)
    assert {p.rule for p in problems} == {"bank_identity", "amount_owed", "how_to_pay", "options"}
    assert all(p.line is None and p.phrase is None for p in problems)
    sms = lint_template("sms_bad.j2", "{{bank_name}}: 应还金额{{amount_due}}", "sms", RULES)
    assert [p.rule for p in sms] == ["how_to_pay"]  # an SMS need not list the options


def test_jinja_variable_alternatives_match_any_spacing() -> None:
    text = "{{- bank_name | e }} {{claim.total|money}} {{ repayment_url }}"
    assert lint_template("sms_x.j2", text, "sms", RULES) == []
    in_statement = "{% set bank = bank_name | default('某') %}{{ bank }} {{ claim.total }} {{ pay_url }}"
    assert lint_template("sms_x.j2", in_statement, "sms", RULES) == []
    commented = "{# {{ bank_name }} #} {{claim.total|money}} {{ repayment_url }}"
    assert [p.rule for p in lint_template("sms_x.j2", commented, "sms", RULES)] == ["bank_identity"]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("sms_first_reminder.j2", "sms"),
        ("processes/templates/email_reminder.txt.j2", "email"),
        ("demand_letter.j2", "letter"),
        ("letter_formal.md.j2", "letter"),
        ("call_script_first_call.j2", "call_script"),
        ("voice_reminder.txt.j2", "voice"),
        ("instructions_review.j2", None),
    ],
)
def test_template_kind_from_name(name: str, kind: str | None) -> None:
    assert template_kind_from_name(name) == kind


def test_a_voice_message_without_the_amount_or_with_a_threat_is_refused() -> None:
    good = (ROOT / "processes" / "templates" / "voice_reminder.txt.j2").read_text(encoding="utf-8")
    assert lint_template("voice_reminder.txt.j2", good, "voice", RULES) == []
    no_amount = good.replace("当前应还金额{{ amount_owed | money }}元。", "")
    assert [p.rule for p in lint_template("voice_x.j2", no_amount, "voice", RULES)] == ["amount_owed"]
    threat = good.replace("如已还款，请忽略本来电。", "否则后果自负。")
    assert [p.rule for p in lint_template("voice_x.j2", threat, "voice", RULES)] == ["threat"]


def _repository_templates() -> list[Path]:
    return sorted((ROOT / "processes" / "templates").glob("**/*.j2"))


@pytest.mark.parametrize("path", _repository_templates(), ids=lambda p: p.name)
def test_repository_templates_pass(path: Path) -> None:
    problems = lint_template(
        path.name, path.read_text(encoding="utf-8"), template_kind_from_name(path.name), RULES
    )
    assert problems == [], "\n".join(str(p) for p in problems)


def test_policy_file_refuses_an_empty_phrase() -> None:
    text = POLICY_PATH.read_text(encoding="utf-8").replace("phrases: [上门,", 'phrases: ["*", 上门,', 1)
    bundle, problems = parse_policy(text)
    assert bundle is None
    assert problems[0].element_id == "templates.prohibited[0].phrases[0]"
    assert problems[0].line == text[: text.index('phrases: ["*"')].count("\n") + 1
