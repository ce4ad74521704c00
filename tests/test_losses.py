"""Robust losses against hand-computed values, their per-sample forms and parameter checks."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from badlabels.engine.losses import (
    BinaryLoss,
    available_losses,
    check_transition_matrix,
    get_loss,
    get_per_sample_loss,
)
from badlabels.errors import BadInputError

# Logits whose probabilities are easy to write down: sigmoid(ln 3) = 0.75, sigmoid(0) = 0.5,
# sigmoid(-ln 3) = 0.25.
LN3 = math.log(3.0)
LOGITS = torch.tensor([LN3, LN3, 0.0, -LN3], dtype=torch.float64)
TARGETS = torch.tensor([1.0, 0.0, 1.0, 1.0], dtype=torch.float64)
P = [0.75, 0.75, 0.5, 0.25]  # P(label = 1) per sample
Y = [1, 0, 1, 1]


def p_observed(p, y):
    return p if y == 1 else 1.0 - p


def values(name, **params):
    return get_loss(name, **params)(LOGITS, TARGETS, reduction="none").tolist()


def test_all_losses_registered():
    assert {"bce", "label_smoothing", "gce", "sce", "bootstrap", "forward"} <= set(
        available_losses()
    )


def test_bce_by_hand():
    expected = [-math.log(0.75), -math.log(0.25), math.log(2.0), -math.log(0.25)]
    assert values("bce") == pytest.approx(expected, abs=1e-12)
    assert float(get_loss("bce")(LOGITS, TARGETS)) == pytest.approx(sum(expected) / 4, abs=1e-12)


def test_label_smoothing_by_hand():
    # targets 1 -> 0.95, 0 -> 0.05 with smoothing 0.1
    def ce(p, t):
        return -(t * math.log(p) + (1 - t) * math.log(1 - p))

    expected = [ce(p, 0.95 if y else 0.05) for p, y in zip(P, Y, strict=True)]
    assert values("label_smoothing") == pytest.approx(expected, abs=1e-12)
    assert expected[0] == pytest.approx(0.342613, abs=1e-6)  # 0.95 ln(4/3) + 0.05 ln 4
    assert values("label_smoothing", smoothing=0.0) == pytest.approx(values("bce"), abs=1e-12)


def test_gce_by_hand():
    expected = [(1 - p_observed(p, y) ** 0.7) / 0.7 for p, y in zip(P, Y, strict=True)]
    assert values("gce") == pytest.approx(expected, abs=1e-12)
    assert values("gce")[2] == pytest.approx(0.549183, abs=1e-6)  # (1 - 0.5**0.7) / 0.7
    # q = 1 is the mean absolute error 1 - p_y
    mae = [1 - p_observed(p, y) for p, y in zip(P, Y, strict=True)]
    assert values("gce", q=1.0) == pytest.approx(mae, abs=1e-12)


def test_sce_by_hand():
    # alpha * CE + beta * RCE, RCE = -A (1 - p_y) = 4 (1 - p_y)
    expected = [
        0.1 * -math.log(p_observed(p, y)) + 4.0 * (1 - p_observed(p, y))
        for p, y in zip(P, Y, strict=True)
    ]
    assert values("sce") == pytest.approx(expected, abs=1e-12)
    assert values("sce")[0] == pytest.approx(1.0287682, abs=1e-6)
    assert values("sce", alpha=1.0, beta=0.0) == pytest.approx(values("bce"), abs=1e-12)


def test_bootstrap_by_hand():
    def ce(p, t):
        return -(t * math.log(p) + (1 - t) * math.log(1 - p))

    soft = [ce(p, 0.95 * y + 0.05 * p) for p, y in zip(P, Y, strict=True)]
    assert values("bootstrap") == pytest.approx(soft, abs=1e-12)
    assert soft[0] == pytest.approx(0.301415, abs=1e-6)  # target 0.9875
    hard = [ce(p, 0.8 * y + 0.2 * (p > 0.5)) for p, y in zip(P, Y, strict=True)]
    assert values("bootstrap", mode="hard") == pytest.approx(hard, abs=1e-12)
    assert hard[1] == pytest.approx(1.166572, abs=1e-6)  # y = 0, prediction 1: target 0.2
    assert values("bootstrap", beta=1.0) == pytest.approx(values("bce"), abs=1e-12)


def test_forward_by_hand():
    T = [[0.8, 0.2], [0.3, 0.7]]  # T[i][j] = P(noisy = j | clean = i)

    def loss(p, y):
        noisy1 = T[0][1] * (1 - p) + T[1][1] * p
        return -math.log(noisy1 if y == 1 else 1 - noisy1)

    expected = [loss(p, y) for p, y in zip(P, Y, strict=True)]
    assert values("forward", matrix=T) == pytest.approx(expected, abs=1e-12)
    assert expected[0] == pytest.approx(-math.log(0.575), abs=1e-12)
    assert expected[1] == pytest.approx(-math.log(0.425), abs=1e-12)


def test_forward_with_identity_equals_bce():
    torch.manual_seed(0)
    z = torch.randn(64) * 5
    y = (torch.rand(64) > 0.5).float()
    w = torch.rand(64)
    bce, fwd = get_loss("bce"), get_loss("forward", matrix=[[1, 0], [0, 1]])
    assert torch.allclose(fwd(z, y), bce(z, y), atol=1e-6)
    assert torch.allclose(fwd(z, y, w), bce(z, y, w), atol=1e-6)
    assert torch.allclose(fwd(z, y, reduction="none"), bce(z, y, reduction="none"), atol=1e-6)
    z1, z2 = z.clone().requires_grad_(), z.clone().requires_grad_()
    bce(z1, y).backward()
    fwd(z2, y).backward()
    assert torch.allclose(z1.grad, z2.grad, atol=1e-6)
    # the default matrix is the identity
    assert torch.allclose(get_loss("forward")(z, y), bce(z, y), atol=1e-6)


def test_reductions_weights_and_per_sample():
    for name in ("bce", "label_smoothing", "gce", "sce", "bootstrap", "forward"):
        loss = get_loss(name)
        assert isinstance(loss, BinaryLoss)
        per = loss(LOGITS, TARGETS, reduction="none")
        assert per.shape == (4,)
        assert torch.allclose(loss.per_sample(LOGITS, TARGETS), per)
        assert torch.allclose(get_per_sample_loss(name)(LOGITS, TARGETS), per)
        assert torch.allclose(loss(LOGITS, TARGETS), per.mean())
        assert torch.allclose(loss(LOGITS, TARGETS, reduction="sum"), per.sum())
        w = torch.tensor([1.0, 0.0, 2.0, 0.5], dtype=torch.float64)
        assert torch.allclose(loss(LOGITS, TARGETS, w), (per * w).mean())
    with pytest.raises(ValueError):
        get_loss("gce")(LOGITS, TARGETS, reduction="max")


@pytest.mark.parametrize(
    "name, params",
    [
        ("label_smoothing", {}),
        ("gce", {}),
        ("sce", {}),
        ("bootstrap", {}),
        ("bootstrap", {"mode": "hard"}),
        ("forward", {"matrix": [[0.6, 0.4], [0.45, 0.55]]}),
    ],
)
def test_extreme_logits_finite_with_gradients(name, params):
    z = torch.tensor([-80.0, -20.0, 0.0, 20.0, 80.0], requires_grad=True)
    y = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0])
    loss = get_loss(name, **params)(z, y)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(z.grad).all()


def test_losses_batch_under_vmap():
    """A stacked engine computes K models' losses with torch.func.vmap."""
    z = torch.randn(3, 8)
    y = (torch.rand(3, 8) > 0.5).float()
    for name in ("label_smoothing", "gce", "sce", "bootstrap", "forward"):
        fn = get_loss(name)
        out = torch.func.vmap(fn)(z, y)
        expected = torch.stack([fn(z[k], y[k]) for k in range(3)])
        assert torch.allclose(out, expected, atol=1e-6)


@pytest.mark.parametrize(
    "name, params, needle",
    [
        ("label_smoothing", {"smoothing": 1.0}, "smoothing"),
        ("gce", {"q": 0.0}, "q"),
        ("gce", {"q": 1.5}, "q"),
        ("sce", {"A": 1.0}, "A"),
        ("sce", {"alpha": 0.0, "beta": 0.0}, "both"),
        ("bootstrap", {"mode": "medium"}, "mode"),
        ("bootstrap", {"beta": 2.0}, "beta"),
        ("forward", {"matrix": [[0.8, 0.1], [0.3, 0.7]]}, "sum to 1"),
        ("forward", {"matrix": [[0.4, 0.6], [0.5, 0.5]]}, r"T00 \+ T11"),
        ("forward", {"matrix": [[1, 0, 0], [0, 1, 0]]}, "2x2"),
        ("forward", {"matrix": "identity"}, "2x2"),
        ("gce", {"p": 0.5}, "no parameter p"),
    ],
)
def test_bad_parameters(name, params, needle):
    with pytest.raises(BadInputError, match=needle):
        get_loss(name, **params)


def test_check_transition_matrix_normalises_rows():
    m = check_transition_matrix([[0.9, 0.1 + 1e-9], [0.2, 0.8]])
    assert all(abs(sum(r) - 1) < 1e-12 for r in m)


def test_plain_callable_loss_has_no_per_sample_form():
    from badlabels.engine.losses import register_loss

    @register_loss("_test_plain_mean")
    def plain():
        def loss(logits, targets, weight=None):
            return F.binary_cross_entropy_with_logits(logits, targets)

        return loss

    with pytest.raises(BadInputError, match="per-sample"):
        get_per_sample_loss("_test_plain_mean")
