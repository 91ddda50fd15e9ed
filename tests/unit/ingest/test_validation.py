from __future__ import annotations

import time
from pathlib import Path

import pytest

from lambda_src.ingest.validation import Rejected, sniff, validate
from tests.fixtures.bad_inputs.corpus import TEST_MAX_BYTES, TEST_MAX_PAGES, bad_inputs, good_inputs

RECEIPT_JPG = Path(__file__).resolve().parents[2] / "fixtures" / "textract" / "receipt.jpg"


@pytest.mark.parametrize("name", sorted(bad_inputs()))
def test_bad_inputs_are_rejected_with_their_reason(name: str) -> None:
    data, code = bad_inputs()[name]
    with pytest.raises(Rejected) as info:
        validate(data, max_bytes=TEST_MAX_BYTES, max_pages=TEST_MAX_PAGES)
    assert info.value.code == code
    # A reason a person can act on: a full sentence that says what to do.
    assert info.value.reason.endswith(".") and len(info.value.reason) > 30


def test_the_corpus_is_big_enough() -> None:
    assert len(bad_inputs()) >= 15


@pytest.mark.parametrize("name", sorted(good_inputs()))
def test_good_inputs_pass(name: str) -> None:
    data, content_type, pages = good_inputs()[name]
    document = validate(data, max_bytes=TEST_MAX_BYTES, max_pages=TEST_MAX_PAGES)
    assert (document.content_type, document.pages) == (content_type, pages)


def test_the_real_receipt_photo_passes() -> None:
    document = validate(RECEIPT_JPG.read_bytes())
    assert (document.content_type, document.width, document.height) == ("image/jpeg", 805, 1917)


def test_extension_does_not_matter_only_content() -> None:
    png = good_inputs()["scan.png"][0]
    assert sniff(png) == "image/png"


def test_heic_reason_says_what_to_do() -> None:
    data, _ = bad_inputs()["photo.heic"]
    with pytest.raises(Rejected, match="HEIC photos are not supported: export the photo as JPEG"):
        validate(data)


def test_a_bomb_is_rejected_without_decoding_it() -> None:
    data, _ = bad_inputs()["bomb.png"]
    started = time.perf_counter()
    with pytest.raises(Rejected):
        validate(data)
    assert time.perf_counter() - started < 0.5
