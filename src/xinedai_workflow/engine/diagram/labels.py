"""How big bpmn-js draws a name: the estimate both the checker and the layouter use."""

from __future__ import annotations

import unicodedata

from .geometry import Point, Rect

LABEL_WIDTH = 90.0  # bpmn-js wraps external labels at this width
LINE_HEIGHT = 14.0
FONT_WIDE = 11.0  # a CJK character at bpmn-js's 11px font
FONT_NARROW = 6.0  # an average Latin character


def _char_width(char: str) -> float:
    return FONT_WIDE if unicodedata.east_asian_width(char) in ("W", "F") else FONT_NARROW


def text_size(text: str, max_width: float = LABEL_WIDTH) -> tuple[float, float]:
    """Width and height of `text` wrapped at word (or wide-character) boundaries to `max_width`."""
    lines: list[float] = []
    for paragraph in text.splitlines() or [""]:
        current = 0.0
        for word in _words(paragraph):
            width = sum(_char_width(c) for c in word)
            if current and current + width > max_width:
                lines.append(current)
                current = width.__abs__() if word != " " else 0.0
            else:
                current += width
            while current > max_width:  # one word longer than a line: bpmn-js breaks it
                lines.append(max_width)
                current -= max_width
        lines.append(current)
    width = max(lines) if lines else 0.0
    return (max(width, 10.0), LINE_HEIGHT * max(1, len(lines)))


def _words(text: str) -> list[str]:
    """Words with their trailing space; every wide character is a word of its own."""
    words: list[str] = []
    current = ""
    for char in text:
        if unicodedata.east_asian_width(char) in ("W", "F"):
            if current:
                words.append(current)
                current = ""
            words.append(char)
        elif char == " ":
            words.append(current + " ")
            current = ""
        else:
            current += char
    if current:
        words.append(current)
    return words


def label_box(text: str, center: Point) -> Rect:
    """The box of a label of `text` centred on `center`."""
    width, height = text_size(text)
    return Rect(center[0] - width / 2, center[1] - height / 2, width, height)


def default_shape_label(text: str, bounds: Rect) -> Rect:
    """Where bpmn-js puts an event's or gateway's name when the DI gives no label bounds."""
    width, height = text_size(text)
    return Rect(bounds.center[0] - width / 2, bounds.bottom + 5, width, height)


def drilldown_box(bounds: Rect) -> Rect:
    """The drill-down button bpmn-js draws at a collapsed subprocess that has a plane of its own
    (not in the DI): a 20 px square, overlay position bottom -7, right -8, margin-left -20."""
    return Rect(bounds.right - 12, bounds.bottom + 7, 20, 20)
