"""Is this upload a document Textract can read? Decided by content, never by extension.

Accepted: JPEG, PNG, TIFF, PDF. Everything else, and anything damaged, hostile or too big,
is rejected with a reason the uploader can act on. Pillow and pypdf are imported only when
a file needs them, so a cold start does not pay for them.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

MB = 1024 * 1024
MAX_SIDE = 10_000  # Textract's limit per side
MIN_SIDE = 50  # smaller than this holds no legible receipt
MAX_PIXELS = 50_000_000  # a 48 MP phone photo passes; a decompression bomb does not

JPEG = "image/jpeg"
PNG = "image/png"
TIFF = "image/tiff"
PDF = "application/pdf"

_ACCEPTED = "upload a photo (JPEG or PNG), a TIFF scan or a PDF"


@dataclass(frozen=True)
class ValidDocument:
    content_type: str
    pages: int
    width: int | None = None
    height: int | None = None


class Rejected(Exception):
    """The upload cannot be read; ``reason`` is for the person, ``code`` for metrics."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def sniff(data: bytes) -> str:
    """What the bytes are: a MIME type for accepted kinds, else a short kind name."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    if b"%PDF-" in data[:1024]:
        return PDF
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"):
            return "heic"
        if brand in (b"avif", b"avis"):
            return "avif"
        return "video"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"BM"):
        return "bmp"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    text = _as_text(data[:4096])
    if text is not None:
        lowered = text.lower()
        if "<svg" in lowered:
            return "svg"
        if "<html" in lowered or "<!doctype html" in lowered:
            return "html"
        return "text"
    return "unknown"


def _as_text(sample: bytes) -> str | None:
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut at the sample's end is still text.
        try:
            text = sample[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return None
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return text if text and printable / len(text) > 0.95 else None


_UNSUPPORTED: dict[str, tuple[str, str]] = {
    "heic": (
        "heic",
        "HEIC photos are not supported: export the photo as JPEG (on an iPhone: "
        "Settings > Camera > Formats > Most Compatible) and upload it again.",
    ),
    "avif": ("avif", f"AVIF images are not supported: export the image as JPEG or PNG, or {_ACCEPTED}."),
    "gif": ("gif", f"GIF images are not supported: {_ACCEPTED}."),
    "webp": ("webp", f"WebP images are not supported: save the image as JPEG or PNG, or {_ACCEPTED}."),
    "bmp": ("bmp", f"BMP images are not supported: save the image as PNG or JPEG, or {_ACCEPTED}."),
    "svg": ("svg", f"SVG drawings are not supported: {_ACCEPTED}."),
    "html": ("html", f"This file is a web page, not a receipt: save the receipt as PDF, or {_ACCEPTED}."),
    "text": ("text", f"This file is text, not a receipt image: {_ACCEPTED}."),
    "zip": ("archive", f"Archives and Office documents are not supported: {_ACCEPTED}."),
    "video": ("video", f"Videos are not supported: {_ACCEPTED}."),
    "unknown": ("unknown_type", f"This file type is not supported: {_ACCEPTED}."),
}


def validate(data: bytes, *, max_bytes: int = 10 * MB, max_pages: int = 15) -> ValidDocument:
    """The document's type and size, or ``Rejected`` with what the uploader should do."""
    if not data:
        raise Rejected("empty", "The file is empty (0 bytes): the upload did not finish; upload it again.")
    check_size(len(data), max_bytes)
    kind = sniff(data)
    if kind in _UNSUPPORTED:
        raise Rejected(*_UNSUPPORTED[kind])
    if kind == PDF:
        return _validate_pdf(data, max_pages)
    return _validate_image(data, kind, max_pages)


def check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise Rejected(
            "too_large",
            f"The file is {size / MB:.1f} MB; the limit is {max_bytes / MB:.0f} MB: "
            "take the photo at a lower resolution or compress the PDF, then upload it again.",
        )


def _validate_image(data: bytes, content_type: str, max_pages: int) -> ValidDocument:
    from PIL import Image  # lazy: only files that are images pay for Pillow

    damaged = Rejected(
        "truncated", "The image is incomplete or damaged (the file ends early): upload it again."
    )
    with warnings.catch_warnings():
        # Pillow warns between MAX_IMAGE_PIXELS and twice that; the checks below decide.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            width, height = image.size
        except Image.DecompressionBombError as exc:
            raise _too_many_pixels(None, None) from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise damaged from exc
        _check_dimensions(width, height)
        pages = getattr(image, "n_frames", 1) if content_type == TIFF else 1
        if pages > max_pages:
            raise _too_many_pages(pages, max_pages)
        try:
            if content_type == JPEG:
                # Decoding at 1/8 scale reads every byte of the stream cheaply.
                image.draft("RGB", (max(width // 8, 1), max(height // 8, 1)))
                image.load()
            elif content_type == PNG:
                image.verify()  # checks every chunk's CRC without decoding pixels
            else:
                image.load()
        except Image.DecompressionBombError as exc:
            raise _too_many_pixels(width, height) from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise damaged from exc
    return ValidDocument(content_type, pages, width, height)


def _check_dimensions(width: int, height: int) -> None:
    if width > MAX_SIDE or height > MAX_SIDE:
        raise Rejected(
            "image_too_large",
            f"The image is {width:,} x {height:,} pixels; images may be at most {MAX_SIDE:,} pixels "
            "on a side: resize it and upload it again.",
        )
    if width * height > MAX_PIXELS:
        raise _too_many_pixels(width, height)
    if width < MIN_SIDE or height < MIN_SIDE:
        raise Rejected(
            "image_too_small",
            f"The image is only {width} x {height} pixels, too small to read: upload the original photo.",
        )


def _too_many_pixels(width: int | None, height: int | None) -> Rejected:
    size = f" ({width:,} x {height:,})" if width and height else ""
    return Rejected(
        "too_many_pixels",
        f"The image has too many pixels{size}; the limit is {MAX_PIXELS // 1_000_000} megapixels: "
        "resize it and upload it again.",
    )


def _too_many_pages(pages: int, max_pages: int) -> Rejected:
    return Rejected(
        "too_many_pages",
        f"The document has {pages} pages; a receipt may have at most {max_pages}: "
        "upload each receipt on its own.",
    )


def _validate_pdf(data: bytes, max_pages: int) -> ValidDocument:
    from pypdf import PdfReader  # lazy: only PDFs pay for pypdf
    from pypdf.errors import PdfReadError, PyPdfError

    if b"%%EOF" not in data[-4096:]:
        raise Rejected("truncated", "The PDF is incomplete (the file ends early): upload it again.")
    damaged = Rejected(
        "corrupt_pdf", "The PDF is damaged and cannot be opened: export or save it again, then upload it."
    )
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise Rejected(
                "encrypted_pdf",
                "The PDF is password-protected: save a copy without a password "
                "(or print it to a new PDF) and upload that.",
            )
        pages = len(reader.pages)
    except Rejected:
        raise
    except (PdfReadError, PyPdfError, OSError, ValueError, KeyError, TypeError) as exc:
        raise damaged from exc
    if pages == 0:
        raise Rejected("no_pages", "The PDF has no pages: export the receipt again and upload it.")
    if pages > max_pages:
        raise _too_many_pages(pages, max_pages)
    return ValidDocument(PDF, pages)
