"""Local receipt reader: offline OCR + rules -> AnalyzeExpense-shaped responses."""

from receiptlake.reader.reader import UnreadableDocumentError, read_bytes, read_file
from receiptlake.reader.textract_adapter import LocalTextract

__all__ = ["LocalTextract", "UnreadableDocumentError", "read_bytes", "read_file"]
