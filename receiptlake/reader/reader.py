"""Read receipt files offline into Amazon Textract AnalyzeExpense responses.

``read_file(path)`` and ``read_bytes(data, content_type)`` return a full response dict,
``{"DocumentMetadata": {"Pages": n}, "ExpenseDocuments": [{"ExpenseIndex": 1,
"SummaryFields": [...], "LineItemGroups": [...]}]}``; see ``receiptlake.reader.parser``
for the fields and the vendor legal-name convention. JPEG, PNG (any format Pillow opens)
and PDF (every page, rendered with pypdfium2) are accepted. A multi-page PDF gives one
expense document whose fields carry their ``PageNumber``: one receipt per file.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from receiptlake.reader.ocr import OcrEngine, get_engine
from receiptlake.reader.parser import parse_page

PDF_RENDER_DPI = 200  # enough for 8-pt receipt print; more only slows detection
# Bigger pages are shrunk before OCR: detection runs at 960 px anyway and a 12-megapixel
# photo costs seconds to convert and crop.
MAX_SIDE = 2400

CONTENT_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".pdf": "application/pdf",
    ".webp": "image/webp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
}


class UnreadableDocumentError(ValueError):
    """The bytes are not an image or PDF the reader can open."""


def read_file(path: Path, engine: str = "rapidocr") -> dict[str, Any]:
    """AnalyzeExpense-shaped response for one receipt file."""
    path = Path(path)
    content_type = CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
    return read_bytes(path.read_bytes(), content_type, engine=engine)


def read_bytes(data: bytes, content_type: str, engine: str = "rapidocr") -> dict[str, Any]:
    """AnalyzeExpense-shaped response for one receipt held in memory."""
    pages = load_pages(data, content_type)
    return analyze_pages(pages, get_engine(engine))


def load_pages(data: bytes, content_type: str) -> list[Image.Image]:
    if content_type == "application/pdf" or data[:5] == b"%PDF-":
        return _pdf_pages(data)
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as exc:  # Pillow raises many types for bad input
        raise UnreadableDocumentError(f"not an image ({content_type}): {exc}") from exc
    # Phone photos store their rotation in EXIF; OCR needs the pixels upright.
    return [_fit(ImageOps.exif_transpose(image) or image)]


def _pdf_pages(data: bytes) -> list[Image.Image]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise UnreadableDocumentError(f"not a PDF: {exc}") from exc
    try:
        return [_fit(page.render(scale=PDF_RENDER_DPI / 72).to_pil()) for page in pdf]
    finally:
        pdf.close()


def _fit(image: Image.Image) -> Image.Image:
    image = image.convert("RGB")
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    return image


def analyze_pages(pages: list[Image.Image], engine: OcrEngine) -> dict[str, Any]:
    summary: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []
    for number, image in enumerate(pages, start=1):
        lines = engine.read(image)
        parsed = parse_page(lines, image.width, image.height, page_number=number)
        # Later pages repeat headers and totals ("page 2 of 2"); the first page's vendor
        # and date stand, and the last page's totals (printed at the end) stand.
        kinds = {f["Type"]["Text"] for f in summary}
        for field in parsed["SummaryFields"]:
            kind = field["Type"]["Text"]
            if kind in kinds and kind.startswith(("VENDOR", "INVOICE")):
                continue
            if kind in kinds:
                summary = [f for f in summary if f["Type"]["Text"] != kind]
            summary.append(field)
        for group in parsed["LineItemGroups"]:
            groups.append({**group, "LineItemGroupIndex": len(groups) + 1})
    return {
        "DocumentMetadata": {"Pages": len(pages)},
        "ExpenseDocuments": [{"ExpenseIndex": 1, "SummaryFields": summary, "LineItemGroups": groups}],
    }
