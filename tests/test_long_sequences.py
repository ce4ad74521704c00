"""Long and mixed-length sequences: batches cut to their longest sequence, budgeted evaluation.

The cut path (a batch trimmed to its own longest sequence) must give the logits and the
training of the uncut path (every batch padded to the dataset's widest) up to rounding, and
must not run at all for equal-length data. A module opts in with ``trim_padding``; an
:class:`Uncut` wrapper (no such attribute) runs the same weights the old way.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn
from toy_models import MeanEmbed

import badlabels.engine.stacked.fit as stacked_fit
from badlabels.engine.averaging import SnapshotMean
from badlabels.engine.stacked import Workspace, fit_stacked, predict_stacked, predict_stacked_rows
from badlabels.engine.trainer import (
    EVAL_BATCH_SIZE,
    DeviceData,
    Trainer,
    batch_width,
    eval_chunk_rows,
    predict_logits,
    to_device_data,
    trims_padding,
)
from badlabels.models import LSTMClassifier
from badlabels.models.base import EncodedInput
from badlabels.models.bilstm import BiLSTMNet
from badlabels.models.cnn import CNNNet
from badlabels.models.lstm import LSTMNet
from badlabels.models.mlp import MLPNet
from badlabels.models.transformer import TransformerNet

N_TOKENS = 21


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks: one thread is as fast and immune to a busy machine's oversubscription."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class Uncut(nn.Module):
    """The same network without ``trim_padding``: it always gets the full padded width."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, tokens, lengths=None, onehot=None):
        return (
            self.inner(tokens, lengths) if onehot is None else self.inner(tokens, lengths, onehot)
        )


def widths_seen(module: nn.Module) -> list[int]:
    """Record the width of every batch ``module`` is called with."""
    seen: list[int] = []
    module.register_forward_pre_hook(lambda m, args: seen.append(int(args[0].shape[1])))
    return seen


def mixed(n: int, lo: int, hi: int, width: int, seed: int = 0):
    """Right-padded tokens (n, width) of lengths in [lo, hi], their lengths and labels."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(lo, hi + 1, n)
    tokens = np.zeros((n, width), dtype=np.int64)
    for i, ln in enumerate(lengths):
        tokens[i, :ln] = rng.integers(1, N_TOKENS, ln)
    y = ((tokens == 1).sum(1) + (tokens == 2).sum(1) > 2).astype(np.int64)
    return tokens, lengths, y


def networks():
    torch.manual_seed(0)
    return {
        "lstm": LSTMNet(N_TOKENS, (16, 6)),
        "bilstm": BiLSTMNet(N_TOKENS, (8, 4)),
        "transformer": TransformerNet(
            N_TOKENS, 64, d_model=16, n_layers=2, n_heads=2, dim_feedforward=32
        ),  # fmt: skip
        "cnn": CNNNet(N_TOKENS, (8, 8), kernel_size=5),
    }


def test_which_networks_take_cut_batches():
    nets = networks()
    for name in ("lstm", "bilstm", "cnn"):
        assert trims_padding(nets[name])
    transformer = nets["transformer"]
    assert trims_padding(transformer.eval())
    assert not trims_padding(transformer.train())  # dropout masks depend on the width
    torch.manual_seed(0)
    assert trims_padding(TransformerNet(N_TOKENS, 8, d_model=8, n_heads=2, dropout=0.0).train())
    assert not trims_padding(MLPNet(N_TOKENS, 12))  # fixed length: always max_len wide
    assert not trims_padding(MeanEmbed())  # no opt-in: means over padding too
    assert trims_padding(EncodedInput(nets["lstm"], np.eye(20, 3, dtype=np.float32)))
    assert not trims_padding(Uncut(nets["lstm"]))
    assert trims_padding(SnapshotMean([nets["lstm"], nets["cnn"]]))
    assert not trims_padding(SnapshotMean([nets["lstm"], MeanEmbed()]))


def test_batch_width_and_chunk_rows():
    assert batch_width(None, 30) == 30
    assert batch_width(torch.tensor([3, 17, 9]), 30) == 17
    assert batch_width(torch.tensor([3, 17, 9]), 30, multiple=8) == 24
    assert batch_width(torch.tensor([[3, 29], [1, 2]]), 30, multiple=8) == 30  # never wider
    # short sequences keep the old fixed row count (equal-length results unchanged)
    for width in (4, 12, 16):
        assert eval_chunk_rows(width) == EVAL_BATCH_SIZE
    assert eval_chunk_rows(600) == 2**17 // 600
    assert eval_chunk_rows(600, device="cuda") == 2**20 // 600
    assert eval_chunk_rows(10**7) == 1
    assert eval_chunk_rows(600, batch_size=50) == 50
    assert eval_chunk_rows(100, token_budget=1000) == 10


@pytest.mark.parametrize("name", ["lstm", "bilstm", "transformer", "cnn"])
def test_cut_prediction_batches_give_the_uncut_logits(name):
    net = networks()[name].eval()
    tokens, lengths, _ = mixed(90, 3, 30, width=64, seed=1)  # padded far past the longest
    data = to_device_data(tokens, lengths)
    seen = widths_seen(net)
    got = predict_logits(net, data, batch_size=16)
    cut = list(seen)
    ref = predict_logits(Uncut(net), data, batch_size=16)
    assert max(cut) <= 30 and len(set(cut)) > 1 and seen[len(cut) :] == [64] * len(cut)
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-5)
    with torch.inference_mode():  # and one pass over the whole padded data
        net.eval()  # (Uncut(net) was in train mode, and predict_logits restored that)
        torch.testing.assert_close(got, net(data.tokens, data.lengths), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", ["lstm", "bilstm", "transformer", "cnn"])
def test_equal_length_data_is_never_cut(name):
    net = networks()[name].eval()
    rng = np.random.default_rng(2)
    tokens = rng.integers(1, N_TOKENS, (40, 12))
    data = to_device_data(tokens, np.full(40, 12))
    assert data.lengths is None
    seen = widths_seen(net)
    got = predict_logits(net, data, batch_size=16)
    assert seen == [12, 12, 12]
    assert torch.equal(got, predict_logits(Uncut(net), data, batch_size=16))


def test_evaluation_chunks_stay_within_the_token_budget():
    net = networks()["lstm"].eval()
    tokens, lengths, _ = mixed(50, 20, 100, width=100, seed=3)
    data = to_device_data(tokens, lengths)
    rows: list[int] = []
    net.register_forward_pre_hook(lambda m, args: rows.append(int(args[0].shape[0])))
    got = predict_logits(net, data, token_budget=1000)
    assert max(rows) == 10 and sum(rows) == 50
    torch.testing.assert_close(got, predict_logits(net, data), atol=1e-6, rtol=1e-6)


class FeatureRows(nn.Module):
    """A linear logit of float feature rows (n, d), as a features-reading model has."""

    def __init__(self, d: int):
        super().__init__()
        self.linear = nn.Linear(d, 1)

    def forward(self, x, lengths=None):
        return self.linear(x).squeeze(-1)


def test_feature_rows_are_not_budgeted_as_positions():
    net = FeatureRows(300)
    rows: list[int] = []
    net.register_forward_pre_hook(lambda m, args: rows.append(int(args[0].shape[0])))
    predict_logits(net, DeviceData(tokens=torch.randn(20, 300)), token_budget=600)
    assert rows == [20]  # 20 rows of 300 features: one chunk, not 2 rows per chunk


def fit_pair(net: nn.Module, width: int, **trainer_kw):
    """Train ``net`` cut and an identical copy uncut on the same mixed-length data."""
    tokens, lengths, y = mixed(120, 4, 30, width=width, seed=4)
    vt, vl, vy = mixed(40, 4, 30, width=width, seed=5)
    train, val = to_device_data(tokens, lengths, y), to_device_data(vt, vl, vy)
    twin = copy.deepcopy(net)
    trainer = Trainer(batch_size=16, max_epochs=2, patience=None, lr=1e-2, seed=7, **trainer_kw)
    seen = widths_seen(net)
    torch.manual_seed(11)  # dropout draws
    got = trainer.fit(net, train, val)
    torch.manual_seed(11)
    ref = trainer.fit(Uncut(twin), train, val)
    return got, ref, seen, (net, twin, val)


@pytest.mark.parametrize("name", ["lstm", "bilstm"])
def test_cut_training_follows_the_uncut_loss_trajectory(name):
    got, ref, seen, (net, twin, val) = fit_pair(networks()[name], width=48)
    assert max(seen) <= 30  # training and validation batches were cut
    for a, b in zip(got.history, ref.history, strict=True):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4, abs=1e-6)
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-4, abs=1e-6)
    torch.testing.assert_close(predict_logits(net, val), predict_logits(twin, val),
                               atol=1e-4, rtol=1e-4)  # fmt: skip


def test_transformer_with_dropout_trains_uncut_and_evaluates_cut():
    net = networks()["transformer"]  # dropout 0.1
    got, ref, seen, _ = fit_pair(net, width=48)
    # epoch 1: 8 training batches, then 1 validation chunk
    assert seen[:8] == [48] * 8  # training batches keep their width: the same dropout draws
    assert seen[8] <= 30  # validation was cut
    for a, b in zip(got.history, ref.history, strict=True):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4, abs=1e-6)
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-4, abs=1e-6)


def test_estimator_on_mixed_lengths_matches_its_uncut_network():
    rng = np.random.default_rng(6)
    aa = np.array(list("ACDEFGHIKLMNPQRSTVWY"))
    X = ["".join(rng.choice(aa, rng.integers(5, 40))) for _ in range(200)]
    y = np.array([s.count("A") + s.count("C") > 2 for s in X], dtype=int)
    X[0] = "A" * 60  # one long sequence: most batches are much narrower than the data
    m = LSTMClassifier(hidden_sizes=(8, 4), max_epochs=2, batch_size=40, random_state=0,
                       device="cpu", mixup_alpha=0.2).fit(X, y)  # fmt: skip
    tokens, lengths = m._encode(X)
    data = to_device_data(tokens, lengths)
    ref = predict_logits(Uncut(m.module_), data).numpy()
    np.testing.assert_allclose(m.decision_function(X), ref, atol=1e-5, rtol=1e-5)


def stacked_data(width: int):
    tokens, lengths, y = mixed(200, 4, 30, width=width, seed=8)
    vt, vl, vy = mixed(50, 4, 30, width=width, seed=9)
    as_t = torch.as_tensor
    ys = as_t(np.stack([y, 1 - y]), dtype=torch.float32)
    vys = as_t(np.stack([vy, 1 - vy]), dtype=torch.float32)
    return as_t(tokens), as_t(lengths), ys, as_t(vt), as_t(vl), vys


def test_stacked_cut_batches_follow_the_uncut_training(monkeypatch):
    tokens, lengths, ys, vt, vl, vys = stacked_data(width=50)
    kw = dict(seeds=[0, 1], val_tokens=vt, val_lengths=vl, val_y=vys, hidden_sizes=(12, 5),
              batch_size=32, max_epochs=3, patience=None, lr=1e-2, precision="fp32")  # fmt: skip
    got = fit_stacked(tokens, lengths, ys, **kw)
    pred = predict_stacked(got.module, vt, vl)
    rows = [torch.arange(0, 50, 2), torch.arange(1, 50, 3)]
    by_rows = predict_stacked_rows(got.module, vt, vl, rows)
    monkeypatch.setattr(stacked_fit, "batch_width", lambda lengths, width, multiple=1: int(width))
    ref = fit_stacked(tokens, lengths, ys, **kw)
    for a, b in zip(got.history, ref.history, strict=True):
        for ea, eb in zip(a, b, strict=True):
            assert ea["train_loss"] == pytest.approx(eb["train_loss"], rel=1e-4, abs=1e-6)
            assert ea["val_loss"] == pytest.approx(eb["val_loss"], rel=1e-4, abs=1e-6)
    torch.testing.assert_close(pred, predict_stacked(got.module, vt, vl), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(pred, predict_stacked(ref.module, vt, vl), atol=1e-4, rtol=1e-4)
    for k, r in enumerate(rows):
        torch.testing.assert_close(by_rows[k], pred[k, r], atol=1e-5, rtol=1e-5)


def test_stacked_equal_length_batches_keep_their_width():
    rng = np.random.default_rng(10)
    tokens = torch.as_tensor(rng.integers(1, N_TOKENS, (64, 9)))
    ys = torch.as_tensor(rng.integers(0, 2, (2, 64)), dtype=torch.float32)
    res = fit_stacked(tokens, None, ys, seeds=[0, 1], hidden_sizes=(6, 3), batch_size=16,
                      max_epochs=1, precision="fp32")  # fmt: skip
    seen = widths_seen(res.module)
    predict_stacked(res.module, tokens, None)
    assert seen == [9]


def test_workspace_is_emptied_when_the_width_changes():
    ws = Workspace()
    ws.begin(2, 8, 16)
    ws.give(torch.empty(16, 2, 8, 4))
    ws.begin(2, 8, 16)
    assert ws.free  # same shape: reused
    ws.begin(2, 8, 24)
    assert not ws.free  # another width: emptied, so buffers never pile up per width
