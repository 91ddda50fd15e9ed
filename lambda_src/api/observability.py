"""One logger for the API package (Powertools: JSON lines with the request id)."""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger(service="receiptlake-api")
