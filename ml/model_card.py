"""The model card written beside every run's artifacts: what the models are, what they
learned from, how they score on held-out data, and where they should not be trusted."""

from __future__ import annotations

from typing import Any


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def model_card(metrics: dict[str, Any]) -> str:
    cat = metrics["categorizer"]
    fc = metrics["forecast"]
    shipped = cat["shipped"]
    rows = "\n".join(
        f"| {name}{' (shipped)' if name == shipped else ''} | {_pct(f['macro_f1'])} | {_pct(f['accuracy'])} "
        f"| {_pct(f['ece'])} |"
        for name, f in [*cat["test"].items(), ("keyword rules", cat["test_keyword_rules"])]
    )
    per_class = "\n".join(f"| {c} | {_pct(v)} |" for c, v in cat["test"][shipped]["f1_by_class"].items())
    promotion = metrics["promotion"]
    return f"""# receiptlake models, version {metrics["version"]}

As of {metrics["as_of"]}. Promoted to `latest`: **{"yes" if promotion["promote"] else "no"}**
({promotion["reason"]}).

## Line-item categorizer

Puts a receipt line ("TEH SEREH", "Gasoleo Simples") into the spending taxonomy
(docs/categories.md). Runs in the ingest Lambda with numpy (weights in `categorizer.npz`);
below its confidence floor the keyword rules answer instead.

- Data: {cat["examples"]["train"]} training, {cat["examples"]["validation"]} validation and
  {cat["examples"]["test"]} held-out test examples from public receipt and bank-statement
  datasets (ml/data/SOURCE.txt), plus {cat["corrections"]} users' corrections. The split is
  fixed by a hash of the receipt id; the test part is never used for training or choosing.
- Models compared: PyTorch embedding bag over hashed word and character n-grams; TF-IDF +
  logistic regression (C={cat["baseline_c"]}) on the same features. Chosen on validation
  macro-F1: {", ".join(f"{k} {v:.3f}" for k, v in cat["validation_macro_f1"].items())}.

| model (held-out test) | macro-F1 | accuracy | calibration error |
|---|---|---|---|
{rows}

| category | F1 (shipped) |
|---|---|
{per_class}

Limits: the public labels are AI-assisted and noisy; restaurant lines dominate (most
examples are dining), so rare categories (health, travel) have few or no test examples;
descriptions in languages other than English, Indonesian and Portuguese were barely seen.

## Forecast and anomalies

Next month's spend per user, currency and category: a pooled seasonal index times the
user's recent level (spikes clipped), with an {int(fc["level"] * 100)}% interval from backtest errors.
Rolling-origin backtest over the lake's history: MAE {_pct(fc["mae_model"])} vs seasonal-naive
{_pct(fc["mae_seasonal_naive"])} (ratio {_pct(fc.get("ratio"))}, {fc["n_points"]} points,
{fc["n_users"]} users); interval coverage {_pct(fc["coverage"])}. Errors are relative to each
series' mean monthly spend. Anomalies: robust z-scores of a month, category, vendor or
receipt against the user's own previous 12 months, with the vendors and items that drove them.
"""
