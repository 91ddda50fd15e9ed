"""The categorizer's figures: held-out macro-F1 of both models (goal: the shipped model beats
TF-IDF + LR), training time on this machine's CPU cores, inference time per item in the
ingest path, and the size of what the ingest Lambda ships.

    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_categorizer.py            # figures
    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_categorizer.py --quick    # one seed, fewer

The test split (``ml.labels.split_of``) has ~1,000 items of which most are dining and some
classes have fewer than 20, so the comparison is printed with its noise: the spread over
training seeds and a bootstrap interval over test receipts (groups, as the split is made).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import torch

from lambda_src.common.model import LineItem, Receipt, Vendor
from lambda_src.ingest.categorize import Categorizer, KeywordCategorizer, categorize
from lambda_src.ingest.model_categorizer import BUNDLED_MODEL, ExportedModel, ModelCategorizer
from ml.categorizer import baseline, torch_model
from ml.categorizer.train import BASELINE_C, CategorizerResult, train_categorizers
from ml.labels import dataset
from stacks.lambda_assets import LAMBDA_SRC, assemble, install_requirements

REPO_ROOT = Path(__file__).resolve().parents[1]
LAMBDA_UNZIPPED_LIMIT = 250e6  # bytes, code + layers, unzipped
BOOTSTRAP_SEED = 0
MB = 1e6


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split(" ")[:3])


Times = dict[str, list[float]]  # label -> [wall s, CPU s of all this process's threads]


def timed(times: Times, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            total = times.setdefault(label, [0.0, 0.0])
            total[0] += time.perf_counter() - wall
            total[1] += time.process_time() - cpu

    return wrapper


def train_timed(data: pd.DataFrame, seed: int) -> tuple[CategorizerResult, Times]:
    """``train_categorizers`` as the pipeline runs it, with the PyTorch training and the
    baseline's C grid (fits + validation probabilities) timed inside it."""
    times: Times = {}
    with (
        mock.patch.object(torch_model, "train", timed(times, "pytorch", torch_model.train)),
        mock.patch.object(baseline, "train", timed(times, "tfidf_lr", baseline.train)),
        mock.patch.object(baseline, "probabilities", timed(times, "tfidf_lr", baseline.probabilities)),
    ):
        config = torch_model.TorchConfig(seed=seed)
        epochs: list[int] = []
        train = timed(times, "whole", train_categorizers)
        result = train(data, f"bench-s{seed}", config, on_epoch=lambda e, _f: epochs.append(e))
    times["epochs"] = [float(len(epochs))]
    print(f"   (seed {seed}: trained in {times['whole'][0]:.0f} s, {len(epochs)} epochs, load {loadavg()})")
    return result, times


def macro_f1(truth: np.ndarray, predicted: np.ndarray, k: int) -> float:
    """``ml.categorizer.evaluate.figures``' macro-F1 (classes present in ``truth``; -1 is
    no answer, always wrong), fast enough for the bootstrap."""
    cm = np.bincount(truth * (k + 1) + np.where(predicted < 0, k, predicted), minlength=k * (k + 1))
    cm = cm.reshape(k, k + 1)
    support, answered = cm.sum(axis=1), cm.sum(axis=0)[:k]
    f1 = 2 * np.diag(cm[:, :k]) / np.maximum(support + answered, 1)
    return float(f1[support > 0].mean())


def test_predictions(result: CategorizerResult, test: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per test item: the class index each model answers (-1 outside the classes)."""
    index = {c: i for i, c in enumerate(result.metrics["classes"])}
    texts = list(zip(test["description"].astype(str), test["vendor"].fillna("").astype(str), strict=True))
    out = {
        name: np.array([int(model.scores([d], v)[0].argmax()) for d, v in texts])
        for name, model in result.candidates.items()
    }
    # What ingest runs, and the same with the other model behind the same keyword fallback.
    other = "tfidf_lr" if result.metrics["shipped"] == "pytorch" else "pytorch"
    for key, model in (("in_ingest", result.shipped), (f"{other}+rules", result.candidates[other])):
        ingest = ModelCategorizer(model, fallback=KeywordCategorizer())
        out[key] = np.array(
            [index.get(ingest.predict([d], vendor=v or None)[0].category, -1) for d, v in texts]
        )
    return out


def bootstrap(
    truth: np.ndarray, groups: np.ndarray, a: np.ndarray, b: np.ndarray, k: int, n: int
) -> tuple[float, float, float, float]:
    """Macro-F1(a) - macro-F1(b): observed, 95% percentile interval and the share of
    resamples above 0, resampling whole test groups (receipts) with replacement."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    members = [np.flatnonzero(groups == g) for g in np.unique(groups)]
    diffs = np.empty(n)
    for i in range(n):
        idx = np.concatenate([members[j] for j in rng.integers(0, len(members), len(members))])
        diffs[i] = macro_f1(truth[idx], a[idx], k) - macro_f1(truth[idx], b[idx], k)
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return macro_f1(truth, a, k) - macro_f1(truth, b, k), float(lo), float(hi), float((diffs > 0).mean())


def figure(metrics: dict[str, Any], name: str) -> dict[str, Any]:
    if name == "keyword rules":
        return dict(metrics["test_keyword_rules"])
    return dict(metrics["test_in_ingest"] if name == "in ingest" else metrics["test"][name])


def accuracy_section(data: pd.DataFrame, seeds: list[int], resamples: int) -> None:
    runs = {seed: train_timed(data, seed) for seed in seeds}
    result, times = runs[seeds[0]]
    m, test = result.metrics, data[data["split"] == "test"]
    print(f"\n== 1. held-out test split, seed {seeds[0]} (TorchConfig() defaults), load {loadavg()}")
    print(
        f"   examples {m['examples']}, {len(m['classes'])} classes, {test['group'].nunique()} test groups; "
        f"shipped {m['shipped']} (chosen on validation), baseline C {m['baseline_c']}, T {m['temperature']}"
    )
    names = ("pytorch", "tfidf_lr", "keyword rules", "in ingest")
    print(f"   {'model':<14} {'macro-F1':>8} {'accuracy':>8} {'ECE':>6} {'val macro-F1':>12}")
    for name in names:
        f, val = figure(m, name), m["validation_macro_f1"].get(name)
        val_text = "" if val is None else f"{val:.4f}"
        print(f"   {name:<14} {f['macro_f1']:>8.4f} {f['accuracy']:>8.4f} {f['ece']:>6.4f} {val_text:>12}")
    print(f"   (in ingest = {m['shipped']}, a matching keyword rule below its confidence floor)")
    print("   per-class F1 pytorch / tfidf_lr / in ingest (test support):")
    for c, support in test["label"].value_counts().items():
        f1s = " / ".join(
            f"{figure(m, n)['f1_by_class'][c]:.3f}" for n in ("pytorch", "tfidf_lr", "in ingest")
        )
        print(f"     {c:<20} {f1s}  ({support})")
    bundled = ExportedModel.from_bytes(BUNDLED_MODEL.read_bytes())
    same = all(np.array_equal(getattr(bundled, a), getattr(result.shipped, a)) for a in ("rows", "table"))
    print(f"   bundled {BUNDLED_MODEL.name} ({bundled.version}) identical to this shipped model: {same}")

    if len(seeds) > 1:
        shipped = [r.metrics["shipped"] for r, _ in runs.values()]
        print(f"\n   over seeds {seeds} (shipped: {shipped}): mean ± half-range (each seed)")
        for name in (*names[:2], names[3], "val pytorch", "val tfidf_lr"):
            v = [
                r.metrics["validation_macro_f1"][name[4:]]
                if name.startswith("val ")
                else figure(r.metrics, name)["macro_f1"]
                for r, _ in runs.values()
            ]
            each = ", ".join(f"{x:.4f}" for x in v)
            print(f"     {name:<14} {statistics.mean(v):.4f} ± {(max(v) - min(v)) / 2:.4f}  ({each})")

    k, index = len(m["classes"]), {c: i for i, c in enumerate(m["classes"])}
    truth = np.array([index[c] for c in test["label"]])
    predictions = test_predictions(result, test)
    for key, name in (("pytorch", "pytorch"), ("tfidf_lr", "tfidf_lr"), ("in_ingest", "in ingest")):
        # the fast macro-F1 is the figure train.py reports
        assert abs(macro_f1(truth, predictions[key], k) - figure(m, name)["macro_f1"]) < 1e-3, key
    print(
        f"\n   bootstrap of test groups ({resamples} resamples, seed {BOOTSTRAP_SEED}), macro-F1 difference:"
    )
    print(f"     (other model + rules: {macro_f1(truth, predictions[list(predictions)[-1]], k):.4f})")
    groups, other = test["group"].to_numpy(), list(predictions)[-1]
    for a, b in (("in_ingest", "tfidf_lr"), ("pytorch", "tfidf_lr"), ("in_ingest", other)):
        diff, lo, hi, above = bootstrap(truth, groups, predictions[a], predictions[b], k, resamples)
        print(f"     {a:<9} - {b:<14} {diff:+.4f}, 95% [{lo:+.4f}, {hi:+.4f}], > 0 in {above:.0%}")

    threads = f"torch.get_num_threads() {torch.get_num_threads()}, os.cpu_count() {os.cpu_count()}"
    print(f"\n== 2. training time, seed {seeds[0]} ({threads})")
    for label, what in (
        ("pytorch", "PyTorch model (torch_model.train, early stopping)"),
        ("tfidf_lr", f"TF-IDF + LR baseline (C grid: {len(BASELINE_C)} fits + validation)"),
        ("whole", "train_categorizers (both, temperature, choice, scoring)"),
    ):
        print(f"   {what:<58} wall {times[label][0]:6.1f} s  CPU {times[label][1]:6.1f} s")
    each = ", ".join(
        f"{s}: {t['pytorch'][0]:.0f} ({t['epochs'][0]:.0f}e) / {t['tfidf_lr'][0]:.0f} / {t['whole'][0]:.0f} s"
        for s, (_, t) in runs.items()
    )
    print(f"   wall pytorch / tfidf_lr / whole, per seed: {each}")


COLD = """
import json, time
t0 = time.perf_counter()
import numpy
t1 = time.perf_counter()
from lambda_src.ingest import model_categorizer
t2 = time.perf_counter()
c = model_categorizer.load_categorizer()
t3 = time.perf_counter()
c.predict(["coca cola 1.5l"], vendor="7-eleven")
t4 = time.perf_counter()
assert isinstance(c, model_categorizer.ModelCategorizer), type(c)
print(json.dumps([t1 - t0, t2 - t1, t3 - t2, t4 - t3]))
"""


def percentiles(values: list[float]) -> str:
    p50, p99 = np.percentile(values, [50, 99])
    return f"p50 {p50 * 1e3:7.3f} ms  p99 {p99 * 1e3:7.3f} ms"


def time_receipts(categorizer: Categorizer, receipts: list[Receipt], passes: int) -> tuple[list[float], ...]:
    """Per receipt: ``predict`` as ``categorize`` calls it, and ``categorize`` itself;
    per item: the receipt's predict time / its items (one value per item)."""
    for r in receipts:  # warm-up
        categorize(r, categorizer)
    predict, whole, per_item = [], [], []
    for _ in range(passes):
        for r in receipts:
            descriptions = [i.description for i in r.line_items]
            start = time.perf_counter()
            categorizer.predict(descriptions, vendor=r.vendor.name)
            elapsed = time.perf_counter() - start
            predict.append(elapsed)
            per_item += [elapsed / len(descriptions)] * len(descriptions)
            start = time.perf_counter()
            categorize(r, categorizer)
            whole.append(time.perf_counter() - start)
    return predict, whole, per_item


def receipt(descriptions: list[str], vendor: str) -> Receipt:
    return Receipt(
        receipt_id="r", user_id="u", vendor=Vendor(name=vendor or None),
        line_items=[LineItem(description=d) for d in descriptions],
    )  # fmt: skip


def inference_section(data: pd.DataFrame, items: int, runs: int) -> None:
    print(f"\n== 3. inference in the ingest path (load {loadavg()})")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-c", COLD]
    cold = [
        json.loads(subprocess.run(command, env=env, capture_output=True, check=True).stdout)
        for _ in range(runs)
    ]
    names = ("import numpy", "import model_categorizer (the rest)", "load_categorizer()", "first predict")
    med = [statistics.median(c[i] for c in cold) for i in range(4)]
    print(f"   cold, fresh interpreter (median of {runs}; this machine's numpy, not Lambda's aarch64):")
    print("     " + ", ".join(f"{n} {v * 1e3:.1f} ms" for n, v in zip(names, med, strict=True)))

    picked: list[pd.DataFrame] = []
    for _, frame in data[data["source"] == "receipts"].groupby("group", sort=False):
        if sum(map(len, picked)) >= items:
            break
        picked.append(frame)
    receipts = [receipt(f["description"].astype(str).tolist(), str(f["vendor"].iloc[0])) for f in picked]
    flat = [(str(d), str(v)) for f in picked for d, v in zip(f["description"], f["vendor"], strict=True)]
    eights = [receipt([d for d, _ in flat[i : i + 8]], flat[i][1]) for i in range(0, len(flat) - 7, 8)]
    sizes = [len(r.line_items) for r in receipts]
    print(
        f"   {len(flat)} real descriptions in {len(receipts)} dataset receipts (items: median "
        f"{statistics.median(sizes):.0f}, max {max(sizes)}), and as {len(eights)} 8-item receipts; 3 passes"
    )
    bundled = ModelCategorizer(ExportedModel.from_bytes(BUNDLED_MODEL.read_bytes()))
    for name, categorizer in (
        ("model + rules (ingest)", bundled),
        ("keyword rules alone", KeywordCategorizer()),
    ):
        predict, whole, per_item = time_receipts(categorizer, receipts, 3)
        _, whole8, per_item8 = time_receipts(categorizer, eights, 3)
        print(f"   {name}:")
        print(f"     per item (receipt's predict / its items)  {percentiles(per_item)}")
        print(f"     per receipt, predict                      {percentiles(predict)}")
        print(f"     per receipt, categorize()                 {percentiles(whole)}")
        print(f"     8-item receipt, categorize()              {percentiles(whole8)}")
        print(f"     8-item receipt, predict per item          {percentiles(per_item8)}")


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def asset_section() -> None:
    print(f"\n== 4. the ingest Lambda asset (load {loadavg()})")
    model = ExportedModel.from_bytes(BUNDLED_MODEL.read_bytes())
    print(
        f"   {BUNDLED_MODEL.relative_to(REPO_ROOT)}: {BUNDLED_MODEL.stat().st_size:,} bytes "
        f"({model.kind}, {len(model.rows):,} rows x {model.table.shape[1]} {model.table.dtype})"
    )
    deps = install_requirements(LAMBDA_SRC / "ingest" / "requirements.txt")
    with tempfile.TemporaryDirectory() as tmp:
        asset, archive = Path(tmp) / "asset", Path(tmp) / "asset.zip"
        assemble("ingest", asset, deps)  # what stacks/bundling.py lays out
        total, ours = du(asset), du(asset / "lambda_src")
        numpy_bytes = sum(du(p) if p.is_dir() else p.stat().st_size for p in asset.glob("numpy*"))
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in sorted(asset.rglob("*")):
                if p.is_file():
                    zf.write(p, p.relative_to(asset))
            numpy_zipped = sum(i.compress_size for i in zf.infolist() if i.filename.startswith("numpy"))
        zipped = archive.stat().st_size
    print(f"   requirements folder: {deps}")
    print(
        f"   unzipped: {total / MB:.1f} MB with numpy, {(total - numpy_bytes) / MB:.1f} MB without; numpy* "
        f"{numpy_bytes / MB:.1f} MB ({numpy_bytes / total:.0%}); lambda_src (ours, model included) "
        f"{ours / MB:.2f} MB; {total / LAMBDA_UNZIPPED_LIMIT:.0%} of Lambda's 250 MB unzipped limit"
    )
    print(
        f"   zipped (deflate): {zipped / MB:.1f} MB with numpy, "
        f"~{(zipped - numpy_zipped) / MB:.1f} MB without (numpy* {numpy_zipped / MB:.1f} MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=3, help="training seeds 7, 8, …; 7 is the default one")
    parser.add_argument("--quick", action="store_true", help="one seed, 500 items, 3 cold loads")
    args = parser.parse_args()
    seeds = [7 + i for i in range(1 if args.quick else args.seeds)]
    print(f"== categorizer bench, {time.strftime('%Y-%m-%d %H:%M')}, load average {loadavg()}")
    data = dataset()
    accuracy_section(data, seeds, 1000)
    inference_section(data, 500 if args.quick else 2000, 3 if args.quick else 7)
    asset_section()
    print(f"\n== done, load average {loadavg()}")


if __name__ == "__main__":
    main()
