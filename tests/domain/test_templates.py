import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from xinedai_workflow.domain.interest import compute_claim
from xinedai_workflow.domain.templates import (
    DEFAULT_TEMPLATE_DIR,
    TemplateRenderer,
    TemplateRenderError,
    cn_date_filter,
    money_filter,
    render_string,
    render_template,
)

TEMPLATES = ("sms_reminder", "email_reminder", "call_script", "demand_letter")

# Wording that must never appear: threats, insults, arrest/criminal claims, third-party disclosure.
PROHIBITED = (
    "逮捕",
    "拘留",
    "坐牢",
    "判刑",
    "刑事",
    "犯罪",
    "公安",
    "警察",
    "上门",
    "曝光",
    "通讯录",
    "亲友",
    "家人",
    "同事",
    "领导",
    "老赖",
    "骗子",
    "无赖",
    "后果自负",
    "走着瞧",
    "别怪",
    "威胁",
    "恐吓",
    "暴力",
    "黑名单",
    "朋友圈",
    "群发",
    "报警",
    "监狱",
    "入狱",
    "通缉",
)


def context(**overrides: Any) -> dict[str, Any]:
    claim = compute_claim(
        "50000.00",
        "787.50",
        "2025-03-15",
        "2026-01-20",
        "0.063",
        payments=[{"paid_on": "2025-06-20", "amount": "3000.00"}],
    )
    base: dict[str, Any] = {
        "bank_name": "某银行",
        "bank_branch": "北京分行",
        "hotline": "95000",
        "borrower_name": "张三",
        "borrower_address": "北京市海淀区中关村大街100号",
        "contract_no": "XED-2024-0001234",
        "contract_tail": "1234",
        "contract_date": "2024-03-15",
        "loan_amount": "60000.00",
        "due_date": claim["due_date"],
        "days_overdue": claim["days_overdue"],
        "amount_owed": claim["outstanding"]["total"],
        "overdue_principal": claim["outstanding"]["principal"],
        "agent_name": "王五",
        "letter_no": "XED-CS-2026-000123",
        "letter_date": "2026-01-20",
        "respond_by": "2026-02-05",
        "claim": claim,
    }
    return base | overrides


@pytest.fixture(scope="module")
def renderer() -> TemplateRenderer:
    return TemplateRenderer.from_directory(DEFAULT_TEMPLATE_DIR)


def test_all_templates_are_present(renderer: TemplateRenderer) -> None:
    assert set(renderer.names()) >= {
        "sms_reminder.txt.j2",
        "email_reminder.txt.j2",
        "call_script.md.j2",
        "demand_letter.txt.j2",
    }


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_template_has_the_required_content(renderer: TemplateRenderer, name: str) -> None:
    text = renderer.render(name, context())
    assert "某银行" in text  # bank identity
    assert "51,837.79" in text  # amount owed
    assert "95000" in text  # hotline
    assert "还款" in text and ("手机银行" in text or "还款账户" in text)  # how to pay
    assert "延长还款期限" in text and "分期" in text and "调整还款计划" in text  # the borrower's options
    assert "罚息" in text  # consequence stated truthfully
    for word in PROHIBITED:
        assert word not in text, f"{name} contains prohibited wording {word!r}"


@pytest.mark.parametrize("name", TEMPLATES)
def test_templates_do_not_contain_prohibited_wording_at_all(name: str) -> None:
    source = next(DEFAULT_TEMPLATE_DIR.glob(f"{name}.*j2")).read_text(encoding="utf-8")
    for word in PROHIBITED:
        assert word not in source


def test_bank_name_has_a_neutral_default(renderer: TemplateRenderer) -> None:
    ctx = context()
    del ctx["bank_name"]
    assert renderer.render("sms_reminder", ctx).startswith("【某银行】")
    assert renderer.render("sms_reminder", context(bank_name="示例银行")).startswith("【示例银行】")


def test_sms_is_short(renderer: TemplateRenderer) -> None:
    assert len(renderer.render("sms_reminder", context()).strip()) <= 210  # at most three SMS segments


def test_call_script_confirms_the_right_party_before_the_debt(renderer: TemplateRenderer) -> None:
    text = renderer.render("call_script", context())
    identity = text.index("请问您是张三本人吗")
    assert identity < text.index("逾期") and identity < text.index("51,837.79")
    wrong_party = text[text.index("如对方不是本人") : text.index("## 2.")]
    assert "逾期" not in wrong_party and "欠款信息" in wrong_party  # only says it will not disclose
    assert re.search(r"##\s*7\.\s*结束语", text)


def test_demand_letter_has_the_table_cap_statement_and_deadline(renderer: TemplateRenderer) -> None:
    text = renderer.render("demand_letter", context())
    assert "催款通知书" in text and "编号：XED-CS-2026-000123" in text
    assert "| 起始日 | 截止日 | 天数 | 计息基数（元） | 年利率 | 类别 | 金额（元） |" in text
    assert "| 2025-03-15 | 2025-06-20 | 97 | 50,000.00 | 9.45% | 罚息 | 1,273.13 |" in text
    assert "第五十一条" in text and "以逾期本金（按每日实际余额）为基数" in text and "未超过上限" in text
    assert "人民币伍万壹仟捌佰叁拾柒元柒角玖分" in text
    assert "2026年2月5日前" in text
    assert "（盖章）" in text
    pdf_body = renderer.render("demand_letter", context(for_pdf=True))
    assert "（盖章）" not in pdf_body and pdf_body.lstrip().startswith("尊敬的张三")


def test_demand_letter_states_the_capped_claim() -> None:
    claim = compute_claim("10000.00", "2000.00", "2025-01-01", "2025-12-27", "0.15", fees="100.00")
    text = render_template("demand_letter", context(claim=claim))
    assert "按年利率24%计算，上限金额2,400.00元" in text and "超过上限" in text and "及费用合计" in text
    assert "您应还金额为人民币12,400.00元" in text
    assert "费用100.00元" in text


def test_strict_undefined(renderer: TemplateRenderer) -> None:
    ctx = context()
    del ctx["borrower_name"]
    with pytest.raises(TemplateRenderError, match="borrower_name"):
        renderer.render("sms_reminder", ctx)
    with pytest.raises(TemplateRenderError):
        renderer.render("no_such_template", ctx)


def test_loading_from_a_mapping_and_suffix_resolution() -> None:
    r = TemplateRenderer.from_mapping(
        {"hello.txt.j2": "{{ name }}欠款{{ amount | money }}元，{{ day | cn_date }}"}
    )
    assert (
        r.render("hello", {"name": "甲", "amount": "1234.5", "day": date(2026, 11, 20)})
        == "甲欠款1,234.50元，2026年11月20日"
    )
    both = TemplateRenderer(templates={"sms_reminder.txt.j2": "override"}, directory=DEFAULT_TEMPLATE_DIR)
    assert both.render("sms_reminder", {}) == "override"
    assert "call_script.md.j2" in both.names()


def test_directory_loading(tmp_path: Path) -> None:
    (tmp_path / "x.txt.j2").write_text("{{ v | pct }}", encoding="utf-8")
    assert render_template("x", {"v": "0.0945"}, directory=tmp_path) == "9.45%"


def test_sandbox_blocks_unsafe_access_and_mutation() -> None:
    with pytest.raises(TemplateRenderError):
        render_string("{{ ''.__class__.__mro__[1].__subclasses__() }}", {})
    with pytest.raises(TemplateRenderError):
        render_string("{{ items.append(1) }}", {"items": [1]})
    with pytest.raises(TemplateRenderError):
        render_string("{{ d.update(a=1) }}", {"d": {}})


def test_filters() -> None:
    assert money_filter("1234567.891") == "1,234,567.89"
    assert money_filter(Decimal("0.005")) == "0.01"
    assert money_filter(12) == "12.00"
    with pytest.raises(ValueError):
        money_filter(1.5)
    assert cn_date_filter("2026-11-20") == "2026年11月20日"
    assert cn_date_filter(datetime(2026, 1, 5, 9, 30)) == "2026年1月5日"
    assert cn_date_filter("2026-01-05T09:30:00+08:00") == "2026年1月5日"
    assert (
        render_string("{{ a | money_words }}|{{ a | money_plain }}", {"a": "1004.5"})
        == "人民币壹仟零肆元伍角整|1004.50"
    )
    with pytest.raises(TemplateRenderError):
        render_string("{{ a | money }}", {"a": 1.1})
