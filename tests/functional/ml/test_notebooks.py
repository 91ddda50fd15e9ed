"""The data scientists' notebooks (ml/notebooks/), executed as a reader runs them: a kernel on
this interpreter, the repository root as working directory, parameters from the environment,
against a small lake in local mode's layout and a models folder a training run could leave."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbclient import NotebookClient
from nbformat import NotebookNode
from sklearn.metrics import f1_score

from lambda_src.ingest.categorize import KeywordCategorizer
from lambda_src.ingest.model_categorizer import BUNDLED_MODEL, ExportedModel
from ml.forecast import SPEND_STATUSES
from ml.labels import dataset

if TYPE_CHECKING:  # the fixtures' types (pytest imports conftest itself)
    from tests.functional.ml.conftest import Lake, Models

REPO_ROOT = Path(__file__).resolve().parents[3]
NOTEBOOKS = REPO_ROOT / "ml" / "notebooks"
EXPLORE = NOTEBOOKS / "01-explore-spending.ipynb"
EVALUATE = NOTEBOOKS / "02-evaluate-categorizer.ipynb"
CELL_TIMEOUT = 120  # seconds per cell; the slowest cell takes about two
EXPLORE_FIGURES = 6  # monthly by category, shares, vendors, receipts per user, quality, amounts
EVALUATE_FIGURES = 2  # confusion matrix, reliability diagram
PARAMETERS = ("RECEIPTLAKE_LAKE_DIR", "RECEIPTLAKE_LAKE_ENV", "RECEIPTLAKE_MODELS")


def execute(path: Path, *, until: str | None = None, then: str | None = None, **options: Any) -> NotebookNode:
    """The notebook executed in memory (the file is not touched): only the cells up to the
    one with id ``until`` when given, plus a cell ``then`` that reads the notebook's state."""
    notebook = nbformat.read(path, as_version=4)
    if until is not None:
        ids = [cell.id for cell in notebook.cells]
        notebook.cells = notebook.cells[: ids.index(until) + 1]
    if then is not None:
        notebook.cells.append(nbformat.v4.new_code_cell(then))
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(REPO_ROOT)}},
        **options,
    )
    client.execute()
    return notebook


def outputs(notebook: NotebookNode) -> list[NotebookNode]:
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]


def shown_text(notebook: NotebookNode) -> str:
    """What a reader sees as text: printed lines and displayed tables."""
    parts = []
    for output in outputs(notebook):
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output and "text/plain" in output.data:
            parts.append(output.data["text/plain"])
    return "\n".join(parts)


def figures(notebook: NotebookNode) -> int:
    return sum("image/png" in output.get("data", {}) for output in outputs(notebook))


@pytest.fixture
def kernel_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The kernel inherits this process's environment: start from no parameters, and let
    matplotlib draw inline (a headless MPLBACKEND would produce no figures)."""
    for name in (*PARAMETERS, "MPLBACKEND"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_explore_spending_shows_the_lake_per_currency(
    small_lake: Lake, kernel_env: pytest.MonkeyPatch
) -> None:
    # Given a lake with four users in EUR, USD and ZAR, and one receipt read as "EURO"
    kernel_env.setenv("RECEIPTLAKE_LAKE_DIR", str(small_lake.path))

    # When the notebook runs, and its monthly table is read back
    notebook = execute(EXPLORE, then='print(monthly_table.to_json(orient="split"))')

    # Then it read the lake it was pointed at, and drew every figure
    text = shown_text(notebook)
    r = small_lake.receipts
    items = small_lake.line_items
    assert f"{len(r)} receipts and {len(items)} line items from the local lake at {small_lake.path}" in text
    assert figures(notebook) == EXPLORE_FIGURES
    # and the monthly table is the receipts' totals per month and currency (refunds negative),
    # each currency apart: "EURO" is its own column, never added to EUR
    spent = r[r["status"].isin(SPEND_STATUSES) & r["currency"].notna() & r["total"].notna()]
    total = spent["total"].map(float)
    amount = total.where(~spent["is_refund"].astype(bool), -total.abs())
    month = pd.to_datetime(spent["spend_date"]).dt.strftime("%Y-%m")
    expected = amount.groupby([month, spent["currency"]]).sum()
    shown = json.loads(outputs(notebook)[-1].text)
    table = pd.DataFrame(shown["data"], index=shown["index"], columns=shown["columns"], dtype=float)
    assert set(table.columns) == set(spent["currency"]) and "EURO" in table.columns
    for (m, currency), value in expected.items():
        assert table.loc[m, currency] == pytest.approx(value, abs=0.006), (m, currency)
    # months between a user's receipts, and before a currency's first, are zeros or empty
    rest = [table.loc[m, c] for m in table.index for c in table.columns if (m, c) not in expected.index]
    assert all(np.isnan(value) or value == 0 for value in rest)
    # and the data-quality view counts where spend dates came from
    uploaded = int((r["date_source"] == "uploaded").sum())
    assert re.search(rf"spend date: printed {len(r) - uploaded} \(.*\), uploaded {uploaded} ", text)


def _expected_scores(model_bytes: bytes) -> tuple[float, float, float]:
    """Macro-F1 of the model and of the keyword rules on the test split, and the model's
    expected calibration error (10 bins), computed here rather than read from the notebook."""
    examples = dataset()
    test = examples[examples["split"] == "test"]
    model = ExportedModel.from_bytes(model_bytes)
    pairs = list(zip(test["description"], test["vendor"], strict=True))
    probabilities = np.array([model.scores([text], vendor)[0] for text, vendor in pairs])
    predicted = np.array(model.classes)[probabilities.argmax(axis=1)]
    rules = KeywordCategorizer()
    keyword = [rules.predict([text], vendor=vendor or None)[0].category for text, vendor in pairs]
    confidence = probabilities.max(axis=1)
    right = predicted == test["label"].to_numpy()
    which = np.digitize(confidence, np.linspace(0, 1, 11)[1:-1])
    ece = sum(
        abs(right[which == b].mean() - confidence[which == b].mean()) * (which == b).mean()
        for b in range(10)
        if (which == b).any()
    )
    return (
        float(f1_score(test["label"], predicted, average="macro", zero_division=0)),
        float(f1_score(test["label"], keyword, average="macro", zero_division=0)),
        float(ece),
    )


def test_evaluate_categorizer_scores_the_promoted_model_on_the_test_split(
    trained_models: Models, small_lake: Lake, kernel_env: pytest.MonkeyPatch
) -> None:
    # Given a models folder whose latest.json points at a run with a baseline model and
    # metrics.json, and a lake with users' corrections
    kernel_env.setenv("RECEIPTLAKE_MODELS", str(trained_models.path))
    kernel_env.setenv("RECEIPTLAKE_LAKE_DIR", str(small_lake.path))

    # When the notebook runs
    notebook = execute(EVALUATE)

    # Then it evaluated the promoted model, not the bundled one
    text = shown_text(notebook)
    assert f"model {trained_models.version} (tfidf_lr) from the promoted run {trained_models.version}" in text
    assert "Note: no promoted model" not in text
    # and its figures are the held-out split's, as computed here
    model_f1, keyword_f1, ece = _expected_scores(trained_models.model)
    assert f"held-out macro-F1: {model_f1:.4f}\n" in text
    assert f"keyword rules, held-out macro-F1: {keyword_f1:.4f}\n" in text
    assert f"expected calibration error (10 bins): {ece:.4f}\n" in text
    assert "macro avg" in text  # the per-class report
    assert figures(notebook) == EVALUATE_FIGURES
    # and the run's recorded metrics are shown, both models' macro-F1 among them
    for key in ("categorizer.baseline.macro_f1", "categorizer.torch.macro_f1"):
        assert key in text
    # and the lake's corrections are counted
    corrected = int(small_lake.line_items["category_corrected"].sum())
    assert corrected > 0
    assert f"users' corrections in the lake: {corrected} line items on " in text


def test_evaluate_categorizer_falls_back_to_the_bundled_model(
    tmp_path: Path, kernel_env: pytest.MonkeyPatch
) -> None:
    # Given a models store with nothing promoted yet
    kernel_env.setenv("RECEIPTLAKE_MODELS", str(tmp_path / "models"))

    # When the notebook loads its model
    notebook = execute(EVALUATE, until="load-model", allow_errors=True)

    # Then it says it uses the model bundled with ingest, and uses it if it is there
    text = shown_text(notebook)
    assert f"Note: no promoted model in {tmp_path / 'models'}" in text
    errors = [o for o in outputs(notebook) if o.output_type == "error"]
    if BUNDLED_MODEL.is_file():
        assert not errors and "from the bundled model" in text
    else:  # before a model is bundled: an error that says what to do
        assert [e.ename for e in errors] == ["FileNotFoundError"]
        assert "receiptlake local train" in errors[0].evalue


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_committed_notebooks_are_valid_clean_and_parameterized(path: Path) -> None:
    # Given the notebook as committed
    notebook = nbformat.read(path, as_version=4)

    # Then it is a valid notebook without outputs (diffs show code, not results)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert all(set(cell.metadata) <= {"tags"} for cell in notebook.cells)
    # and its first code cell takes the parameters from the environment
    assert code[0].metadata.get("tags") == ["parameters"]
    assert all(f'os.environ.get("{name}")' in code[0].source for name in PARAMETERS[:2])
    # and nothing points at the tests' fixtures
    assert not any("tests/" in cell.source or "fixtures" in cell.source for cell in notebook.cells)


def test_notebooks_are_named_nn_topic() -> None:
    names = sorted(p.name for p in NOTEBOOKS.iterdir() if not p.name.startswith("."))
    assert {EXPLORE.name, EVALUATE.name} <= set(names)
    assert all(re.fullmatch(r"\d\d-[a-z0-9-]+\.ipynb", name) for name in names), names
