"""Export lines → the table's items, and the staging snapshot an incremental export is merged into.

Every line of a DynamoDB export is one JSON object: ``{"Item": {...}}`` in a full export,
``{"Metadata": {...}, "Keys": {...}, "NewImage": {...}}`` in an incremental one (no
NewImage: the item was deleted). Items stay as their typed JSON text here; they are parsed
with an explicit schema only once the snapshot is known (see ``transforms``), so the
snapshot does not depend on the schema of the day.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

# Columns of the snapshot (staging/items/): one row per table item, its latest image.
SNAPSHOT_COLUMNS = ("pk", "sk", "write_ts", "image")
MALFORMED_LINE = "malformed_line"


def export_lines(lines: DataFrame, export_time_micros: int) -> DataFrame:
    """Lines (``value``, ``source_file``) → pk, sk, write_ts, image (null: a delete),
    error (null, or why the line is unusable), value, source_file."""
    parts = lines.select(
        "value",
        "source_file",
        F.json_tuple("value", "Item", "Keys", "NewImage", "Metadata").alias(
            "item", "keys", "new_image", "metadata"
        ),
    )
    key_source = F.coalesce("keys", "item", "new_image")
    written = F.get_json_object("metadata", "$.WriteTimestampMicros.N").cast("long")
    result = parts.select(
        F.get_json_object(key_source, "$.PK.S").alias("pk"),
        F.get_json_object(key_source, "$.SK.S").alias("sk"),
        F.coalesce(written, F.lit(export_time_micros)).alias("write_ts"),
        F.coalesce("item", "new_image").alias("image"),
        "value",
        "source_file",
    )
    return result.withColumn(
        "error", F.when(F.col("pk").isNull() | F.col("sk").isNull(), F.lit(MALFORMED_LINE))
    )


def latest_images(changes: DataFrame) -> DataFrame:
    """One row per (pk, sk): the latest write wins; on a tie, an image beats a delete."""
    # Within one export every line has the same time: then a receipt's version decides.
    version = F.get_json_object("image", "$.version.N").cast("long")
    order = Window.partitionBy("pk", "sk").orderBy(
        F.col("write_ts").desc(), F.col("image").isNull(), version.desc_nulls_last()
    )
    return (
        changes.withColumn("_rank", F.row_number().over(order))
        .where(F.col("_rank") == 1)
        .select(*SNAPSHOT_COLUMNS)
    )


def merge_snapshot(previous: DataFrame | None, changes: DataFrame, *, keep_unlisted: bool) -> DataFrame:
    """The new snapshot: the changes' latest images over the previous snapshot.

    ``keep_unlisted=False`` (a complete full export) replaces the snapshot: items absent
    from the export were deleted. With ``keep_unlisted=True`` (an incremental export, or a
    full export with a partial file) items the export does not mention are kept, so a lost
    file never erases data from the lake. Deletes (null images) are dropped last."""
    usable = changes.where(F.col("error").isNull()).select(*SNAPSHOT_COLUMNS)
    merged = usable if previous is None or not keep_unlisted else previous.unionByName(usable)
    return latest_images(merged).where(F.col("image").isNotNull())
