"""The stacked engine: K LSTMs trained as one batched computation.

Checks, on the CPU (the GPU-only branches -- fused Adam, TF32, autocast -- are covered by
the CUDA test at the end where a GPU exists, and by the device-independent code they share):

- the hand-written LSTM layer against autograd and against ``nn.LSTM``;
- a stacked model k is exactly ``LSTMClassifier(random_state=seed_k)``: same initial
  weights, same batches, same early stopping, so K = 1 matches the plain trainer to
  rounding and no model depends on which others share its stack;
- a model that stops early stops changing and keeps its best weights;
- the engine's records agree with the plain engine's (within the seed spread, in fact to
  rounding) -- the acceptance test of issue #4.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from badlabels.engine.losses import available_losses, get_loss
from badlabels.engine.stacked import (
    StackedLoss,
    StackedLSTM,
    Workspace,
    cpu_has_fast_bf16,
    eval_rows,
    fit_stacked,
    init_stacked,
    predict_stacked,
    resolve_precision,
)
from badlabels.engine.stacked.fit import _adam_kwargs
from badlabels.engine.stacked.network import _lstm_layer_reference, _LSTMLayer
from badlabels.engine.stacked.precision import _TF32
from badlabels.engine.trainer import Trainer, predict_logits, to_device_data
from badlabels.models.lstm import LSTMNet

ROOT = Path(__file__).resolve().parents[1]
HID = (32, 8)  # small networks keep the training tests quick; the layer tests use (140, 20)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors: one intra-op thread is faster (and steadier on a shared machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def toy(n=600, seed=0, flip=0.1, length=12):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(1, 21, (n, length))
    y = ((tokens[:, 0] < 8) ^ (tokens[:, 3] > 15)).astype(np.int64)
    y = np.where(rng.random(n) < flip, 1 - y, y)
    return tokens, y


def nets(seeds, hidden=(140, 20)):
    out = []
    for s in seeds:
        torch.manual_seed(s)
        out.append(LSTMNet(21, hidden))
    return out


# --- the layer --------------------------------------------------------------------------------


@pytest.mark.parametrize("table", [False, True])
def test_layer_gradcheck_and_reference(table):
    torch.manual_seed(0)
    T, K, B, H, V = 3, 2, 2, 3, 4
    w = torch.randn(K, 4 * H, H, dtype=torch.float64, requires_grad=True)
    if table:
        x = torch.randn(K * V, 4 * H, dtype=torch.float64, requires_grad=True)
        idx = torch.randint(0, K * V, (T, K, B))
    else:
        x = torch.randn(K, T, B, 4 * H, dtype=torch.float64, requires_grad=True)
        idx = None
    assert torch.autograd.gradcheck(
        lambda a, b: _LSTMLayer.apply(a, idx, b, None, None), (x, w), fast_mode=True
    )
    out = _LSTMLayer.apply(x, idx, w, None, None)
    ref = _lstm_layer_reference(x, idx, w)
    assert out.shape == (K, T, B, H)
    torch.testing.assert_close(out, ref)


def test_gpu_elementwise_branch_on_the_cpu(monkeypatch):
    """The branch CUDA takes (native tanh) is the same maths as the CPU one."""
    import badlabels.engine.stacked.network as stacked

    torch.manual_seed(2)
    T, K, B, H, V = 3, 2, 2, 3, 4
    w = torch.randn(K, 4 * H, H, dtype=torch.float64, requires_grad=True)
    x = torch.randn(K * V, 4 * H, dtype=torch.float64, requires_grad=True)
    idx = torch.randint(0, K * V, (T, K, B))
    monkeypatch.setattr(stacked, "TANH_VIA_SIGMOID_ON_CPU", False)
    assert torch.autograd.gradcheck(
        lambda a, b: _LSTMLayer.apply(a, idx, b, None, None), (x, w), fast_mode=True
    )
    plain = nets([0, 1], hidden=(16, 5))
    st = StackedLSTM.from_lstmnets(plain)
    tokens = torch.randint(1, 21, (6, 12))
    with torch.no_grad():
        torch.testing.assert_close(st(tokens), torch.stack([m(tokens) for m in plain]))


def test_fused_adam_state_survives_models_stopping(monkeypatch):
    """CUDA uses fused Adam: slicing its state when a model stops must work the same."""
    import badlabels.engine.stacked.fit as stacked

    tokens, y = toy(600, seed=2)
    vt, vy = toy(150, seed=3)
    args = (torch.as_tensor(tokens), None, torch.as_tensor(np.stack([y, y]), dtype=torch.float32))
    kw = dict(seeds=[1, 2], val_tokens=torch.as_tensor(vt), batch_size=150, hidden_sizes=HID,
              lr=1e-2, precision="fp32", max_epochs=6, patience=1,
              val_y=torch.as_tensor(np.stack([vy, 1 - vy]), dtype=torch.float32))  # fmt: skip
    ref = fit_stacked(*args, **kw)
    monkeypatch.setattr(stacked, "_adam_kwargs", lambda lr, wd, dev: {"lr": lr, "weight_decay": wd, "fused": True})
    got = fit_stacked(*args, **kw)
    assert got.epochs_run == ref.epochs_run and min(ref.epochs_run) < 6
    for p, q in zip(got.module.parameters(), ref.module.parameters(), strict=True):
        torch.testing.assert_close(p, q, atol=1e-5, rtol=1e-4)


def test_workspace_reuse_gives_the_same_gradients():
    torch.manual_seed(1)
    K, T, B, H = 2, 5, 8, 6
    ws = Workspace()
    w = torch.randn(K, 4 * H, H, requires_grad=True)
    for step in range(3):
        x = torch.randn(K, T, B, 4 * H, requires_grad=True)
        ws.begin(K, B)
        out = _LSTMLayer.apply(x, None, w, None, ws)
        g = torch.randn_like(out)
        gx, gw = torch.autograd.grad(out, (x, w), g)
        ref = _lstm_layer_reference(x, None, w)
        rx, rw = torch.autograd.grad(ref, (x, w), g)
        torch.testing.assert_close(gx, rx)
        torch.testing.assert_close(gw, rw)
        if step:
            assert ws.free  # buffers went back to the workspace and were reused
    ws.begin(K + 1, B)
    assert not ws.free  # another shape: emptied


@pytest.mark.parametrize("variable", [False, True])
def test_forward_and_gradients_match_lstmnet(variable):
    plain = nets([0, 1, 2], hidden=(16, 5))
    st = StackedLSTM.from_lstmnets(plain)
    tokens = torch.randint(1, 21, (9, 12))
    lengths = None
    if variable:
        lengths = torch.tensor([12, 5, 3, 12, 1, 7, 9, 11, 2])
        for i, n in enumerate(lengths):
            tokens[i, n:] = 0
    y = torch.randint(0, 2, (3, 9)).float()
    with torch.no_grad():
        ref = torch.stack([m(tokens, lengths) for m in plain])
        torch.testing.assert_close(st(tokens, lengths), ref)  # the no-grad path
    out = st(tokens, lengths)
    torch.testing.assert_close(out, ref)
    F.binary_cross_entropy_with_logits(out, y, reduction="none").mean(1).sum().backward()
    for k, m in enumerate(plain):
        F.binary_cross_entropy_with_logits(m(tokens, lengths), y[k]).backward()
    for k, m in enumerate(plain):
        g = LSTMNet(21, (16, 5))
        with torch.no_grad():
            for p, q in zip(g.parameters(), m.parameters(), strict=True):
                p.copy_(q.grad)
        want = StackedLSTM.from_lstmnets([g])
        for (name, p), q in zip(st.named_parameters(), want.parameters(), strict=True):
            torch.testing.assert_close(p.grad[k], q[0], atol=1e-6, rtol=1e-4, msg=name)
    # per-model sequences: model k sees tokens[k]
    per_model = torch.stack([tokens, tokens.flip(0), tokens])
    with torch.no_grad():
        got = st(per_model, None if lengths is None else torch.stack([lengths, lengths.flip(0), lengths]))
        torch.testing.assert_close(got[1], plain[1](tokens.flip(0), None if lengths is None else lengths.flip(0)))


def test_an_input_map_trains_like_an_encoded_lstmnet():
    """A descriptor encoding: the stack with ``input_map`` is ``EncodedInput(LSTMNet(d + 1))``,
    from the same initial draws, in its forward pass, its gradients and its conversion back."""
    from badlabels.data.encoding import encoding_matrix
    from badlabels.models.base import EncodedInput

    matrix = torch.as_tensor(encoding_matrix("onehot+zscales"))  # (20, 25)
    st = init_stacked([4, 9], 21, (16, 5), input_map=matrix)
    assert st.n_in == 25 and st.w_ih_0.shape == (2, 64, 25)
    plain = []
    for seed in (4, 9):
        torch.manual_seed(seed)
        plain.append(EncodedInput(LSTMNet(26, (16, 5)), matrix))
    tokens = torch.randint(1, 21, (7, 10))
    lengths = torch.tensor([10, 4, 7, 10, 1, 9, 3])
    for i, n in enumerate(lengths):
        tokens[i, n:] = 0
    with torch.no_grad():
        ref = torch.stack([m(tokens, lengths) for m in plain])
        torch.testing.assert_close(st(tokens, lengths), ref, atol=1e-5, rtol=1e-4)
    y = torch.randint(0, 2, (2, 7)).float()
    F.binary_cross_entropy_with_logits(st(tokens, lengths), y, reduction="none").mean(1).sum().backward()
    for k, m in enumerate(plain):
        F.binary_cross_entropy_with_logits(m(tokens, lengths), y[k]).backward()
        torch.testing.assert_close(st.w_ih_0.grad[k][:, :],
                                   StackedLSTM.from_lstmnets([_grads(m.net)]).w_ih_0[0],
                                   atol=1e-6, rtol=1e-4)  # fmt: skip
    back = st.to_lstmnet(1, LSTMNet(26, (16, 5)))
    with torch.no_grad():
        torch.testing.assert_close(EncodedInput(back, matrix)(tokens, lengths), st(tokens, lengths)[1])
    assert torch.equal(st.select([1]).input_map, matrix)
    with pytest.raises(ValueError, match="input_map"):
        StackedLSTM(1, 21, (4,), input_map=torch.zeros(19, 3))


def _grads(net):
    g = LSTMNet(net.n_tokens, tuple(lstm.hidden_size for lstm in net.lstms))
    with torch.no_grad():
        for p, q in zip(g.parameters(), net.parameters(), strict=True):
            p.copy_(q.grad)
    return g


def test_conversions_and_select():
    plain = nets([3, 4])
    st = StackedLSTM.from_lstmnets(plain)
    back = st.to_lstmnet(1, LSTMNet(st.n_tokens, st.hidden_sizes))
    for a, b in zip(back.state_dict().values(), plain[1].state_dict().values(), strict=True):
        assert torch.equal(a, b)
    one = st.select([1])
    assert one.k == 1
    tokens = torch.randint(1, 21, (5, 12))
    with torch.no_grad():
        torch.testing.assert_close(one(tokens)[0], plain[1](tokens))


def test_init_is_the_plain_estimators_init():
    """Model k starts from the weights LSTMClassifier(random_state=seed_k) starts from."""
    seeds = [0, 7, 2**32 + 7]
    st = init_stacked(seeds, 21, (140, 20))
    for k, seed in enumerate(seeds):
        torch.manual_seed(seed % 2**32)
        ref = StackedLSTM.from_lstmnets([LSTMNet(21, (140, 20))])
        for p, q in zip(st.parameters(), ref.parameters(), strict=True):
            assert torch.equal(p[k], q[0])
    # the caller's RNG is left alone
    torch.manual_seed(5)
    a = torch.rand(3)
    torch.manual_seed(5)
    init_stacked([1], 21)
    assert torch.equal(torch.rand(3), a)


# --- training -------------------------------------------------------------------------------


def _plain_fit(tokens, y, vt, vy, seed, **kw):
    train = to_device_data(tokens, np.full(len(tokens), tokens.shape[1]), y)
    val = to_device_data(vt, np.full(len(vt), vt.shape[1]), vy)
    torch.manual_seed(seed)
    m = LSTMNet(21, HID)
    res = Trainer(seed=seed, **kw).fit(m, train, val)
    return predict_logits(m, val), res


def test_k1_is_the_plain_trainer():
    tokens, y = toy(1200, seed=0)
    vt, vy = toy(300, seed=1)
    kw = dict(batch_size=250, max_epochs=3, patience=5)
    ref_logits, ref = _plain_fit(tokens, y, vt, vy, seed=3, **kw)
    res = fit_stacked(
        torch.as_tensor(tokens), None, torch.as_tensor(y[None], dtype=torch.float32), seeds=[3],
        hidden_sizes=HID, precision="fp32",
        val_tokens=torch.as_tensor(vt), val_y=torch.as_tensor(vy[None], dtype=torch.float32), **kw,
    )  # fmt: skip
    got = predict_stacked(res.module, torch.as_tensor(vt))[0]
    torch.testing.assert_close(got, ref_logits, atol=1e-4, rtol=1e-4)
    assert res.epochs_run == [ref.epochs_run] and res.best_epoch == [ref.best_epoch]
    for a, b in zip(res.history[0], ref.history, strict=True):
        assert a["epoch"] == b["epoch"]
        assert a["val_loss"] == pytest.approx(b["val_loss"], abs=1e-5)
        assert a["train_loss"] == pytest.approx(b["train_loss"], abs=1e-5)


def test_models_do_not_depend_on_their_stack_and_stop_on_their_own():
    """Three models with other seeds, labels and stopping epochs == each trained alone."""
    tokens, y = toy(1000, seed=0)
    vt, vy = toy(300, seed=1)
    ys = [y, 1 - y, y]
    vys = [vy, vy, 1 - vy]  # model 2 learns the opposite of its validation labels: stops early
    seeds = [5, 6, 5]
    kw = dict(batch_size=200, max_epochs=6, patience=1)
    res = fit_stacked(
        torch.as_tensor(tokens), None, torch.as_tensor(np.stack(ys), dtype=torch.float32),
        seeds=seeds, hidden_sizes=HID, precision="fp32", val_tokens=torch.as_tensor(vt),
        val_y=torch.as_tensor(np.stack(vys), dtype=torch.float32), **kw,
    )  # fmt: skip
    logits = predict_stacked(res.module, torch.as_tensor(vt))
    assert res.epochs_run[2] < 6  # it did stop early
    for k in range(3):
        ref_logits, ref = _plain_fit(tokens, ys[k], vt, vys[k], seed=seeds[k], **kw)
        torch.testing.assert_close(logits[k], ref_logits, atol=2e-4, rtol=1e-3)
        assert res.epochs_run[k] == ref.epochs_run
        assert res.best_epoch[k] == ref.best_epoch
        assert len(res.history[k]) == res.epochs_run[k]
    assert res.model_epochs == sum(res.epochs_run)


def test_a_stopped_model_keeps_its_best_weights():
    tokens, y = toy(800, seed=2)
    vt, vy = toy(200, seed=3)
    y2 = torch.as_tensor(np.stack([y, y]), dtype=torch.float32)
    vy2 = torch.as_tensor(np.stack([vy, 1 - vy]), dtype=torch.float32)
    common = dict(seeds=[1, 2], val_tokens=torch.as_tensor(vt), val_y=vy2, batch_size=200,
                  hidden_sizes=HID, lr=1e-2, precision="fp32")  # fmt: skip
    res = fit_stacked(torch.as_tensor(tokens), None, y2, max_epochs=8, patience=2, **common)
    stopped = [j for j in range(2) if res.epochs_run[j] < 8]
    assert stopped and res.epochs_run != [8, 8] and min(res.epochs_run) < max(res.epochs_run)
    for j in stopped:
        best, run = res.best_epoch[j], res.epochs_run[j]
        assert best < run  # its last epochs were worse: it must hold older weights
        # the same training cut at its best epoch: the weights the stopped model must hold
        cut = fit_stacked(torch.as_tensor(tokens), None, y2, max_epochs=best, patience=None, **common)
        for p, q in zip(res.module.parameters(), cut.module.parameters(), strict=True):
            torch.testing.assert_close(p[j], q[j], atol=1e-6, rtol=1e-5)


def test_without_validation_every_model_trains_all_epochs():
    tokens, y = toy(400)
    res = fit_stacked(torch.as_tensor(tokens), None,
                      torch.as_tensor(np.stack([y, 1 - y]), dtype=torch.float32),
                      seeds=[0, 1], batch_size=100, max_epochs=2, patience=1,
                      hidden_sizes=HID)  # fmt: skip
    assert res.epochs_run == [2, 2] and res.best_epoch == [2, 2]
    assert all(h["val_loss"] is None for h in res.history[0])


def test_variable_lengths_train_like_the_plain_trainer():
    rng = np.random.default_rng(0)
    tokens, y = toy(600)
    lengths = rng.integers(4, 13, 600)
    for i, n in enumerate(lengths):
        tokens[i, n:] = 0
    train = to_device_data(tokens, lengths, y)
    torch.manual_seed(4)
    m = LSTMNet(21, HID)
    Trainer(seed=4, batch_size=150, max_epochs=2, patience=None).fit(m, train, None)
    res = fit_stacked(train.tokens, train.lengths, train.y[None], seeds=[4], batch_size=150,
                      max_epochs=2, patience=None, hidden_sizes=HID, precision="fp32")  # fmt: skip
    got = predict_stacked(res.module, train.tokens, train.lengths)[0]
    torch.testing.assert_close(got, predict_logits(m, train), atol=1e-4, rtol=1e-4)


def test_losses_per_model_match_the_registry():
    torch.manual_seed(0)
    logits = torch.randn(4, 50)
    y = torch.randint(0, 2, (4, 50)).float()
    for name in available_losses():
        if name.startswith("_"):
            continue
        fn = get_loss(name)
        got = StackedLoss([(name, None)] * 4)(logits, y)
        want = torch.stack([fn(logits[k], y[k]) for k in range(4)])
        torch.testing.assert_close(got, want, msg=name)
    specs = [("bce", None), ("gce", {"q": 0.5}), ("bce", None), ("gce", {"q": 0.9})]
    got = StackedLoss(specs)(logits, y)
    want = torch.stack([get_loss(n, **(p or {}))(logits[k], y[k]) for k, (n, p) in enumerate(specs)])
    torch.testing.assert_close(got, want)
    assert StackedLoss(specs).select([3, 0]).specs == [("gce", {"q": 0.9}), ("bce", {})]


def test_per_model_losses_train_like_the_plain_estimator():
    from badlabels.models.lstm import LSTMClassifier

    tokens, y = toy(500)
    vt, vy = toy(100, seed=1)
    seqs = np.array(["".join("ACDEFGHIKLMNPQRSTVWY"[t - 1] for t in row) for row in tokens])
    vseqs = np.array(["".join("ACDEFGHIKLMNPQRSTVWY"[t - 1] for t in row) for row in vt])
    est = LSTMClassifier(loss="gce", loss_params={"q": 0.5}, batch_size=100, max_epochs=2,
                         random_state=3, device="cpu", hidden_sizes=HID)  # fmt: skip
    est.fit(seqs, y, eval_set=(vseqs, vy))
    res = fit_stacked(
        torch.as_tensor(tokens), None, torch.as_tensor(np.stack([y, y]), dtype=torch.float32),
        seeds=[3, 3], losses=[("bce", None), ("gce", {"q": 0.5})], batch_size=100, max_epochs=2,
        hidden_sizes=HID, precision="fp32",
        val_tokens=torch.as_tensor(vt), val_y=torch.as_tensor(np.stack([vy, vy]), dtype=torch.float32),
    )  # fmt: skip
    got = predict_stacked(res.module, torch.as_tensor(vt))[1].numpy()
    np.testing.assert_allclose(got, est.decision_function(vseqs), atol=1e-4, rtol=1e-4)


def test_bf16_precision_stays_close_on_the_cpu():
    tokens, y = toy(600)
    args = (torch.as_tensor(tokens), None, torch.as_tensor(np.stack([y, 1 - y]), dtype=torch.float32))
    kw = dict(seeds=[0, 1], batch_size=100, max_epochs=2, patience=None, hidden_sizes=HID)
    a = fit_stacked(*args, precision="fp32", **kw)
    b = fit_stacked(*args, precision="bf16", **kw)
    assert b.module.mm_dtype == torch.bfloat16
    la = predict_stacked(a.module, args[0])
    lb = predict_stacked(b.module, args[0])
    assert (la - lb).abs().max() < 0.1
    assert np.corrcoef(la[0].numpy(), lb[0].numpy())[0, 1] > 0.99


def test_argument_checks_and_device_helpers():
    tokens, y = toy(50)
    t = torch.as_tensor(tokens)
    yy = torch.as_tensor(y[None], dtype=torch.float32)
    with pytest.raises(ValueError, match="precision"):
        fit_stacked(t, None, yy, seeds=[0], precision="fp8")
    assert resolve_precision("auto", torch.device("cpu")) == ("bf16" if cpu_has_fast_bf16() else "fp32")
    assert resolve_precision("auto", torch.device("cuda")) == "tf32"
    with pytest.raises(ValueError, match="seeds"):
        fit_stacked(t, None, yy, seeds=[0, 1])
    with pytest.raises(ValueError, match="losses"):
        fit_stacked(t, None, yy, seeds=[0], losses=[("bce", None)] * 2)
    assert _adam_kwargs(1e-3, 0.0, torch.device("cpu"))["foreach"] is True
    assert _adam_kwargs(1e-3, 0.0, torch.device("cuda"))["fused"] is True
    before = torch.get_float32_matmul_precision()
    with _TF32(True):
        assert torch.backends.cuda.matmul.allow_tf32
    assert torch.get_float32_matmul_precision() == before
    assert 256 <= eval_rows(12, (140, 20), torch.device("cpu")) <= eval_rows(1, (140, 20), "cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("precision", ["fp32", "tf32", "bf16"])
def test_cuda_matches_cpu(precision):
    tokens, y = toy(800)
    vt, vy = toy(200, seed=1)
    ys = torch.as_tensor(np.stack([y, 1 - y, y]), dtype=torch.float32)
    vys = torch.as_tensor(np.stack([vy, 1 - vy, 1 - vy]), dtype=torch.float32)
    kw = dict(seeds=[0, 1, 2], batch_size=200, max_epochs=3, patience=1)
    cpu = fit_stacked(torch.as_tensor(tokens), None, ys, val_tokens=torch.as_tensor(vt), val_y=vys, **kw)
    dev = torch.device("cuda")
    gpu = fit_stacked(torch.as_tensor(tokens).to(dev), None, ys.to(dev), val_tokens=torch.as_tensor(vt).to(dev),
                      val_y=vys.to(dev), precision=precision, **kw)  # fmt: skip
    assert gpu.epochs_run == cpu.epochs_run
    a = predict_stacked(cpu.module, torch.as_tensor(vt))
    b = predict_stacked(gpu.module, torch.as_tensor(vt).to(dev)).cpu()
    assert (a - b).abs().max() < (0.02 if precision == "fp32" else 0.15)


# --- the engine in the experiment runner -------------------------------------------------------


@pytest.fixture(scope="module")
def small_grid():
    from badlabels.data import make_peptide12
    from badlabels.experiment.grid import GridSpec
    from badlabels.experiment.runner_core import prepare

    ds = make_peptide12(1500, seed=0)
    grid = GridSpec(models=["lstm"], noise_rates=[0.0, 0.3], seeds=[0, 1, 2], batch_sizes=[100],
                    max_epochs=4, patience=2, model_params={"lstm": {"hidden_sizes": [32, 8]}})  # fmt: skip
    return grid.cells(ds.name, ds.fingerprint()), prepare(ds)


def test_stacked_agrees_with_one_at_a_time(small_grid):
    """Issue #4 acceptance: stacked AUROCs agree with plain ones within the seed spread.

    In float32 the stacked models are the plain ones up to rounding (same epochs, AUROC to
    1e-3); in the automatic precision (bfloat16 products on CPUs that have them) they agree
    within the spread of three seeds of plain training.
    """
    from badlabels.engine.stacked import resolve_precision
    from badlabels.experiment.engines import plan_units, run_unit
    from badlabels.experiment.settings import RunSettings

    cells, prepared = small_grid
    units = plan_units(cells, RunSettings.resolve("cpu"))
    assert [len(u) for u in units] == [6]
    plain_settings = RunSettings.resolve("cpu", engine="plain")
    plain = [run_unit([c], prepared, plain_settings)[0] for c in cells]
    exact = run_unit(units[0], prepared, RunSettings.resolve("cpu", precision="fp32"))
    auto = run_unit(units[0], prepared, RunSettings.resolve("cpu", engine="stacked"))
    assert {r["engine"] for r in plain} == {"plain"}
    assert {r["engine"] for r in exact + auto} == {"stacked"}
    # Each record says the precision that ran.
    assert {r["precision"] for r in plain} == {"fp32"}
    assert {r["precision"] for r in exact} == {"fp32"}
    assert {r["precision"] for r in auto} == {resolve_precision("auto", "cpu")}
    for s, p in zip(exact, plain, strict=True):
        assert set(s) == set(p)
        assert s["cell_id"] == p["cell_id"]
        assert s["epochs_run"] == p["epochs_run"] and s["best_epoch"] == p["best_epoch"]
        for key in ("realized_flip_rate", "val_flip_rate", "test_flip_rate", "n_train", "n_test"):
            assert s[key] == p[key]
        assert s["auroc"] == pytest.approx(p["auroc"], abs=1e-3)
    for rate in (0.0, 0.3):
        ps = [p["auroc"] for p in plain if p["noise_rate"] == rate]
        spread = max(ps) - min(ps)
        assert spread > 0
        for stacked in (exact, auto):
            ss = [s["auroc"] for s in stacked if s["noise_rate"] == rate]
            assert abs(np.mean(ss) - np.mean(ps)) <= spread
            for a, b in zip(ss, ps, strict=True):
                assert abs(a - b) <= spread


def test_plan_units_groups_only_compatible_cells(monkeypatch):
    from badlabels.experiment.engines import plan_units
    from badlabels.experiment.grid import GridSpec
    from badlabels.experiment.settings import RunSettings

    grid = GridSpec(models=["lstm", "logreg", "cnn"], methods=["bce", "gce", "coteaching"],
                    noise_rates=[0.0, 0.2, 0.4], seeds=[0, 1], batch_sizes=[100, 500])  # fmt: skip
    cells = grid.cells("d", "f")
    def settings(engine):
        return RunSettings.resolve("cpu", engine=engine)

    units = plan_units(cells, settings("auto"))
    assert sorted(c.cell_id for u in units for c in u) == sorted(c.cell_id for c in cells)
    for u in units:
        if len(u) > 1:
            assert {c.model for c in u} == {"lstm"}
            assert {c.method for c in u} <= {"bce", "gce"}  # loss methods mix; wrappers do not
            assert len({c.batch_size for c in u}) == 1
    stacked = [c for u in units if len(u) > 1 for c in u]
    assert len(stacked) == 2 * 2 * 3 * 2  # lstm x {bce, gce} x 3 rates x 2 seeds x 2 batch sizes
    assert all(len(u) == 1 for u in plan_units(cells, settings("plain")))
    monkeypatch.setenv("BADLABELS_MAX_K", "5")  # read once, when the settings are resolved
    assert max(len(u) for u in plan_units(cells, settings("stacked"))) == 5


def test_unknown_engine_is_one_clear_error(capsys, tmp_path):
    from badlabels.cli import main
    from badlabels.errors import BadInputError
    from badlabels.experiment.engines import check_engine

    with pytest.raises(BadInputError, match="engine"):
        check_engine("fast")
    with pytest.raises(SystemExit) as exc:
        main(["experiment", "--dataset", "peptide12", "--n-sequences", "300", "--engine", "fast",
              "--out", str(tmp_path / "o"), "-q"])  # fmt: skip
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "engine" in err and "Traceback" not in err


def test_stacked_module_imports_no_cli_or_optional_packages():
    code = (
        "import sys\n"
        "for m in ('typer', 'rich', 'cleanlab', 'safetensors', 'matplotlib'):\n"
        "    sys.modules[m] = None\n"
        "import torch\n"
        "from badlabels.engine.stacked import fit_stacked\n"
        "t = torch.randint(1, 21, (40, 12))\n"
        "fit_stacked(t, None, torch.randint(0, 2, (2, 40)).float(), seeds=[0, 1],\n"
        "            batch_size=20, max_epochs=1)\n"
        "print('ok')\n"
    )
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr


@pytest.mark.slow
def test_benchmark_runs(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "throughput.py"), "--n", "600", "--k", "2",
         "--epochs", "1", "--batch", "200", "--device", "cpu", "--threads", "1", "--bf16",
         "--json", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "s/epoch/model" in proc.stdout and "engine-auto" in proc.stdout
    data = json.loads(out.read_text())
    assert [r["phase"] for r in data["results"]] == ["plain", "engine-auto", "engine-bf16"]


def test_models_on_their_own_rows_train_like_the_plain_trainer_on_those_rows():
    """rows / val_rows (the audit's folds): model k == the plain trainer on its own subset,
    including two models with the same seed (each keeps its own batch order)."""
    from badlabels.engine.stacked import predict_stacked_rows

    tokens, y = toy(1300, seed=4)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(tokens))
    parts = np.array_split(order, 4)
    train_rows = [np.sort(np.concatenate(parts[:k] + parts[k + 1 :]))[:900] for k in range(3)]
    val_rows = [np.sort(parts[k])[:200] for k in range(3)]
    seeds = [7, 8, 7]
    kw = dict(batch_size=200, max_epochs=5, patience=1)
    y_all = torch.as_tensor(np.stack([y] * 3), dtype=torch.float32)
    t = torch.as_tensor(tokens)
    res = fit_stacked(
        t, None, y_all, seeds=seeds, hidden_sizes=HID, precision="fp32", val_tokens=t,
        val_y=y_all, rows=[torch.as_tensor(r) for r in train_rows],
        val_rows=[torch.as_tensor(r) for r in val_rows], **kw,
    )  # fmt: skip
    got = predict_stacked_rows(res.module, t, None, [torch.as_tensor(r) for r in val_rows])
    for k in range(3):
        tr, va = train_rows[k], val_rows[k]
        ref_logits, ref = _plain_fit(tokens[tr], y[tr], tokens[va], y[va], seed=seeds[k], **kw)
        torch.testing.assert_close(got[k], ref_logits, atol=2e-4, rtol=1e-3)
        assert res.epochs_run[k] == ref.epochs_run and res.best_epoch[k] == ref.best_epoch
        for a, b in zip(res.history[k], ref.history, strict=True):
            assert a["val_loss"] == pytest.approx(b["val_loss"], abs=1e-5)
            assert a["train_loss"] == pytest.approx(b["train_loss"], abs=1e-5)


def test_rows_of_different_sizes_and_the_done_events():
    """Unequal subsets: the shorter one's last batch is topped up (its losses stay its own
    rows' losses on validation); every model reports model_done once."""
    tokens, y = toy(700, seed=5)
    t = torch.as_tensor(tokens)
    y2 = torch.as_tensor(np.stack([y, y]), dtype=torch.float32)
    rows = [torch.arange(0, 500), torch.arange(0, 480)]
    val_rows = [torch.arange(500, 700), torch.arange(520, 700)]
    events = []
    res = fit_stacked(t, None, y2, seeds=[1, 2], hidden_sizes=HID, precision="fp32",
                      val_tokens=t, val_y=y2, rows=rows, val_rows=val_rows, batch_size=100,
                      max_epochs=3, patience=None,
                      progress=lambda ev, **info: events.append((ev, info)))  # fmt: skip
    done = [info["model"] for ev, info in events if ev == "model_done"]
    assert sorted(done) == [0, 1] and res.epochs_run == [3, 3]
    # validation loss of model 1 (its kept weights: the best epoch's) is over exactly its rows
    logits = predict_stacked(res.module, t[520:700])[1]
    want = F.binary_cross_entropy_with_logits(logits, y2[1, 520:700]).item()
    assert res.history[1][res.best_epoch[1] - 1]["val_loss"] == pytest.approx(want, abs=1e-6)
    with pytest.raises(ValueError, match="rows"):
        fit_stacked(t, None, y2, seeds=[1, 2], hidden_sizes=HID, rows=[torch.arange(5)])
    with pytest.raises(ValueError, match="outside"):
        fit_stacked(t, None, y2, seeds=[1, 2], hidden_sizes=HID,
                    rows=[torch.arange(5), torch.arange(698, 702)])  # fmt: skip
