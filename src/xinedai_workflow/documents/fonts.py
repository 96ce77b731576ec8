"""The fonts every PDF of the service embeds (as subsets), so a document renders on any machine.

The default is WenQuanYi Micro Hei (文泉驿微米黑, Apache-2.0 / GPLv3 with the font exception),
installed with the service from PyPI (``paperang-p2-fonts-cjk``). It has TrueType outlines,
which reportlab can subset and embed; CFF-based OpenType fonts (Noto CJK ``.otf``) it cannot. The
file must be byte-identical to Debian's ``fonts-wqy-microhei`` 0.2.0-beta-3.1 (sha256 below):
a document whose hash goes into an evidence package must not change with a font upgrade.

``XINEDAI_PDF_FONT`` (and ``XINEDAI_PDF_FONT_HEADING``) name another TrueType font or a ``.ttc``
as ``path`` or ``path#index``, e.g. a licensed 宋体. No font found is an error: a PDF that does
not embed its fonts is never produced.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

PACKAGED_FONT = ("paperang_p2_fonts_cjk", "fonts/wqy-microhei.ttc")
PACKAGED_FONT_SHA256 = "2420e8078af796b19a3f6ef13de527a1a91c1e7171eea115926c614ced1009b3"
# The same file where Debian installs it (fonts-wqy-microhei), for a machine without the package.
SYSTEM_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


class FontUnavailable(RuntimeError):
    """No embeddable font could be loaded."""


@dataclass(frozen=True)
class DocumentFonts:
    """Registered reportlab font names and the files they come from."""

    body: str
    heading: str
    source: str


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=16)
def _register(path: str, index: int) -> str:
    name = "XED-" + hashlib.sha1(f"{path}#{index}".encode()).hexdigest()[:10]
    try:
        pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
    except (TTFError, OSError) as exc:
        raise FontUnavailable(f"{path}#{index} is not an embeddable TrueType font: {exc}") from exc
    return name


def _explicit(spec: str) -> str:
    path, _, index = spec.partition("#")
    if not Path(path).is_file():
        raise FontUnavailable(f"font file {path!r} does not exist")
    return _register(path, int(index or 0))


@functools.lru_cache(maxsize=1)
def packaged_font_path() -> Path:
    """The WenQuanYi Micro Hei file shipped with the service, checked against its sha256."""
    package, name = PACKAGED_FONT
    candidates: list[Path] = []
    with contextlib.suppress(ModuleNotFoundError):  # not installed: Debian's copy may be there
        candidates.append(Path(str(resources.files(package).joinpath(name))))
    candidates.append(Path(SYSTEM_FONT))
    for path in candidates:
        if path.is_file():
            if _sha256(path) != PACKAGED_FONT_SHA256:
                raise FontUnavailable(f"{path} is not the expected WenQuanYi Micro Hei 0.2.0-beta (sha256)")
            return path
    raise FontUnavailable(
        "no CJK font: install the service's dependencies (paperang-p2-fonts-cjk) or set XINEDAI_PDF_FONT"
    )


def resolve_fonts(font_path: str | None = None) -> DocumentFonts:
    """Register and name the body and heading fonts (``font_path`` overrides the body font)."""
    body_spec = font_path or os.environ.get("XINEDAI_PDF_FONT")
    if body_spec:
        body, source = _explicit(body_spec), body_spec
    else:
        path = packaged_font_path()
        body, source = _register(str(path), 0), str(path)
    heading_spec = os.environ.get("XINEDAI_PDF_FONT_HEADING")
    heading = _explicit(heading_spec) if heading_spec else body
    return DocumentFonts(body=body, heading=heading, source=source)
