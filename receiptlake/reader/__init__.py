"""Local receipt reader: offline OCR + rules -> AnalyzeExpense-shaped responses.

- ``read_file(path, engine="rapidocr") -> dict`` and
  ``read_bytes(data, content_type, engine="rapidocr") -> dict``: a full AnalyzeExpense
  response (``DocumentMetadata.Pages``, one ``ExpenseDocuments`` entry).
- ``LocalTextract().analyze_expense(document_bytes, content_type) -> dict``: the same,
  behind the ingest layer's Textract protocol.
- Field conventions (notably ``VENDOR_LEGAL_NAME`` for the registered company name beside
  the brand in ``VENDOR_NAME``): see ``receiptlake.reader.parser``.
"""

from receiptlake.reader.reader import UnreadableDocumentError, read_bytes, read_file
from receiptlake.reader.textract_adapter import LocalTextract

__all__ = ["LocalTextract", "UnreadableDocumentError", "read_bytes", "read_file"]
