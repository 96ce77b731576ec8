"""The demand letter (催款通知书) as a PDF.

The wording comes from the ``demand_letter.txt.j2`` template rendered with ``for_pdf=True``; this
module adds the letterhead, reference and date, addressee block, title, signature and seal area
and page numbers. Body text conventions: a line starting with two ideographic spaces is an
indented paragraph, a line like ``一、…`` is a heading, consecutive ``|`` lines form a table.

Fonts are always embedded as subsets (``documents/fonts.py``: WenQuanYi Micro Hei, installed
with the service, or ``XINEDAI_PDF_FONT``), and the file is PDF/A-2b (``documents/archival.py``),
so the letter renders the same on any machine and can be archived with its hash.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib import textsplit as rl_textsplit
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus import paragraph as rl_paragraph

from xinedai_workflow.documents.archival import DocumentInfo, make_pdfa
from xinedai_workflow.documents.fonts import DocumentFonts, resolve_fonts
from xinedai_workflow.domain.templates import DEFAULT_TEMPLATE_DIR, cn_date_filter, render_string

BRAND = colors.HexColor("#8B1A1A")
SEAL_RED = colors.HexColor("#C62828")
_PAGE_W, _PAGE_H = A4
_MARGIN_X = 22 * mm
_TOP = 38 * mm
_BOTTOM = 22 * mm

# reportlab's CJK line breaking knows Japanese punctuation only; without these a line can start
# with a Chinese full-width comma or semicolon, which no printed letter does (标点禁则).
_CN_CANNOT_START = "\uff0c\uff1b\uff1a\uff01\uff1f\u201d\u2019\u300b\u3009"
for _module in (rl_textsplit, rl_paragraph):
    if not set(_CN_CANNOT_START) <= set(_module.ALL_CANNOT_START):
        _module.ALL_CANNOT_START += _CN_CANNOT_START


@dataclass(frozen=True)
class Block:
    """A parsed piece of the letter body."""

    kind: str  # "heading" | "para" | "indent" | "table"
    text: str = ""
    rows: tuple[tuple[str, ...], ...] = ()


_HEADING_RE = re.compile(r"^[一二三四五六七八九十]+、")
_RULE_RE = re.compile(r"^\|?\s*:?-{3,}")


def parse_letter_text(text: str) -> list[Block]:
    """Split rendered letter text into headings, paragraphs and tables."""
    blocks: list[Block] = []
    table: list[tuple[str, ...]] = []
    for raw in [*text.splitlines(), ""]:
        line = raw.rstrip()
        if line.startswith("|"):
            if not _RULE_RE.match(line):
                table.append(tuple(cell.strip() for cell in line.strip("|").split("|")))
            continue
        if table:
            blocks.append(Block("table", rows=tuple(table)))
            table = []
        if not line.strip():
            continue
        if line.startswith("\u3000\u3000"):
            blocks.append(Block("indent", line.lstrip("\u3000 ")))
        elif _HEADING_RE.match(line):
            blocks.append(Block("heading", line.strip()))
        else:
            blocks.append(Block("para", line.strip()))
    return blocks


class _SignatureBlock(Flowable):
    """Bank name and date on the right with a dashed circle where the seal goes."""

    def __init__(self, signer: str, when: str, font: str, width: float) -> None:
        super().__init__()
        self.signer, self.when, self.font = signer, when, font
        self.width, self.height = width, 42 * mm

    def draw(self) -> None:
        c = self.canv
        right = self.width
        c.setFont(self.font, 11.5)
        c.setFillColor(colors.black)
        c.drawRightString(right, 24 * mm, self.signer)
        c.drawRightString(right, 16 * mm, self.when)
        text_width = max(pdfmetrics.stringWidth(t, self.font, 11.5) for t in (self.signer, self.when))
        cx, cy, r = right - text_width / 2, 21 * mm, 20 * mm
        c.setStrokeColor(SEAL_RED)
        c.setLineWidth(0.8)
        c.setDash(3, 2)
        c.circle(cx, cy, r)
        c.setDash()
        c.setFillColor(SEAL_RED)
        c.setFont(self.font, 8)
        c.drawCentredString(cx, cy + r - 6 * mm, "（银行公章）")


def _styles(fonts: DocumentFonts) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=fonts.body, fontSize=11, leading=19, wordWrap="CJK")
    return {
        "para": base,
        "indent": ParagraphStyle("indent", parent=base, firstLineIndent=22),
        "heading": ParagraphStyle(
            "heading", parent=base, fontName=fonts.heading, fontSize=11.5, spaceBefore=7, spaceAfter=2
        ),
        "title": ParagraphStyle(
            "title", parent=base, fontName=fonts.heading, fontSize=22, leading=30, alignment=TA_CENTER
        ),
        "meta": ParagraphStyle("meta", parent=base, fontSize=10, leading=15, alignment=TA_RIGHT),
        "address": ParagraphStyle("address", parent=base, fontSize=10.5, leading=16),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11),
        "cell_r": ParagraphStyle("cell_r", parent=base, fontSize=8.5, leading=11, alignment=TA_RIGHT),
    }


_NUMERIC = re.compile(r"^[\d,.%\-]+$")


def _table(
    rows: Sequence[Sequence[str]], fonts: DocumentFonts, styles: Mapping[str, ParagraphStyle]
) -> Table:
    width = _PAGE_W - 2 * _MARGIN_X
    ncols = max(len(r) for r in rows)
    weights = [1.35, 1.35, 0.7, 1.75, 1.0, 1.25, 1.6] if ncols == 7 else [1.0] * ncols
    col_widths = [width * w / sum(weights) for w in weights]
    data = [
        [
            Paragraph(escape(cell), styles["cell_r" if i and _NUMERIC.match(cell) else "cell"])
            for cell in (list(row) + [""] * (ncols - len(row)))
        ]
        for i, row in enumerate(rows)
    ]
    table = Table(data, colWidths=col_widths, repeatRows=1, hAlign="CENTER")
    style = [
        ("FONT", (0, 0), (-1, -1), fonts.body, 8.5),  # the cells' default, else Helvetica (not embedded)
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9E9E9E")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#F3E5E5")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if rows[-1] and rows[-1][0] in ("合计", "小计"):
        style.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#FAFAFA")))
        style.append(("LINEABOVE", (0, -1), (-1, -1), 0.9, colors.black))
    table.setStyle(TableStyle(style))
    return table


def _text(context: Mapping[str, Any], key: str, default: str = "") -> str:
    value = context.get(key, default)
    return "" if value is None else str(value)


def _canvas_class(fonts: DocumentFonts, reference: str) -> type[rl_canvas.Canvas]:
    class NumberedCanvas(rl_canvas.Canvas):
        """Defers page output so each footer can say 第 X 页 共 Y 页."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            # reportlab starts every page in Helvetica, a font it never embeds (PDF/A forbids that)
            kwargs["initialFontName"] = kwargs.get("initialFontName") or fonts.body
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(fonts.body, 8.5)
                self.setFillColor(colors.HexColor("#555555"))
                self.drawCentredString(_PAGE_W / 2, 12 * mm, f"第 {self._pageNumber} 页  共 {total} 页")
                if reference:
                    self.drawString(_MARGIN_X, 12 * mm, f"编号：{reference}")
                super().showPage()
            super().save()

    return NumberedCanvas


def _letterhead(context: Mapping[str, Any], fonts: DocumentFonts) -> Any:
    bank = _text(context, "bank_name", "某银行")
    branch = _text(context, "bank_branch")
    contact = "　".join(
        part
        for part in (
            f"地址：{context['bank_address']}" if context.get("bank_address") else "",
            f"邮编：{context['bank_postcode']}" if context.get("bank_postcode") else "",
            f"客服热线：{context['hotline']}" if context.get("hotline") else "",
        )
        if part
    )

    def draw(c: rl_canvas.Canvas, _doc: BaseDocTemplate) -> None:
        c.saveState()
        top = _PAGE_H - 16 * mm
        c.setFillColor(BRAND)
        c.setFont(fonts.heading, 18)
        c.drawString(_MARGIN_X, top, bank)
        if branch:
            c.setFont(fonts.heading, 12)
            c.drawString(_MARGIN_X + pdfmetrics.stringWidth(bank, fonts.heading, 18) + 3 * mm, top, branch)
        c.setFont(fonts.body, 8.5)
        c.setFillColor(colors.HexColor("#444444"))
        c.drawString(_MARGIN_X, top - 6.5 * mm, contact)
        c.setStrokeColor(BRAND)
        c.setLineWidth(1.6)
        c.line(_MARGIN_X, top - 10 * mm, _PAGE_W - _MARGIN_X, top - 10 * mm)
        c.setLineWidth(0.5)
        c.line(_MARGIN_X, top - 11.2 * mm, _PAGE_W - _MARGIN_X, top - 11.2 * mm)
        c.restoreState()

    return draw


def _default_template() -> str:
    path = DEFAULT_TEMPLATE_DIR / "demand_letter.txt.j2"
    if not path.is_file():
        raise FileNotFoundError(f"no template_text given and {path} does not exist")
    return path.read_text(encoding="utf-8")


def render_demand_letter_pdf(
    context: Mapping[str, Any],
    template_text: str | None = None,
    *,
    body_text: str | None = None,
    font_path: str | None = None,
) -> bytes:
    """Render the demand letter to PDF bytes (A4, deterministic for equal input).

    ``context`` is the ``demand_letter.txt.j2`` context; ``template_text`` defaults to that file
    under ``processes/templates``. ``body_text`` is the body already rendered with ``for_pdf``
    (the process renders it with the templates of the case's own version); then no template is read.
    """
    fonts = resolve_fonts(font_path)
    styles = _styles(fonts)
    if body_text is None:
        body_text = render_string(template_text or _default_template(), {**context, "for_pdf": True})
    reference = _text(context, "letter_no")
    signer = _text(context, "bank_name", "某银行") + _text(context, "bank_branch")
    when = cn_date_filter(context["letter_date"]) if context.get("letter_date") else ""
    width = _PAGE_W - 2 * _MARGIN_X

    story: list[Flowable] = [
        Paragraph(escape(f"编号：{reference}"), styles["meta"]),
        Paragraph(escape(f"日期：{when}"), styles["meta"]),
        Spacer(1, 2 * mm),
        Paragraph(escape(f"{_text(context, 'borrower_name')}（收）"), styles["address"]),
        Paragraph(escape(_text(context, "borrower_address")), styles["address"]),
    ]
    if context.get("borrower_postcode"):
        story.append(Paragraph(escape(f"邮编：{context['borrower_postcode']}"), styles["address"]))
    story += [Spacer(1, 7 * mm), Paragraph("催 款 通 知 书", styles["title"]), Spacer(1, 5 * mm)]
    for block in parse_letter_text(body_text):
        if block.kind == "table":
            story += [Spacer(1, 1.5 * mm), _table(block.rows, fonts, styles), Spacer(1, 2.5 * mm)]
        else:
            story.append(Paragraph(escape(block.text), styles[block.kind]))
    story.append(
        KeepTogether([Spacer(1, 6 * mm), _SignatureBlock(f"{signer}（盖章）", when, fonts.body, width)])
    )

    buffer = BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN_X,
        rightMargin=_MARGIN_X,
        topMargin=_TOP,
        bottomMargin=_BOTTOM,
        title=f"催款通知书 {reference}".strip(),
        author=signer,
        subject=f"{_text(context, 'borrower_name')} {_text(context, 'contract_no')}".strip(),
        creator="xinedai_workflow.documents.letter_pdf",
        invariant=True,
    )
    frame = Frame(
        _MARGIN_X, _BOTTOM, width, _PAGE_H - _TOP - _BOTTOM, id="body", leftPadding=0, rightPadding=0
    )
    doc.addPageTemplates([PageTemplate(id="letter", frames=[frame], onPage=_letterhead(context, fonts))])
    doc.build(story, canvasmaker=_canvas_class(fonts, reference))
    info = DocumentInfo(
        title=f"催款通知书 {reference}".strip(),
        author=signer,
        subject=f"{_text(context, 'borrower_name')} {_text(context, 'contract_no')}".strip(),
        creator="xinedai_workflow.documents.letter_pdf",
        created=_letter_moment(context),
    )
    return make_pdfa(buffer.getvalue(), info)


def _letter_moment(context: Mapping[str, Any]) -> datetime:
    """The letter's date as the document's creation time (deterministic for equal input)."""
    try:
        day = date.fromisoformat(str(context.get("letter_date"))[:10])
    except ValueError:
        day = date(2000, 1, 1)
    return datetime.combine(day, time(), UTC)
