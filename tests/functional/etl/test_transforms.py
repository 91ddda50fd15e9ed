"""Single transforms on local Spark, against the Python code they must agree with."""

from __future__ import annotations

import random
from typing import Any

import pytest
from pyspark.sql import functions as F

from glue_scripts.transforms import vendor_key
from lambda_src.common import keys

pytestmark = pytest.mark.spark


def test_vendor_key_is_the_apis_grouping_key(spark: Any) -> None:
    rng = random.Random(12)
    alphabet = "aZ09 -_.&'éÉßİıØ中文ـ\u200f\t"
    names: list[str | None] = [
        None,
        "",
        "   ",
        "Tesco Extra ",
        "TESCO EXTRA",
        "McDonald's",
        "AEON CO. (M) BHD",
        "  --Café  Zürich--  ",
        "İstanbul Büfe",
        "中文 Market 7",
        *("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(300)),
    ]
    frame = spark.createDataFrame([(n,) for n in names], "name string")
    spark_keys = [row[0] for row in frame.select(vendor_key(F.col("name"))).collect()]
    assert spark_keys == [keys.vendor_key(n) for n in names]
