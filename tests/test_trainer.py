"""Tests of the training loop, losses and device handling (tiny tensors, CPU)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from toy_models import MeanEmbed

from badlabels.engine import (
    Trainer,
    available_losses,
    get_loss,
    predict_logits,
    register_loss,
    resolve_device,
    to_device_data,
)
from badlabels.errors import BadInputError


def toy(n=300, seed=0, noise=0.0):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(1, 5, (n, 6))
    y = (tokens[:, 0] <= 2).astype(np.int64)
    flip = rng.random(n) < noise
    y[flip] = 1 - y[flip]
    return tokens, np.full(n, 6), y


def test_bce_loss_and_registry():
    assert "bce" in available_losses()
    loss = get_loss("bce")
    logits = torch.tensor([0.5, -1.0, 2.0])
    y = torch.tensor([1.0, 0.0, 0.0])
    assert torch.allclose(loss(logits, y), F.binary_cross_entropy_with_logits(logits, y))
    w = torch.tensor([1.0, 0.0, 2.0])
    per = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
    assert torch.allclose(loss(logits, y, w), (per * w).mean())
    with pytest.raises(BadInputError, match="bce"):
        get_loss("nope")
    with pytest.raises(BadInputError, match="q"):
        get_loss("bce", q=0.5)


def test_register_loss_with_params():
    @register_loss("_test_scaled_bce")
    def scaled(scale=1.0):
        def loss(logits, targets, weight=None):
            return scale * F.binary_cross_entropy_with_logits(logits, targets)

        return loss

    fn = get_loss("_test_scaled_bce", scale=3.0)
    logits, y = torch.zeros(2), torch.ones(2)
    assert fn(logits, y).item() == pytest.approx(3 * np.log(2), rel=1e-6)
    with pytest.raises(ValueError):
        register_loss("_test_scaled_bce")(scaled)


def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(BadInputError, match="device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(BadInputError, match="CUDA"):
            resolve_device("cuda")


def test_to_device_data_marks_uniform_lengths():
    tokens = np.array([[1, 2, 3], [3, 2, 0]])
    d = to_device_data(tokens, np.array([3, 2]), y=np.array([1, 0]))
    assert d.lengths is not None and d.y.dtype == torch.float32 and len(d) == 2
    d = to_device_data(tokens[:1], np.array([3]))
    assert d.lengths is None and d.y is None


def test_trainer_learns_and_records_history():
    tokens, lengths, y = toy()
    train = to_device_data(tokens[:240], lengths[:240], y[:240])
    val = to_device_data(tokens[240:], lengths[240:], y[240:])
    torch.manual_seed(0)
    module = MeanEmbed()
    calls = []
    result = Trainer(lr=0.05, batch_size=32, max_epochs=8, patience=3, seed=0).fit(
        module, train, val, progress=lambda e, **kw: calls.append(kw)
    )
    assert len(result.history) == result.epochs_run == len(calls)
    assert [h["epoch"] for h in result.history] == list(range(1, result.epochs_run + 1))
    assert result.history[-1]["val_loss"] < result.history[0]["val_loss"]
    assert calls[0].keys() == {"epoch", "max_epochs", "train_loss", "val_loss"}
    assert not module.training
    logits = predict_logits(module, val, batch_size=7)  # odd batch size: same result
    assert torch.allclose(logits, predict_logits(module, val))
    best = min(h["val_loss"] for h in result.history)
    assert F.binary_cross_entropy_with_logits(logits, val.y).item() == pytest.approx(best, abs=1e-6)


def test_trainer_early_stopping_restores_best():
    # noisy labels, big steps: validation loss goes up and training stops early
    tokens, lengths, y = toy(200, seed=3, noise=0.45)
    train = to_device_data(tokens[:100], lengths[:100], y[:100])
    val = to_device_data(tokens[100:], lengths[100:], y[100:])
    torch.manual_seed(0)
    module = MeanEmbed()
    result = Trainer(lr=0.3, batch_size=10, max_epochs=30, patience=2, seed=0).fit(
        module, train, val
    )
    vals = [h["val_loss"] for h in result.history]
    assert result.epochs_run < 30
    assert result.best_epoch == int(np.argmin(vals)) + 1
    assert result.epochs_run - result.best_epoch == 2
    loss = F.binary_cross_entropy_with_logits(predict_logits(module, val), val.y).item()
    assert loss == pytest.approx(min(vals), abs=1e-6)


def test_trainer_without_validation_runs_all_epochs():
    tokens, lengths, y = toy(100)
    train = to_device_data(tokens, lengths, y)
    result = Trainer(batch_size=16, max_epochs=3, patience=1).fit(MeanEmbed(), train, None)
    assert result.epochs_run == 3 and result.best_epoch == 3
    assert all(h["val_loss"] is None for h in result.history)


def test_trainer_deterministic_batch_order():
    tokens, lengths, y = toy(120)
    train = to_device_data(tokens, lengths, y)

    def run(seed):
        torch.manual_seed(0)
        m = MeanEmbed()
        Trainer(lr=0.05, batch_size=16, max_epochs=2, seed=seed).fit(m, train)
        return predict_logits(m, train)

    assert torch.equal(run(1), run(1))
    assert not torch.equal(run(1), run(2))
