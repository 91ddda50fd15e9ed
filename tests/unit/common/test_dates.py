from datetime import date

import pytest

from lambda_src.common.dates import DateError, day_first_for, parse_date

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("text", "day_first", "expected"),
    [
        ("2024-03-04", True, date(2024, 3, 4)),
        ("03/04/2024", True, date(2024, 4, 3)),
        ("03/04/2024", False, date(2024, 3, 4)),
        ("25/12/2023", False, date(2023, 12, 25)),  # impossible month-first → day-first
        ("09/03/20184:21:23PM", True, date(2018, 3, 9)),  # year glued to the time
        ("15 Jan 2019", True, date(2019, 1, 15)),
        ("Jan 15, 2019", False, date(2019, 1, 15)),
        ("DATE: 12-11-25 10:41", True, date(2025, 11, 12)),
        ("4.7.2026", True, date(2026, 7, 4)),
    ],
)
def test_parse_date_reads_many_formats(text: str, day_first: bool, expected: date) -> None:
    assert parse_date(text, day_first=day_first, today=TODAY) == expected


def test_parse_date_prefers_the_order_that_is_not_in_the_future() -> None:
    # 11/12/2026 month-first would be Nov 12 (past); day-first Dec 11 (future) → Nov 12
    assert parse_date("11/12/2026", day_first=True, today=TODAY) == date(2026, 11, 12)


def test_parse_date_rejects_future_dates() -> None:
    with pytest.raises(DateError, match="not a plausible"):
        parse_date("2027-01-01", today=TODAY)


def test_parse_date_rejects_text_without_date() -> None:
    with pytest.raises(DateError, match="no date"):
        parse_date("THANK YOU", today=TODAY)


def test_day_first_depends_on_currency() -> None:
    assert day_first_for("USD") is False
    assert day_first_for("MYR") is True
    assert day_first_for(None) is True
