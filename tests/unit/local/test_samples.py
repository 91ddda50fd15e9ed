"""The rendered sample receipts print only characters their font can draw."""

from __future__ import annotations

from PIL import Image, ImageDraw

from receiptlake.local.samples import SYMBOLS, generate, lines, receipt_font

NO_GLYPH = "\ue000"  # a private-use code point: the font draws its "missing glyph" box


def _drawn(text: str) -> bytes:
    image = Image.new("L", (80, 48), 0)
    ImageDraw.Draw(image).text((8, 4), text, fill=255, font=receipt_font())
    return image.tobytes()


def test_every_printed_character_has_a_glyph() -> None:
    # Given every character any sample receipt prints (all currencies included)
    samples = generate()
    assert {s.currency for s in samples} >= set(SYMBOLS)
    printed = {ch for s in samples for row in lines(s) for text in row for ch in text if not ch.isspace()}

    # Then none is drawn as the empty box (an OCR reads that as nothing, e.g. no currency)
    box = _drawn(NO_GLYPH)
    assert box != _drawn("A")  # the comparison can tell a glyph from the box
    missing = sorted(ch for ch in printed if _drawn(ch) == box)
    assert missing == [], f"the receipt font cannot draw {missing}"
