"""The AWS services ingest talks to, each behind a small Protocol so tests and local mode
can pass fakes (or the local OCR) instead."""
