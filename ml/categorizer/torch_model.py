"""The PyTorch categorizer: a bag of hashed word and character n-grams (fastText-style), the
mean of their embeddings, one linear layer. Small enough to train in seconds on two CPU
cores and to run in the ingest Lambda with numpy alone.

Embeddings start at zero, so a bucket no training text reached keeps exactly zero weights:
the export keeps only the rows that were trained, and an unseen n-gram at inference adds
nothing, in PyTorch and in numpy alike.

Training is resumable: after every epoch the whole state (weights, optimizer, epoch, best
so far) goes to a checkpoint, and each epoch's shuffle comes from ``seed + epoch``, so a run
resumed after an interruption ends with the same weights as one that never stopped.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from sklearn.metrics import f1_score
from torch import nn

from lambda_src.ingest.model_categorizer import ExportedModel, FeatureSpec, feature_ids


class Interrupted(Exception):
    """Training stopped on request (a spot interruption); the checkpoint is saved."""


@dataclass(frozen=True)
class TorchConfig:
    buckets: int = 1 << 18
    dim: int = 32
    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 0.02
    patience: int = 6
    seed: int = 7
    checkpoint_every: int = 5  # epochs; a checkpoint is tens of MB, and an interruption saves one anyway

    def describe(self) -> str:
        """A short stable name of the settings (part of a bundled model's version)."""
        return f"eb{self.dim}-b{self.buckets.bit_length() - 1}-s{self.seed}"


class EmbeddingBagClassifier(nn.Module):
    def __init__(self, buckets: int, dim: int, classes: int) -> None:
        super().__init__()
        # Sparse gradients: a batch touches a few hundred of the buckets, so only those move.
        self.embedding = nn.EmbeddingBag(buckets, dim, mode="mean", sparse=True)
        nn.init.zeros_(self.embedding.weight)
        self.linear = nn.Linear(dim, classes)

    def forward(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.linear(self.embedding(ids, offsets))
        return logits


class Optimizer:
    """SparseAdam for the embedding (sparse gradients), Adam for the linear layer."""

    def __init__(self, model: EmbeddingBagClassifier, lr: float) -> None:
        self.sparse = torch.optim.SparseAdam(list(model.embedding.parameters()), lr=lr)
        self.dense = torch.optim.Adam(model.linear.parameters(), lr=lr)

    def zero_grad(self) -> None:
        self.sparse.zero_grad()
        self.dense.zero_grad()

    def step(self) -> None:
        self.sparse.step()
        self.dense.step()

    def state_dict(self) -> dict[str, Any]:
        return {"sparse": self.sparse.state_dict(), "dense": self.dense.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.sparse.load_state_dict(state["sparse"])
        self.dense.load_state_dict(state["dense"])


def encode(texts: Sequence[tuple[str, str]], spec: FeatureSpec) -> list[list[int]]:
    return [feature_ids(description, vendor, spec) for description, vendor in texts]


def _batch(rows: Sequence[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    # An item with no features gets one zero-weight bucket (0 is never trained on purpose:
    # only rows that appear in training move, and a lone empty bag would be undefined).
    lists = [r if r else [0] for r in rows]
    offsets = torch.tensor([0, *np.cumsum([len(r) for r in lists])[:-1].tolist()], dtype=torch.long)
    ids = torch.tensor([i for r in lists for i in r], dtype=torch.long)
    return ids, offsets


@dataclass
class TrainState:
    epoch: int
    best_f1: float
    best_epoch: int
    stale: int
    model: dict[str, Any]
    best_model: dict[str, Any]
    optimizer: dict[str, Any]


def _state_bytes(state: TrainState) -> bytes:
    buffer = io.BytesIO()
    torch.save(state.__dict__, buffer)
    return buffer.getvalue()


def _state_from(data: bytes) -> TrainState:
    return TrainState(**torch.load(io.BytesIO(data), weights_only=True))


def train(
    train_texts: Sequence[tuple[str, str]],
    train_labels: Sequence[int],
    val_texts: Sequence[tuple[str, str]],
    val_labels: Sequence[int],
    classes: int,
    config: TorchConfig,
    *,
    resume: bytes | None = None,
    save: Callable[[bytes], None] = lambda _: None,
    should_stop: Callable[[], bool] = lambda: False,
    on_epoch: Callable[[int, float], None] = lambda _e, _f: None,
) -> EmbeddingBagClassifier:
    """Train with early stopping on validation macro-F1; the best epoch's weights win."""
    torch.set_num_threads(max(1, torch.get_num_threads()))
    torch.manual_seed(config.seed)
    spec = FeatureSpec(config.buckets)
    x_train, x_val = encode(train_texts, spec), encode(val_texts, spec)
    y_train = torch.tensor(train_labels, dtype=torch.long)
    model = EmbeddingBagClassifier(config.buckets, config.dim, classes)
    optimizer = Optimizer(model, config.learning_rate)
    # Rare classes weigh more (square root of inverse frequency: balanced without letting
    # nine travel receipts dominate three thousand restaurant lines).
    counts = np.bincount(np.asarray(train_labels), minlength=classes).astype(np.float64)
    weights = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1.0)), 0.0)
    weights = weights / weights[counts > 0].mean()
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32))

    state = TrainState(0, -1.0, -1, 0, model.state_dict(), model.state_dict(), optimizer.state_dict())
    if resume is not None:
        state = _state_from(resume)
        model.load_state_dict(state.model)
        optimizer.load_state_dict(state.optimizer)
    while state.epoch < config.epochs and state.stale < config.patience:
        if should_stop():
            save(_state_bytes(state))
            raise Interrupted(f"stopped before epoch {state.epoch + 1}")
        model.train()
        order = torch.randperm(
            len(x_train), generator=torch.Generator().manual_seed(config.seed + state.epoch)
        )
        for start in range(0, len(order), config.batch_size):
            idx = order[start : start + config.batch_size].tolist()
            ids, offsets = _batch([x_train[i] for i in idx])
            optimizer.zero_grad()
            loss = loss_fn(model(ids, offsets), y_train[idx])
            loss.backward()
            optimizer.step()
        f1 = macro_f1(predict_ids(model, x_val).argmax(axis=1), val_labels)
        improved = f1 > state.best_f1
        state = TrainState(
            epoch=state.epoch + 1,
            best_f1=f1 if improved else state.best_f1,
            best_epoch=state.epoch + 1 if improved else state.best_epoch,
            stale=0 if improved else state.stale + 1,
            model={k: v.clone() for k, v in model.state_dict().items()},
            best_model={k: v.clone() for k, v in model.state_dict().items()}
            if improved
            else state.best_model,
            optimizer=optimizer.state_dict(),
        )
        if state.epoch % config.checkpoint_every == 0:
            save(_state_bytes(state))
        on_epoch(state.epoch, f1)
    model.load_state_dict(state.best_model)
    return model


def macro_f1(predicted: np.ndarray, truth: Sequence[int]) -> float:
    return float(f1_score(np.asarray(truth), predicted, average="macro", zero_division=0))


@torch.no_grad()
def predict_ids(model: EmbeddingBagClassifier, rows: Sequence[list[int]]) -> np.ndarray:
    """Probabilities for already-encoded rows."""
    model.eval()
    out = []
    for start in range(0, len(rows), 512):
        ids, offsets = _batch(rows[start : start + 512])
        out.append(torch.softmax(model(ids, offsets), dim=1).numpy())
    return np.concatenate(out) if out else np.zeros((0, model.linear.out_features))


@torch.no_grad()
def fit_temperature(model: EmbeddingBagClassifier, rows: Sequence[list[int]], labels: Sequence[int]) -> float:
    """The temperature that makes validation confidences honest (lowest log-loss on a grid):
    early stopping on F1 leaves the network over-confident, and the confidence decides
    when the keyword rules answer instead."""
    model.eval()
    ids, offsets = _batch(rows)
    logits = model(ids, offsets)
    target = torch.tensor(labels, dtype=torch.long)
    grid = np.round(np.arange(0.5, 4.01, 0.05), 2)
    losses = [float(nn.functional.cross_entropy(logits / t, target)) for t in grid]
    return float(grid[int(np.argmin(losses))])


def export(
    model: EmbeddingBagClassifier,
    classes: Sequence[str],
    config: TorchConfig,
    version: str,
    temperature: float = 1.0,
) -> ExportedModel:
    """The weights the Lambda reads: trained rows only, float16 (the shipped model is the
    exported one, and it is the one evaluated). The temperature is folded into the linear
    layer (logits / T), so inference stays the same computation."""
    table = model.embedding.weight.detach().numpy()
    rows = np.flatnonzero(np.abs(table).sum(axis=1) > 0).astype(np.int64)
    return ExportedModel(
        kind="embedding_bag",
        classes=tuple(classes),
        spec=FeatureSpec(config.buckets),
        rows=rows,
        table=table[rows].astype(np.float16),
        weight=(model.linear.weight.detach().numpy() / temperature).astype(np.float32),
        bias=(model.linear.bias.detach().numpy() / temperature).astype(np.float32),
        version=version,
    )


def from_export(exported: ExportedModel, dim: int | None = None) -> EmbeddingBagClassifier:
    """A PyTorch model holding exactly the exported weights (for the parity test)."""
    width = exported.table.shape[1] if dim is None else dim
    model = EmbeddingBagClassifier(exported.spec.buckets, width, len(exported.classes))
    with torch.no_grad():
        model.embedding.weight[torch.from_numpy(exported.rows)] = torch.from_numpy(
            exported.table.astype(np.float32)
        )
        model.linear.weight.copy_(torch.from_numpy(exported.weight.astype(np.float32)))
        model.linear.bias.copy_(torch.from_numpy(exported.bias.astype(np.float32)))
    return model
