import io
import re
from typing import Any

import pytest

from xinedai_workflow.documents import render_demand_letter_pdf
from xinedai_workflow.documents.fonts import FontUnavailable, packaged_font_path, resolve_fonts
from xinedai_workflow.documents.letter_pdf import parse_letter_text
from xinedai_workflow.domain.interest import compute_claim

pypdf = pytest.importorskip("pypdf")


def letter_context() -> dict[str, Any]:
    claim = compute_claim(
        "50000.00",
        "787.50",
        "2025-03-15",
        "2026-01-20",
        "0.063",
        payments=[{"paid_on": "2025-06-20", "amount": "3000.00"}],
        itemise="month",
    )
    return {
        "bank_name": "某银行",
        "bank_branch": "北京分行",
        "bank_address": "北京市西城区金融大街1号",
        "bank_postcode": "100033",
        "hotline": "95000",
        "letter_no": "XED-CS-2026-000123",
        "letter_date": "2026-01-20",
        "borrower_name": "张三",
        "borrower_address": "北京市海淀区中关村大街100号1单元101室",
        "borrower_postcode": "100080",
        "contract_no": "XED-2024-0001234",
        "contract_date": "2024-03-15",
        "loan_amount": "60000.00",
        "claim": claim,
        "respond_by": "2026-02-05",
        "contact_person": "李四",
        "contact_phone": "010-66000000",
        "repayment_account": {
            "name": "张三",
            "number": "6222 **** **** 1234",
            "bank": "某银行北京分行营业部",
        },
    }


def extract(pdf: bytes) -> tuple[int, str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), re.sub(r"\s+", "", text)


def test_renders_a_valid_pdf_with_the_letter_text() -> None:
    pdf = render_demand_letter_pdf(letter_context())
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    pages, text = extract(pdf)
    assert pages >= 1
    for expected in (
        "某银行",  # letterhead
        "编号：XED-CS-2026-000123",
        "日期：2026年1月20日",
        "张三（收）",
        "催款通知书",
        "XED-2024-0001234",
        "51,837.79",
        "罚息",
        "复利",
        "9.45%",
        "4,050.29",  # table total
        "未超过上限",
        "全国法院民商事审判工作会议纪要》第五十一条",
        "延长还款期限",
        "2026年2月5日前",
        "某银行北京分行（盖章）",
        f"第1页共{pages}页",
    ):
        assert expected in text, expected


def test_explicit_template_text_and_determinism() -> None:
    template = (
        "尊敬的{{ borrower_name }}：\n\n一、欠款\n"
        "　　合计{{ claim.outstanding.total | money }}元。\n"
        "|甲|乙|\n|---|---|\n|1|2|\n"
    )
    first = render_demand_letter_pdf(letter_context(), template)
    assert first == render_demand_letter_pdf(
        letter_context(), template
    )  # same input, same bytes (hashable evidence)
    pages, text = extract(first)
    assert pages == 1
    assert "合计51,837.79元" in text and "一、欠款" in text


def test_long_claims_flow_onto_more_pages_with_numbers() -> None:
    ctx = letter_context()
    ctx["claim"] = compute_claim("50000.00", "787.50", "2022-01-15", "2026-01-20", "0.063", itemise="month")
    pages, text = extract(render_demand_letter_pdf(ctx))
    assert pages >= 3
    assert f"第{pages}页共{pages}页" in text


def test_parse_letter_text() -> None:
    blocks = parse_letter_text(
        "尊敬的张三：\n\n　　正文。\n一、标题\n| a | b |\n|---|---|\n| 1 | 2 |\n\n　　（1）项目。\n"
    )
    assert [(b.kind, b.text) for b in blocks] == [
        ("para", "尊敬的张三："),
        ("indent", "正文。"),
        ("heading", "一、标题"),
        ("table", ""),
        ("indent", "（1）项目。"),
    ]
    assert blocks[3].rows == (("a", "b"), ("1", "2"))


def _fonts(reader: Any) -> list[Any]:
    """Every font dictionary of every page (descendants of composite fonts included)."""
    found = []
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        for ref in (resources.get("/Font") or {}).values():
            font = ref.get_object()
            found.append(font)
            found += [d.get_object() for d in font.get("/DescendantFonts") or []]
    return found


def test_every_font_is_embedded_and_the_file_is_pdfa_2b() -> None:
    reader = pypdf.PdfReader(io.BytesIO(render_demand_letter_pdf(letter_context())))
    fonts = _fonts(reader)
    assert fonts
    for font in fonts:
        if font["/Subtype"] == "/Type0":
            continue  # its glyphs live in the descendant, checked on its own
        descriptor = font["/FontDescriptor"].get_object()
        assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), font["/BaseFont"]
        assert "WenQuanYi" in str(font["/BaseFont"]) or str(font["/BaseFont"]).startswith("/AAAAAA")
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    assert "<pdfaid:part>2</pdfaid:part>" in xmp and "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    assert (
        "催款通知书 XED-CS-2026-000123" in xmp
        and reader.metadata["/Title"] == "催款通知书 XED-CS-2026-000123"
    )
    (intent,) = reader.trailer["/Root"]["/OutputIntents"]
    intent = intent.get_object()
    assert intent["/S"] == "/GTS_PDFA1" and intent["/DestOutputProfile"].get_object()["/N"] == 3
    assert "/ID" in reader.trailer and not reader.is_encrypted


def test_the_packaged_font_is_checked_and_a_missing_font_is_an_error() -> None:
    fonts = resolve_fonts()
    assert packaged_font_path().name == "wqy-microhei.ttc" and fonts.source == str(packaged_font_path())
    with pytest.raises(FontUnavailable):
        resolve_fonts("/nonexistent/font.ttf")
