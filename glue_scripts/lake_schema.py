"""The lake's contract: its layout in the lake bucket, its tables and their columns.

Pure Python (no Spark import) so the ETL stack declares the Glue catalog tables from the
same definitions the Spark job writes with, and a renamed column fails both at once.

Layout of the lake bucket (local mode: the same below ``.local/lake/``):

    exports/AWSDynamoDB/{export id}/...      DynamoDB export to S3 (DYNAMODB_JSON), written by AWS
    staging/items/                           the table's items as of the last run (Parquet), which
                                             an incremental export is merged into
    curated/{table}/year=YYYY/month=M/       the tables below (Parquet, snappy)
    quarantine/etl/run={run id}/             export lines and items the job could not use, as JSON
    etl/state.json                           the last export used (time, id, kind)
    etl/runs/{run id}.json                   each run's report: counts, quarantine, quality checks
    tombstones/{user id}.json                erased users (written by DELETE /api/me)
"""

from __future__ import annotations

from dataclasses import dataclass

DATABASE_PREFIX = "receiptlake"
EXPORTS_PREFIX = "exports/"
STAGING_ITEMS_PREFIX = "staging/items/"
CURATED_PREFIX = "curated/"
QUARANTINE_PREFIX = "quarantine/etl/"
STATE_KEY = "etl/state.json"
RUNS_PREFIX = "etl/runs/"
TOMBSTONES_PREFIX = "tombstones/"
ATHENA_RESULTS_PREFIX = "athena-results/"
GLUE_TEMP_PREFIX = "glue-temp/"
# Days the working prefixes are kept (the storage stack's lifecycle rules): an export is
# read once by the run that asked for it; quarantined records wait for a person.
EXPIRY_DAYS = {EXPORTS_PREFIX: 7, GLUE_TEMP_PREFIX: 7, ATHENA_RESULTS_PREFIX: 30, QUARANTINE_PREFIX: 90}
METRICS_NAMESPACE = "receiptlake/etl"

# Money is decimal(12,2): up to 9,999,999,999.99 in any currency (IDR and KRW totals run
# to millions). Quantities keep three decimals (1.125 kg).
MONEY = "decimal(12,2)"
QUANTITY = "decimal(12,3)"
PARTITION_KEYS: tuple[tuple[str, str], ...] = (("year", "int"), ("month", "int"))
FIRST_YEAR = 2000  # partition projection's lower bound; older dates are kept, flagged
LAST_YEAR = 2100


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Hive/Glue type name, as Athena reads it
    comment: str


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    comment: str

    @property
    def prefix(self) -> str:
        return f"{CURATED_PREFIX}{self.name}/"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name: str, type_: str, comment: str) -> Column:
    return Column(name, type_, comment)


RECEIPTS = Table(
    "receipts",
    (
        _c("receipt_id", "string", "receipt id (unique per user)"),
        _c("user_id", "string", "Cognito sub of the owner"),
        _c("status", "string", "PENDING | PROCESSED | NEEDS_REVIEW | FAILED"),
        _c("failure_reason", "string", "why reading failed, for FAILED"),
        _c("review_reasons", "array<string>", "why a person should check it, for NEEDS_REVIEW"),
        _c("vendor_name", "string", "merchant name as read or corrected"),
        _c("vendor_legal_name", "string", "legal name when printed"),
        _c("vendor_address", "string", "merchant address"),
        _c("vendor_phone", "string", "merchant phone"),
        _c("vendor_key", "string", "normalized vendor name, the API's grouping key"),
        _c("purchase_date", "date", "date printed on the receipt (null when unread)"),
        _c("spend_date", "date", "purchase_date, else the upload day; the partition's date"),
        _c("date_source", "string", "printed | uploaded: where spend_date came from"),
        _c("currency", "string", "ISO 4217 code as read; never sum across currencies"),
        _c("subtotal", MONEY, "subtotal"),
        _c("tax", MONEY, "tax"),
        _c("tip", MONEY, "tip"),
        _c("discount", MONEY, "discount"),
        _c("total", MONEY, "total paid; negative only for a refund"),
        _c("is_refund", "boolean", "a credit note: negative total, nothing positive on it"),
        _c("payment_method", "string", "payment method as read"),
        _c("category", "string", "the receipt's spending category"),
        _c("line_item_count", "int", "number of line items"),
        _c("ocr_engine", "string", "textract | local"),
        _c("corrected_fields", "array<string>", "fields a person corrected"),
        _c("duplicate_of", "string", "receipt id this one duplicates, if detected"),
        _c("quality_flags", "array<string>", "unknown_currency, missing_date, date_before_2000 ..."),
        _c("version", "bigint", "the receipt's version (the lake keeps the latest)"),
        _c("uploaded_at", "timestamp", "upload time (UTC)"),
        _c("processed_at", "timestamp", "time reading finished (UTC)"),
    ),
    "One row per receipt (its latest version); erased users are absent.",
)

LINE_ITEMS = Table(
    "line_items",
    (
        _c("receipt_id", "string", "the receipt the item is on"),
        _c("user_id", "string", "Cognito sub of the owner"),
        _c("line_number", "int", "position on the receipt, from 1"),
        _c("description", "string", "item text as read or corrected"),
        _c("quantity", QUANTITY, "quantity"),
        _c("unit_price", MONEY, "unit price"),
        _c("amount", MONEY, "line amount"),
        _c("category", "string", "the item's spending category"),
        _c("category_confidence", "double", "the categorizer's confidence, 0-1"),
        _c("currency", "string", "the receipt's currency"),
        _c("vendor_key", "string", "the receipt's normalized vendor"),
        _c("spend_date", "date", "the receipt's spend date"),
        _c("receipt_status", "string", "the receipt's status"),
        _c("category_corrected", "boolean", "a person corrected the receipt's line items"),
    ),
    "One row per line item of the receipts table's rows.",
)

CORRECTIONS = Table(
    "corrections",
    (
        _c("receipt_id", "string", "the corrected receipt"),
        _c("user_id", "string", "Cognito sub of the owner"),
        _c("field", "string", "the corrected field"),
        _c("old_value", "string", "value before, as JSON"),
        _c("new_value", "string", "value after, as JSON"),
        _c("corrected_at", "timestamp", "when the person corrected it (UTC)"),
    ),
    "Every field a person corrected; line_items corrections are training labels.",
)

TABLES: tuple[Table, ...] = (RECEIPTS, LINE_ITEMS, CORRECTIONS)
TABLES_BY_NAME = {t.name: t for t in TABLES}


def database_name(env: str) -> str:
    """The Glue database of one environment (Glue names: lowercase, digits, underscore)."""
    return f"{DATABASE_PREFIX}_{env.replace('-', '_')}"


# Glue job arguments (``--NAME``) that main() reads; the stack sets them.
ARG_TABLE_ARN = "table_arn"
ARG_LAKE_BUCKET = "lake_bucket"
ARG_DATABASE = "database"
ARG_EXPORT_MODE = "export_mode"  # auto | full | incremental
ARG_METRICS_NAMESPACE = "metrics_namespace"
ARG_ENVIRONMENT = "environment"
ARG_EXPORT_KMS_KEY = "export_kms_key_arn"  # the exports are encrypted with the lake's key
JOB_ARGUMENTS = (
    ARG_TABLE_ARN,
    ARG_LAKE_BUCKET,
    ARG_DATABASE,
    ARG_EXPORT_MODE,
    ARG_METRICS_NAMESPACE,
    ARG_ENVIRONMENT,
    ARG_EXPORT_KMS_KEY,
)

# Metric names the job emits (dimension Environment, plus Table or Reason where named).
METRIC_JOB_SUCCEEDED = "JobSucceeded"  # 1 on success, 0 on failure
METRIC_DURATION = "DurationSeconds"
METRIC_ROWS_WRITTEN = "RowsWritten"  # dimension Table
METRIC_QUARANTINED = "RecordsQuarantined"  # dimension Reason
METRIC_FLAGGED = "RowsFlagged"  # dimension Reason (kept in the lake, flagged)
METRIC_QUALITY_VIOLATIONS = "QualityViolations"  # dimension Check
METRIC_NAMES = (
    METRIC_JOB_SUCCEEDED,
    METRIC_DURATION,
    METRIC_ROWS_WRITTEN,
    METRIC_QUARANTINED,
    METRIC_FLAGGED,
    METRIC_QUALITY_VIOLATIONS,
)

# ISO 4217 codes in use (2026). A receipt in any other code is kept and flagged
# unknown_currency: its own group, never summed into another currency.
_ISO_4217_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER
    ZAR ZMW ZWG
"""
ISO_4217 = frozenset(_ISO_4217_CODES.split())
