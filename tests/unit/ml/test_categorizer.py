"""The categorizer: numpy inference equals the trained models, the shipped file loads and
answers, held-out quality, and the keyword rules as the fallback."""

from __future__ import annotations

import json

import boto3
import numpy as np
import pytest
import torch
from moto import mock_aws

from lambda_src.ingest.categorize import KeywordCategorizer, Prediction
from lambda_src.ingest.model_categorizer import (
    BUNDLED_MODEL,
    ExportedModel,
    FeatureSpec,
    ModelCategorizer,
    feature_ids,
    load_categorizer,
    normalize,
    promoted_model,
)
from ml.categorizer import baseline, torch_model
from ml.categorizer.train import score
from ml.labels import dataset

TEXTS = [
    ("Gasoleo Simples", "Galp"),
    ("TEH SEREH", ""),
    ("Parking Fee", ""),
    ("Coca Cola Lata", "Pingo Doce"),
    ("PARAFUSOS 4x40", "Leroy Merlin"),
    ("Nasi Goreng", ""),
    ("Shampoo 400ml", ""),
    ("Heineken 6pk", ""),
]
LABELS = [0, 1, 0, 2, 3, 1, 3, 2]


def test_features_are_stable_and_normalized() -> None:
    spec = FeatureSpec(1 << 18)
    assert feature_ids("Café 12,50", None, spec) == feature_ids("cafe 99,99", None, spec)
    assert normalize("Pão ÇA 2024") == "pao ca 0"
    assert feature_ids("milk", "Tesco", spec) != feature_ids("milk", None, spec)
    assert all(0 <= i < spec.buckets for i in feature_ids("anything at all", "x", spec))


def test_numpy_inference_equals_the_pytorch_model() -> None:
    config = torch_model.TorchConfig(epochs=5, checkpoint_every=100)
    network = torch_model.train(TEXTS, LABELS, TEXTS, LABELS, 4, config)
    exported = torch_model.export(network, ["a", "b", "c", "d"], config, "t", temperature=1.7)
    restored = ExportedModel.from_bytes(exported.to_bytes())
    reference = torch_model.from_export(restored)  # the float16 weights, as shipped
    rows = torch_model.encode([*TEXTS, ("never seen zzqx", "")], FeatureSpec(config.buckets))
    expected = torch_model.predict_ids(reference, rows)
    # The vendor's words are features too: each text is scored with its own vendor.
    got = np.vstack([restored.scores([d], v or None) for d, v in [*TEXTS, ("never seen zzqx", "")]])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    # The export keeps only trained rows; they are the rows the texts touched.
    assert set(restored.rows.tolist()) <= {i for r in rows for i in r}


def test_numpy_inference_equals_the_scikit_learn_baseline() -> None:
    pipeline = baseline.train(TEXTS, LABELS, c=10.0)
    exported = ExportedModel.from_bytes(baseline.export(pipeline, ["a", "b", "c", "d"], "t").to_bytes())
    expected = pipeline.predict_proba(TEXTS)
    got = np.vstack([exported.scores([d], v or None) for d, v in TEXTS])
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_the_shipped_model_on_the_held_out_split() -> None:
    """Quality on the test part only (ml.labels.split_of), never on what it trained on."""
    model = ExportedModel.from_bytes(BUNDLED_MODEL.read_bytes())
    data = dataset()
    test = data[data["split"] == "test"]
    figures = score(model, test)
    assert figures["macro_f1"] >= 0.5 and figures["accuracy"] >= 0.75
    assert figures["ece"] <= 0.08
    assert model.kind == "embedding_bag" and BUNDLED_MODEL.stat().st_size < 5_000_000


def test_the_shipped_model_categorizes_in_the_ingest_path() -> None:
    categorizer = load_categorizer()
    assert isinstance(categorizer, ModelCategorizer)
    got = categorizer.predict(["GASOLEO SIMPLES", "Parking Fee 2h", "Es Kopi Susu"], vendor=None)
    assert [p.category for p in got] == ["transport", "transport", "dining"]
    assert all(0 < p.confidence <= 1 for p in got)


def test_low_confidence_answers_come_from_the_keyword_rules() -> None:
    model = ExportedModel.from_bytes(BUNDLED_MODEL.read_bytes())
    strict = ModelCategorizer(
        ExportedModel(**{**model.__dict__, "min_confidence": 1.01}), fallback=KeywordCategorizer()
    )
    rule, none = KeywordCategorizer().predict(["UNLEADED RON95", "xqzzy"])
    fuel, unknown = strict.predict(["UNLEADED RON95", "xqzzy"])
    assert fuel == rule  # a keyword matched: it answers for the unsure model
    assert none.category == "uncategorized" and unknown.category != "uncategorized"  # the model's guess


def test_an_unreadable_model_falls_back_to_the_keyword_rules() -> None:
    assert isinstance(load_categorizer(b"not a model"), KeywordCategorizer)
    assert load_categorizer(b"not a model").predict(["Parking 2h"]) == [Prediction("transport", 0.55)]


@mock_aws
def test_the_promoted_model_is_read_from_the_models_bucket() -> None:
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket="models", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert promoted_model(s3, "models") is None  # nothing promoted yet: the bundled one is used
    s3.put_object(Bucket="models", Key="latest.json", Body=json.dumps({"version": "v1"}).encode())
    s3.put_object(Bucket="models", Key="runs/v1/categorizer.npz", Body=BUNDLED_MODEL.read_bytes())
    data = promoted_model(s3, "models")
    assert data == BUNDLED_MODEL.read_bytes()
    assert isinstance(load_categorizer(data), ModelCategorizer)


@pytest.mark.parametrize("seed", [3])
def test_training_is_reproducible_from_its_seed(seed: int) -> None:
    config = torch_model.TorchConfig(epochs=3, seed=seed, checkpoint_every=100)
    a = torch_model.train(TEXTS, LABELS, TEXTS, LABELS, 4, config)
    b = torch_model.train(TEXTS, LABELS, TEXTS, LABELS, 4, config)
    assert torch.equal(a.linear.weight, b.linear.weight)
