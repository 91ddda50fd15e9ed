"""The receipts table's single-table layout: one place that names every key.

receipt             PK USER#{uid}  SK RECEIPT#{rid}
                    GSI1 (by date)   USER#{uid} / {spend date}#{rid}
                    GSI2 (by status) USER#{uid}#STATUS#{status} / {uploaded_at}#{rid}
correction          PK USER#{uid}  SK CORRECTION#{rid}#{when}#{field}
month aggregate     PK USER#{uid}  SK AGG#M#{yyyy-mm}#{currency}
category aggregate  PK USER#{uid}  SK AGG#C#{yyyy-mm}#{currency}#{category}
vendor aggregate    PK USER#{uid}  SK AGG#V#{yyyy-mm}#{currency}#{vendor key}
idempotency record  (Powertools, its own PK prefix; expires through TTL on expires_at)

The stack imports these names so the table and the code cannot disagree.
"""

from __future__ import annotations

import re
from datetime import date

PK = "PK"
SK = "SK"
GSI1 = "GSI1"
GSI1_PK = "GSI1PK"
GSI1_SK = "GSI1SK"
GSI2 = "GSI2"
GSI2_PK = "GSI2PK"
GSI2_SK = "GSI2SK"
TTL_ATTRIBUTE = "expires_at"

AGG_MONTH = "M"
AGG_CATEGORY = "C"
AGG_VENDOR = "V"


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def receipt_sk(receipt_id: str) -> str:
    return f"RECEIPT#{receipt_id}"


def by_date_sk(day: date, receipt_id: str) -> str:
    return f"{day.isoformat()}#{receipt_id}"


def by_status_pk(user_id: str, status: str) -> str:
    return f"USER#{user_id}#STATUS#{status}"


def correction_sk(receipt_id: str, when: str) -> str:
    return f"CORRECTION#{receipt_id}#{when}"


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def aggregate_sk(kind: str, month: str, currency: str, key: str = "") -> str:
    suffix = f"#{key}" if key else ""
    return f"AGG#{kind}#{month}#{currency}{suffix}"


def vendor_key(name: str | None) -> str:
    """A stable grouping key: "Tesco Extra " and "TESCO EXTRA" are one vendor."""
    if not name:
        return "unknown"
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "unknown"
