"""Registered company names ("… SDN BHD", "LLC", "Ltd", "GmbH"): shared by the normalizer
and the local reader, so both recognize the same names."""

from __future__ import annotations

import re

# Words that make a line the registered name of a company. "BND"/"BHO" are common OCR
# slips of "BHD" (one wrong letter), accepted after "SDN".
LEGAL_SUFFIX = re.compile(
    r"\b(?:SDN\.?\s*B[A-Z0-9]D|S/B|BERHAD|BHD|L\.?L\.?C|LTD|LIMITED|GMBH|INC|INCORPORATED|"
    r"PTE|PLC|CORP(?:ORATION)?|CO\.,?\s*LTD|S\.?A\.?R\.?L|S\.?A|B\.?V|AG|KG|PTY)\b\.?",
    re.IGNORECASE,
)


def is_legal_name(text: str) -> bool:
    """A name carrying a legal-form suffix, with enough letters to be a name of its own."""
    return bool(LEGAL_SUFFIX.search(text)) and sum(ch.isalpha() for ch in text) >= 4
