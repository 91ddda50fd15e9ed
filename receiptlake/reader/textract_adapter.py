"""The local reader behind the ingest layer's Textract protocol."""

from __future__ import annotations

from typing import Any

from receiptlake.reader.reader import read_bytes


class LocalTextract:
    """Answers ``analyze_expense`` like Textract's AnalyzeExpense, offline.

    The response has Textract's shape (no ``ResponseMetadata``, no ``Blocks``); the
    engine's models load on the first call, once per process.
    """

    def __init__(self, engine: str = "rapidocr") -> None:
        self.engine = engine

    def analyze_expense(self, document_bytes: bytes, content_type: str) -> dict[str, Any]:
        return read_bytes(document_bytes, content_type, engine=self.engine)
