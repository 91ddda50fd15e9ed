"""The local SparkSession: the same settings Glue runs the transforms with, on this machine."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from glue_scripts.pipeline import spark_settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def local_spark(cores: int | None = None, memory: str = "4g") -> SparkSession:
    """One session per process (getOrCreate): ~3 s to start, then shared."""
    from pyspark.sql import SparkSession

    # Bind to loopback only, and say so before the JVM starts (else it warns about it).
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (
        SparkSession.builder.appName("receiptlake-etl")
        .master(f"local[{cores or os.cpu_count() or 2}]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", memory)
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
    )
    for key, value in spark_settings().items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
