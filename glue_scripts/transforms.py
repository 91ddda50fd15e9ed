"""Pure ``DataFrame -> DataFrame`` transforms from the table's items to the lake's tables.

Every rule the lake promises lives here, run alike by Glue and by local Spark: money as
decimal(12,2), normalized vendor names, a currency on every money row, erased users
dropped, the latest version of each receipt only, corrections as their own table. A row
that cannot be used gets a ``_problem`` (it goes to quarantine, counted); a row that can
be used but is odd keeps its place with ``quality_flags`` (counted too).
"""

from __future__ import annotations

import re

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from glue_scripts import lake_schema as lake

RECEIPT_PREFIX = "RECEIPT#"
CORRECTION_PREFIX = "CORRECTION#"
COUNTS_AS_SPENDING = ("PROCESSED", "NEEDS_REVIEW")
STATUSES = ("PENDING", "PROCESSED", "NEEDS_REVIEW", "FAILED")

# Reasons a row goes to quarantine.
UNPARSEABLE_ITEM = "unparseable_item"
BAD_MONEY = "bad_money"
NEGATIVE_NOT_REFUND = "negative_total_not_refund"
# Reasons a row is kept but flagged.
UNKNOWN_CURRENCY = "unknown_currency"
MISSING_CURRENCY = "missing_currency"
MISSING_DATE = "missing_date"
UNREADABLE_DATE = "unreadable_date"
IMPLAUSIBLE_DATE = "implausible_date"
MONEY_ROUNDED = "money_rounded"
UNKNOWN_STATUS = "unknown_status"
FLAGS = (
    UNKNOWN_CURRENCY,
    MISSING_CURRENCY,
    MISSING_DATE,
    UNREADABLE_DATE,
    IMPLAUSIBLE_DATE,
    MONEY_ROUNDED,
    UNKNOWN_STATUS,
)


# ---- the typed JSON of DynamoDB items -------------------------------------------------
def _attr() -> T.StructType:
    return T.StructType(
        [
            T.StructField("S", T.StringType()),
            T.StructField("N", T.StringType()),
            T.StructField("BOOL", T.BooleanType()),
            T.StructField("NULL", T.BooleanType()),
        ]
    )


def _list(element: T.DataType) -> T.StructType:
    return T.StructType([T.StructField("L", T.ArrayType(element))])


def _map(*names: str, **nested: T.DataType) -> T.StructType:
    fields = [T.StructField(n, _attr()) for n in names] + [T.StructField(n, t) for n, t in nested.items()]
    return T.StructType([T.StructField("M", T.StructType(fields))])


_MONEY_FIELDS = ("subtotal", "tax", "tip", "discount", "total")
LINE_ITEM_IMAGE = _map("description", "quantity", "unit_price", "amount", "category", "category_confidence")
RECEIPT_IMAGE = T.StructType(
    [
        T.StructField(name, _attr())
        for name in (
            "receipt_id",
            "user_id",
            "status",
            "failure_reason",
            "uploaded_at",
            "processed_at",
            "purchase_date",
            "currency",
            *_MONEY_FIELDS,
            "payment_method",
            "category",
            "ocr_engine",
            "duplicate_of",
            "version",
        )
    ]
    + [
        T.StructField("review_reasons", _list(_attr())),
        T.StructField("corrected_fields", _list(_attr())),
        T.StructField("vendor", _map("name", "legal_name", "address", "phone")),
        T.StructField("line_items", _list(LINE_ITEM_IMAGE)),
    ]
)
CORRECTION_IMAGE = T.StructType(
    [T.StructField(n, _attr()) for n in ("receipt_id", "field", "old", "new", "corrected_at")]
)


def _value(attr: Column) -> Column:
    """An attribute's value as a string (S or N; NULL and absent are null)."""
    return F.coalesce(attr["S"], attr["N"])


def _strings(attr: Column) -> Column:
    return F.coalesce(F.transform(attr["L"], lambda a: _value(a)), F.array().cast("array<string>"))


def _money(raw: Column) -> Column:
    return F.trim(raw).cast(lake.MONEY)


def _money_problem(raw: Column) -> Column:
    return raw.isNotNull() & (F.trim(raw) != "") & _money(raw).isNull()


def _rounded(raw: Column) -> Column:
    return _money(raw).cast("decimal(24,6)") != F.trim(raw).cast("decimal(24,6)")


def vendor_key(name: Column) -> Column:
    """The API's grouping key (lambda_src.common.keys.vendor_key) in Spark: "Tesco Extra "
    and "TESCO EXTRA" are one vendor."""
    dashed = F.regexp_replace(F.lower(name), "[^a-z0-9]+", "-")
    trimmed = F.regexp_replace(dashed, "^-+|-+$", "")
    return F.when(name.isNull() | (trimmed == ""), F.lit("unknown")).otherwise(trimmed)


# ---- receipts -------------------------------------------------------------------------
def parse_receipts(snapshot: DataFrame) -> DataFrame:
    """Receipt items → one flat row each (contract columns, ``year``/``month``, ``_items``
    for the line items, ``_problem``, ``_write_ts``)."""
    items = snapshot.where(F.col("sk").startswith(RECEIPT_PREFIX))
    r = F.col("r")
    parsed = items.select("pk", "sk", "write_ts", "image", F.from_json("image", RECEIPT_IMAGE).alias("r"))

    raw_date = _value(r["purchase_date"])
    printed = F.trim(raw_date).cast("date")
    plausible = printed.isNotNull() & F.year(printed).between(lake.FIRST_YEAR, lake.LAST_YEAR)
    uploaded_at = _value(r["uploaded_at"]).cast("timestamp")
    spend_date = F.when(plausible, printed).otherwise(F.to_date(uploaded_at))
    status = _value(r["status"])
    read_currency = F.upper(F.trim(_value(r["currency"])))
    currency = F.when(read_currency != "", read_currency)
    money_raw = {name: _value(r[name]) for name in _MONEY_FIELDS}
    amounts = F.transform(r["line_items"]["L"], lambda li: _money(_value(li["M"]["amount"])))
    total = _money(money_raw["total"])
    is_refund = (
        (total < 0)
        & (F.coalesce(_money(money_raw["subtotal"]), F.lit(0)) <= 0)
        & ~F.coalesce(F.exists(amounts, lambda a: a > 0), F.lit(False))
    )
    item_money_bad = F.coalesce(
        F.exists(
            r["line_items"]["L"],
            lambda li: (
                _money_problem(_value(li["M"]["amount"]))
                | _money_problem(_value(li["M"]["unit_price"]))
                | _money_problem(_value(li["M"]["quantity"]))
            ),
        ),
        F.lit(False),
    )
    any_money_bad = item_money_bad
    any_rounded = F.lit(False)
    for raw in money_raw.values():
        any_money_bad = any_money_bad | _money_problem(raw)
        any_rounded = any_rounded | F.coalesce(_rounded(raw), F.lit(False))
    problem = (
        F.when(status.isNull() | uploaded_at.isNull(), F.lit(UNPARSEABLE_ITEM))
        .when(any_money_bad, F.lit(BAD_MONEY))
        .when((total < 0) & ~is_refund, F.lit(NEGATIVE_NOT_REFUND))
    )
    spending = status.isin(*COUNTS_AS_SPENDING)
    flags = F.array_compact(
        F.array(
            F.when(currency.isNotNull() & ~currency.isin(*sorted(lake.ISO_4217)), F.lit(UNKNOWN_CURRENCY)),
            F.when(currency.isNull() & spending & total.isNotNull(), F.lit(MISSING_CURRENCY)),
            F.when(raw_date.isNull() & spending, F.lit(MISSING_DATE)),
            F.when(raw_date.isNotNull() & printed.isNull(), F.lit(UNREADABLE_DATE)),
            F.when(printed.isNotNull() & ~plausible, F.lit(IMPLAUSIBLE_DATE)),
            F.when(any_rounded, F.lit(MONEY_ROUNDED)),
            F.when(status.isNotNull() & ~status.isin(*STATUSES), F.lit(UNKNOWN_STATUS)),
        )
    )
    vendor = r["vendor"]["M"]
    return parsed.select(
        F.coalesce(_value(r["receipt_id"]), F.regexp_extract("sk", "^RECEIPT#(.+)$", 1)).alias("receipt_id"),
        F.coalesce(_value(r["user_id"]), F.regexp_extract("pk", "^USER#(.+)$", 1)).alias("user_id"),
        status.alias("status"),
        _value(r["failure_reason"]).alias("failure_reason"),
        _strings(r["review_reasons"]).alias("review_reasons"),
        _value(vendor["name"]).alias("vendor_name"),
        _value(vendor["legal_name"]).alias("vendor_legal_name"),
        _value(vendor["address"]).alias("vendor_address"),
        _value(vendor["phone"]).alias("vendor_phone"),
        vendor_key(_value(vendor["name"])).alias("vendor_key"),
        printed.alias("purchase_date"),
        spend_date.alias("spend_date"),
        F.when(plausible, F.lit("printed")).otherwise(F.lit("uploaded")).alias("date_source"),
        currency.alias("currency"),
        *[_money(raw).alias(name) for name, raw in money_raw.items()],
        F.coalesce(is_refund, F.lit(False)).alias("is_refund"),
        _value(r["payment_method"]).alias("payment_method"),
        _value(r["category"]).alias("category"),
        F.coalesce(F.size(r["line_items"]["L"]), F.lit(0)).cast("int").alias("line_item_count"),
        _value(r["ocr_engine"]).alias("ocr_engine"),
        _strings(r["corrected_fields"]).alias("corrected_fields"),
        _value(r["duplicate_of"]).alias("duplicate_of"),
        flags.alias("quality_flags"),
        F.coalesce(_value(r["version"]).cast("bigint"), F.lit(0).cast("bigint")).alias("version"),
        uploaded_at.alias("uploaded_at"),
        _value(r["processed_at"]).cast("timestamp").alias("processed_at"),
        F.year(spend_date).alias("year"),
        F.month(spend_date).alias("month"),
        r["line_items"]["L"].alias("_items"),
        problem.alias("_problem"),
        F.col("write_ts").alias("_write_ts"),
        F.col("image").alias("_image"),
    )


def latest_versions(receipts: DataFrame) -> DataFrame:
    """One row per (user_id, receipt_id): the highest version, then the latest write."""
    order = Window.partitionBy("user_id", "receipt_id").orderBy(
        F.col("version").desc(), F.col("_write_ts").desc()
    )
    return receipts.withColumn("_rank", F.row_number().over(order)).where("_rank = 1").drop("_rank")


def drop_erased(rows: DataFrame, erased_users: DataFrame) -> DataFrame:
    """Rows of users who asked to be erased (tombstones) never reach the lake."""
    return rows.join(F.broadcast(erased_users.select("user_id")), "user_id", "left_anti")


def line_items_of(receipts: DataFrame) -> DataFrame:
    """The line items of flattened receipts (which still carry ``_items``)."""
    exploded = receipts.select(
        "receipt_id",
        "user_id",
        "currency",
        "vendor_key",
        "spend_date",
        F.col("status").alias("receipt_status"),
        F.array_contains("corrected_fields", "line_items").alias("category_corrected"),
        "year",
        "month",
        F.posexplode("_items").alias("_pos", "_li"),
    )
    li = F.col("_li")["M"]
    return exploded.select(
        "receipt_id",
        "user_id",
        (F.col("_pos") + 1).cast("int").alias("line_number"),
        _value(li["description"]).alias("description"),
        F.trim(_value(li["quantity"])).cast(lake.QUANTITY).alias("quantity"),
        _money(_value(li["unit_price"])).alias("unit_price"),
        _money(_value(li["amount"])).alias("amount"),
        _value(li["category"]).alias("category"),
        _value(li["category_confidence"]).cast("double").alias("category_confidence"),
        "currency",
        "vendor_key",
        "spend_date",
        "receipt_status",
        "category_corrected",
        "year",
        "month",
    )


# ---- corrections ----------------------------------------------------------------------
def parse_corrections(snapshot: DataFrame) -> DataFrame:
    items = snapshot.where(F.col("sk").startswith(CORRECTION_PREFIX))
    c = F.from_json("image", CORRECTION_IMAGE).alias("c")
    parsed = items.select("pk", "sk", "image", c)
    corrected_at = _value(F.col("c")["corrected_at"]).cast("timestamp")
    receipt_id = F.coalesce(
        _value(F.col("c")["receipt_id"]), F.regexp_extract("sk", "^CORRECTION#([^#]+)#", 1)
    )
    field = _value(F.col("c")["field"])
    return parsed.select(
        receipt_id.alias("receipt_id"),
        F.regexp_extract("pk", "^USER#(.+)$", 1).alias("user_id"),
        field.alias("field"),
        _value(F.col("c")["old"]).alias("old_value"),
        _value(F.col("c")["new"]).alias("new_value"),
        corrected_at.alias("corrected_at"),
        F.year(corrected_at).alias("year"),
        F.month(corrected_at).alias("month"),
        F.when(corrected_at.isNull() | field.isNull() | (receipt_id == ""), F.lit(UNPARSEABLE_ITEM)).alias(
            "_problem"
        ),
        F.col("image").alias("_image"),
    )


# ---- the contract ---------------------------------------------------------------------
_SIMPLE_TYPES: dict[str, T.DataType] = {
    "string": T.StringType(),
    "boolean": T.BooleanType(),
    "int": T.IntegerType(),
    "bigint": T.LongType(),
    "double": T.DoubleType(),
    "date": T.DateType(),
    "timestamp": T.TimestampType(),
}


def spark_type(hive_type: str) -> T.DataType:
    """A contract type (Glue/Hive spelling) as Spark's, without a running session."""
    if hive_type in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[hive_type]
    if decimal := re.fullmatch(r"decimal\((\d+),(\d+)\)", hive_type):
        return T.DecimalType(int(decimal[1]), int(decimal[2]))
    if element := re.fullmatch(r"array<(.+)>", hive_type):
        return T.ArrayType(spark_type(element[1]))
    raise ValueError(f"no Spark type for the contract type {hive_type!r}")


def to_contract(rows: DataFrame, table: lake.Table) -> DataFrame:
    """Exactly the table's columns, in order and of their declared types, then the partitions."""
    columns = [F.col(c.name).cast(spark_type(c.type)).alias(c.name) for c in table.columns]
    partitions = [F.col(name).cast(type_).alias(name) for name, type_ in lake.PARTITION_KEYS]
    return rows.select(*columns, *partitions)


def contract_schema(table: lake.Table) -> T.StructType:
    return T.StructType(
        [T.StructField(c.name, spark_type(c.type)) for c in table.columns]
        + [T.StructField(name, spark_type(type_)) for name, type_ in lake.PARTITION_KEYS]
    )
