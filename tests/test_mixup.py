"""Mixup on one-hot sequences (:class:`MixupStep`) and the networks' one-hot input path.

The loss for a fixed mixing weight and pairing is checked against BCE on soft targets
computed by hand; every network must give the same logits from its tokens and from the
one-hot of those tokens; pairings keep lengths; training with mixup is reproducible.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from badlabels.data import make_peptide12
from badlabels.data.encoding import encode
from badlabels.engine.losses import get_loss
from badlabels.engine.trainer import DeviceData, MixupStep, same_length_permutation
from badlabels.errors import BadInputError
from badlabels.models import make_model
from badlabels.models.bilstm import BiLSTMNet
from badlabels.models.cnn import CNNNet
from badlabels.models.lstm import LSTMNet
from badlabels.models.mlp import MLPNet
from badlabels.models.transformer import TransformerNet

N_TOKENS = 21
SMALL = {
    "lstm": {"hidden_sizes": (8, 4)},
    "cnn": {"channels": (8,)},
    "mlp": {"hidden_sizes": (8,)},
    "transformer": {"d_model": 8, "n_heads": 2, "n_layers": 1, "dim_feedforward": 16},
    "bilstm": {"hidden_sizes": (4, 4)},
}


def nets(max_len):
    torch.manual_seed(0)
    return {
        "lstm": LSTMNet(N_TOKENS, (6, 3)),
        "bilstm": BiLSTMNet(N_TOKENS, (3, 2)),
        "cnn": CNNNet(N_TOKENS, (5,), 3, 0.0),
        "mlp": MLPNet(N_TOKENS, max_len, (5,), 0.0),
        "transformer": TransformerNet(N_TOKENS, max_len, 8, 1, 2, 16, 0.0),
    }


def batch(n=12, seed=0, variable=True):
    rng = np.random.default_rng(seed)
    alphabet = "ACDEFGHIKLMNPQRSTVWY"
    seqs = ["".join(rng.choice(list(alphabet), int(rng.integers(4, 8) if variable else 7)))
            for _ in range(n)]  # fmt: skip
    tokens, lengths = encode(np.array(seqs, dtype=object))
    y = rng.integers(0, 2, n).astype(np.float32)
    return DeviceData(
        tokens=torch.as_tensor(tokens),
        lengths=torch.as_tensor(lengths) if variable else None,
        y=torch.as_tensor(y),
    )


@pytest.mark.parametrize("name", list(SMALL))
def test_onehot_path_gives_the_networks_own_logits(name):
    b = batch()
    net = nets(max_len=8)[name].eval()
    onehot = F.one_hot(b.tokens, N_TOKENS)[..., 1:].float()
    torch.testing.assert_close(net(b.tokens, b.lengths, onehot=onehot), net(b.tokens, b.lengths))


def test_mixup_loss_equals_soft_target_bce_by_hand():
    torch.manual_seed(0)
    b = batch(variable=False)
    net = LSTMNet(N_TOKENS, (6, 3))
    step = MixupStep(net, get_loss("bce"), 1e-3, 0.0, alpha=0.4, n_tokens=N_TOKENS, seed=0)
    lam = 0.3
    perm = torch.tensor([3, 0, 1, 2, 5, 4, 7, 6, 9, 8, 11, 10])
    onehot = F.one_hot(b.tokens, N_TOKENS)[..., 1:].float()
    mixed = lam * onehot + (1 - lam) * onehot[perm]
    p = torch.sigmoid(net(b.tokens, None, onehot=mixed))
    t = lam * b.y + (1 - lam) * b.y[perm]
    expected = -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).mean()
    torch.testing.assert_close(step.loss(b, lam, perm), expected)


def test_weights_are_mixed_like_the_targets():
    torch.manual_seed(0)
    b = batch(variable=False)
    b.weight = torch.linspace(0.5, 2.0, len(b))
    net = LSTMNet(N_TOKENS, (6, 3))
    step = MixupStep(net, get_loss("bce"), 1e-3, 0.0, alpha=0.4, n_tokens=N_TOKENS, seed=0)
    lam, perm = 0.6, torch.roll(torch.arange(len(b)), 1)
    onehot = F.one_hot(b.tokens, N_TOKENS)[..., 1:].float()
    logits = net(b.tokens, None, onehot=lam * onehot + (1 - lam) * onehot[perm])
    t = lam * b.y + (1 - lam) * b.y[perm]
    w = lam * b.weight + (1 - lam) * b.weight[perm]
    per = F.binary_cross_entropy_with_logits(logits, t, reduction="none")
    torch.testing.assert_close(step.loss(b, lam, perm), (w * per).mean())


def test_pairings_keep_lengths_and_are_permutations():
    g = torch.Generator().manual_seed(0)
    lengths = torch.tensor([3, 5, 3, 5, 5, 4, 3, 4, 5, 3])
    for _ in range(20):
        perm = same_length_permutation(len(lengths), lengths, g, torch.device("cpu"))
        assert sorted(perm.tolist()) == list(range(len(lengths)))
        assert torch.equal(lengths[perm], lengths)


def test_draws_are_seeded():
    b = batch()
    net = LSTMNet(N_TOKENS, (6, 3))

    def draws(seed):
        step = MixupStep(net, get_loss("bce"), 1e-3, 0.0, alpha=0.4, n_tokens=N_TOKENS, seed=seed)
        return [step.draw(b) for _ in range(3)]

    a, again, other = draws(1), draws(1), draws(2)
    assert [lam for lam, _ in a] == [lam for lam, _ in again]
    assert all(torch.equal(p, q) for (_, p), (_, q) in zip(a, again, strict=True))
    assert [lam for lam, _ in a] != [lam for lam, _ in other]
    assert all(0 < lam < 1 for lam, _ in a)


@pytest.fixture(scope="module")
def peptides():
    ds = make_peptide12(300)
    return ds.sequences, ds.labels


def small(name, **params):
    return make_model(
        name, **SMALL[name], max_epochs=2, batch_size=64, device="cpu", random_state=0, **params
    )


@pytest.mark.parametrize("name", ["lstm", "cnn", "mlp", "transformer"])  # bilstm: as lstm
def test_mixup_training_is_reproducible_and_changes_the_model(peptides, name):
    X, y = peptides
    X, y = X[:120], y[:120]
    rng = np.random.default_rng(0)
    X = np.array([s[: int(rng.integers(11, 13))] for s in X], dtype=object)  # mixed lengths
    a = small(name, mixup_alpha=0.4).fit(X, y)
    b = small(name, mixup_alpha=0.4).fit(X, y)
    plain = small(name).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.array_equal(a.predict_proba(X), plain.predict_proba(X))
    assert all(set(rec) == {"epoch", "train_loss", "val_loss", "seconds"} for rec in a.history_)


@pytest.mark.parametrize("loss", ["gce", "label_smoothing", "forward"])
def test_mixup_works_with_other_losses_and_ema(peptides, loss):
    X, y = peptides
    m = small("cnn", mixup_alpha=0.2, loss=loss, average="ema").fit(
        X, y, sample_weight=np.linspace(0.5, 1.5, len(X))
    )
    assert np.all(np.isfinite(m.predict_proba(X)))


@pytest.mark.parametrize("alpha", [-0.1, "0.2", float("nan"), True])
def test_bad_mixup_alpha_is_a_one_line_error(peptides, alpha):
    X, y = peptides
    with pytest.raises(BadInputError, match=r"mixup_alpha must be a number >= 0 \(0: off\)"):
        small("lstm", mixup_alpha=alpha).fit(X, y)
