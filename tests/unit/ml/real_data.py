"""The one real spending history we may ship: a person's labelled bank transactions
(tests/fixtures/ml/transactions_za.csv, MIT, see SOURCE.txt there), read into the lake's
receipts and line_items shape: one debit = one receipt with one line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd

CSV = Path(__file__).resolve().parents[2] / "fixtures" / "ml" / "transactions_za.csv"
# Money moved, not spent: left out as a receipt scanner would never see it.
NOT_SPENDING = {
    "Investments",
    "Savings Transfer",
    "Bank Transfer",
    "ATM and Cash Withdrawal",
    "General Loan Repayment",
    "Interest Repayment",
}
TAXONOMY = {
    "Eating Out": "dining",
    "Restaurants": "dining",
    "Coffee": "dining",
    "Fast Food & Takeouts": "dining",
    "Groceries": "groceries_pantry",
    "Alcohol": "alcohol_tobacco",
    "Tobacco & Smoking": "alcohol_tobacco",
    "Fuel": "transport",
    "Transport": "transport",
    "Parking": "transport",
    "Health and Medical": "health",
    "Personal Care": "personal_care",
    "Clothing": "shopping",
    "General Purchases": "shopping",
    "Online Purchase": "shopping",
    "Electronics and Appliances": "shopping",
    "Home and Garden": "household",
    "Entertainment": "entertainment",
    "Sport": "entertainment",
    "Gambling": "entertainment",
    "Holidays and Travel": "travel",
}


def za_lake(path: Path = CSV, *, since: str = "2023-08-01") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Debits from ``since`` on (the file's 2021 months are separated from 2023 by a gap
    the export left, not by a year without spending)."""
    raw = pd.read_csv(path, dtype=str)
    raw["day"] = pd.to_datetime(raw["date"].str[:10])
    raw["value"] = pd.to_numeric(raw["amount"].str.replace(" ", ""), errors="coerce")
    debits = raw.loc[(raw["value"] < 0) & (raw["day"] >= since) & ~raw["label"].isin(NOT_SPENDING)]
    vendor = (
        debits["description"]
        .str.replace(r"(?i)^pos purchase\s*(\(effec \))?", "", regex=True)
        .str.replace(r"\s*\*.*$", "", regex=True)
        .str.strip()
    )
    ids = [f"za-{i}" for i in debits.index]
    money = [Decimal(f"{-v:.2f}") for v in debits["value"]]
    category = debits["label"].map(TAXONOMY).fillna("utilities_services").to_numpy()
    receipts = pd.DataFrame(
        {
            "receipt_id": ids,
            "user_id": "za-user",
            "status": "PROCESSED",
            "vendor_name": vendor.to_numpy(),
            "vendor_key": vendor.str.lower().to_numpy(),
            "spend_date": debits["day"].dt.date.to_numpy(),
            "currency": "ZAR",
            "total": money,
            "is_refund": False,
            "category": category,
        }
    )
    items = pd.DataFrame(
        {
            "receipt_id": ids,
            "user_id": "za-user",
            "line_number": 1,
            "description": debits["label"].to_numpy(),
            "amount": money,
            "category": category,
        }
    )
    return receipts, items
