"""The rendered sample receipts print only characters their font can draw."""

from __future__ import annotations

from datetime import date

from PIL import Image, ImageDraw

from receiptlake.local.samples import SHOPS, SYMBOLS, generate, lines, receipt_font

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


def test_history_covers_consecutive_months_up_to_today() -> None:
    # Given days where naive "minus 31 days" month arithmetic skips a month (Dec 1 -> Oct 31)
    for today in (date(2026, 12, 1), date(2026, 3, 31), date(2027, 1, 15)):
        # When the six months of samples are generated
        samples = generate(today=today)

        # Then every one of the last six calendar months has receipts, none is in the future
        months = sorted({(s.purchase_date.year, s.purchase_date.month) for s in samples})
        index = today.year * 12 + today.month - 1
        expected = [((index - k) // 12, (index - k) % 12 + 1) for k in range(5, -1, -1)]
        assert months == expected, today
        assert max(s.purchase_date for s in samples) <= today


def test_the_first_of_the_month_gets_a_share_of_the_visits_not_all_of_them() -> None:
    # Given the 1st of a month
    samples = generate(today=date(2026, 12, 1))

    # Then that day has one visit per shop plus the unusual shop, not a whole month's worth
    on_the_day = [s for s in samples if s.purchase_date == date(2026, 12, 1)]
    assert len(on_the_day) == len(SHOPS) + 1
    earlier = [s for s in samples if (s.purchase_date.year, s.purchase_date.month) == (2026, 11)]
    assert len(earlier) == sum(shop.visits_per_month for shop in SHOPS)
