"""PDF/A-2b for the service's documents: what reportlab does not write, added with pypdf.

reportlab (open-source) has no PDF/A mode. PDF/A-2b (ISO 19005-2, level B) asks, beyond embedded
fonts (``documents/fonts.py``): an XMP metadata packet naming the part and conformance, whose
title, author, producer and dates agree with the document information dictionary; an output
intent with an ICC profile, since the pages paint in DeviceRGB; a file identifier; no encryption,
JavaScript or external content (reportlab writes none). The ICC profile is the sRGB profile of
LittleCMS (through Pillow), so nothing is downloaded or vendored.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from xml.sax.saxutils import escape

from PIL import ImageCms
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

PRODUCER = "xinedai_workflow (reportlab, pypdf)"
SRGB = "sRGB IEC61966-2.1"


@dataclass(frozen=True)
class DocumentInfo:
    """What both the information dictionary and the XMP packet say about a document."""

    title: str
    author: str
    subject: str
    creator: str
    created: datetime


@functools.lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """An sRGB ICC profile (LittleCMS's built-in one) declared as ICC v4.2.

    LittleCMS writes v4.4; PDF 1.7, on which PDF/A-2 rests, refers to ICC.1:2004-10 (v4.2). The
    profile uses nothing newer than v4.2, so the header says 4.2 and the (optional) profile id is
    cleared, as the id covers the header.
    """
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    data[8:12] = bytes([0x04, 0x20, 0x00, 0x00])
    data[84:100] = bytes(16)
    return bytes(data)


def _pdf_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("D:%Y%m%d%H%M%S+00'00'")


def _xmp(info: DocumentInfo) -> bytes:
    when = info.created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    text = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdfaid:part>2</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(info.title)}</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>{escape(info.author)}</rdf:li></rdf:Seq></dc:creator>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(info.subject)}</rdf:li></rdf:Alt>
   </dc:description>
   <xmp:CreatorTool>{escape(info.creator)}</xmp:CreatorTool>
   <xmp:CreateDate>{when}</xmp:CreateDate>
   <xmp:ModifyDate>{when}</xmp:ModifyDate>
   <xmp:MetadataDate>{when}</xmp:MetadataDate>
   <pdf:Producer>{escape(PRODUCER)}</pdf:Producer>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    return text.encode("utf-8")


def make_pdfa(pdf: bytes, info: DocumentInfo) -> bytes:
    """``pdf`` (fonts embedded already) with the PDF/A-2b metadata, output intent and file id."""
    writer = PdfWriter(clone_from=PdfReader(BytesIO(pdf)))
    writer.add_metadata(
        {
            "/Title": info.title,
            "/Author": info.author,
            "/Subject": info.subject,
            "/Creator": info.creator,
            "/Producer": PRODUCER,
            "/CreationDate": _pdf_date(info.created),
            "/ModDate": _pdf_date(info.created),
        }
    )
    metadata = DecodedStreamObject()  # unfiltered, so any archive tool can read it
    metadata.set_data(_xmp(info))
    metadata[NameObject("/Type")] = NameObject("/Metadata")
    metadata[NameObject("/Subtype")] = NameObject("/XML")
    profile = DecodedStreamObject()
    profile.set_data(srgb_profile())
    profile[NameObject("/N")] = NumberObject(3)
    intent = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/OutputIntent"),
            NameObject("/S"): NameObject("/GTS_PDFA1"),
            NameObject("/OutputConditionIdentifier"): TextStringObject(SRGB),
            NameObject("/Info"): TextStringObject(SRGB),
            NameObject("/RegistryName"): TextStringObject("http://www.color.org"),
            NameObject("/DestOutputProfile"): writer._add_object(profile),
        }
    )
    root = writer._root_object
    root[NameObject("/Metadata")] = writer._add_object(metadata)
    root[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
