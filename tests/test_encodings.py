"""Residue encodings: one-hot and amino-acid descriptor scales (``encoding=...`` on every model).

The descriptor values come from the ``peptides`` package; these tests check the map's shape
and standardisation, that an encoded network sees exactly ``one-hot @ matrix``, that one-hot
stays the bare network (no number moves), that mixup's mixed inputs go through the same map,
and that an encoded model saves, loads and predicts the same.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from badlabels.data import make_peptide12
from badlabels.data.encoding import (
    AMINO_ACIDS,
    DESCRIPTOR_SETS,
    ENCODINGS,
    encode,
    encoded_flat,
    encoding_matrix,
    one_hot_flat,
)
from badlabels.errors import BadInputError
from badlabels.models import load_model, make_model, save_model
from badlabels.models.base import EncodedInput

SMALL = {
    "lstm": {"hidden_sizes": (8, 4)},
    "bilstm": {"hidden_sizes": (4, 4)},
    "cnn": {"channels": (8,)},
    "mlp": {"hidden_sizes": (8,)},
    "transformer": {"d_model": 8, "n_heads": 2, "n_layers": 1, "dim_feedforward": 16},
}


@pytest.fixture(scope="module")
def data():
    ds = make_peptide12(300, seed=3)
    return ds.sequences, ds.labels


def test_descriptor_sets_are_standardised_per_scale():
    for name in DESCRIPTOR_SETS:
        m = encoding_matrix(name)
        assert m.shape[0] == 20 and m.shape[1] >= 3, name
        np.testing.assert_allclose(m.mean(axis=0), 0.0, atol=1e-5)
        np.testing.assert_allclose(m.std(axis=0), 1.0, atol=1e-5)


def test_vhse_known_values_and_joined_parts():
    from peptides.tables import VHSE

    m = encoding_matrix("vhse")
    raw = np.array([VHSE["VHSE1"][a] for a in AMINO_ACIDS])
    np.testing.assert_allclose(m[:, 0], (raw - raw.mean()) / raw.std(), rtol=1e-5)
    joined = encoding_matrix("onehot+vhse")
    assert joined.shape == (20, 28)
    np.testing.assert_array_equal(joined[:, :20], np.eye(20))
    np.testing.assert_allclose(joined[:, 20:], m)


def test_residue_outside_the_standard_twenty_gets_zero_descriptors():
    m = encoding_matrix("onehot+zscales", AMINO_ACIDS + "*")
    assert m.shape == (21, 26)
    np.testing.assert_array_equal(m[20, 21:], 0.0)
    assert m[20, 20] == 1.0


@pytest.mark.parametrize(
    "encoding, needle",
    [("onehot+nope", "unknown part 'nope'"), ("vhse+vhse", "twice"), ("", "must be a string"),
     (3, "must be a string")],
)  # fmt: skip
def test_bad_encoding_is_one_clear_error(encoding, needle):
    with pytest.raises(BadInputError, match=needle):
        encoding_matrix(encoding)


def test_every_encoding_is_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "methods.md").read_text()
    for name in ENCODINGS:
        assert f"`{name}`" in doc, name


def test_robust_pins_its_encoding_into_the_cell_id_and_other_cells_keep_theirs():
    from badlabels.experiment.grid import GridSpec

    def cells(method_params):
        grid = GridSpec(models=["lstm"], methods=["bce", "robust"], noise_rates=[0.45],
                        seeds=[0], method_params=method_params)  # fmt: skip
        return {c.method: c for c in grid.cells("d", "f")}

    default, onehot = cells({}), cells({"robust": {"encoding": "onehot"}})
    assert dict(default["robust"].method_params) == {"encoding": "onehot+blosum"}
    assert default["robust"].cell_id != onehot["robust"].cell_id  # a changed recipe: new cells
    assert default["bce"].cell_id == onehot["bce"].cell_id
    assert default["bce"].method_params == ()  # methods without pinned defaults: as before


def test_encoded_flat_is_one_hot_times_the_matrix():
    seqs = ["ACDK", "WYV"]
    np.testing.assert_array_equal(encoded_flat(seqs), one_hot_flat(seqs))
    m = encoding_matrix("kidera")
    flat = encoded_flat(seqs, "kidera", length=4)
    assert flat.shape == (2, 4 * 10)
    np.testing.assert_allclose(flat[0, 10:20], m[AMINO_ACIDS.index("C")], rtol=1e-6)
    np.testing.assert_array_equal(flat[1, 30:], 0.0)  # padding position


@pytest.mark.parametrize("name", sorted(SMALL))
def test_encoded_network_sees_onehot_times_matrix(data, name):
    seqs, y = data
    est = make_model(name, **SMALL[name], max_epochs=1, random_state=0, device="cpu",
                     encoding="onehot+vhse")  # fmt: skip
    est.fit(seqs[:200], y[:200])
    module = est.module_
    assert isinstance(module, EncodedInput)
    tokens, lengths = encode(seqs[:16])
    tokens_t, lengths_t = torch.as_tensor(tokens), torch.as_tensor(lengths)
    onehot = F.one_hot(tokens_t, 21)[..., 1:].float()
    with torch.no_grad():
        direct = module.net(tokens_t, lengths_t, onehot=onehot @ module.matrix)
        wrapped = module(tokens_t, lengths_t)
        mixed = module(tokens_t, lengths_t, onehot=onehot)  # mixup's path
    torch.testing.assert_close(wrapped, direct)
    torch.testing.assert_close(mixed, direct)
    assert est.decision_function(seqs[:16]).shape == (16,)


@pytest.mark.parametrize("name", ["lstm", "cnn"])
def test_onehot_is_the_bare_network_with_the_same_numbers(data, name):
    seqs, y = data
    a = make_model(name, **SMALL[name], max_epochs=2, random_state=1, device="cpu").fit(seqs, y)
    b = make_model(name, **SMALL[name], max_epochs=2, random_state=1, device="cpu",
                   encoding="onehot").fit(seqs, y)  # fmt: skip
    assert not isinstance(b.module_, EncodedInput)
    np.testing.assert_array_equal(a.predict_proba(seqs), b.predict_proba(seqs))


@pytest.mark.parametrize("name", ["lstm", "transformer", "logreg"])
def test_encoded_model_save_load_predict(data, name, tmp_path):
    seqs, y = data
    params = {} if name == "logreg" else {**SMALL[name], "max_epochs": 2, "device": "cpu"}
    est = make_model(name, **params, random_state=0, encoding="zscales").fit(seqs, y)
    save_model(est, tmp_path / "m")
    back = load_model(tmp_path / "m")
    assert back.encoding == "zscales"
    np.testing.assert_allclose(back.predict_proba(seqs), est.predict_proba(seqs), atol=1e-6)


def test_logreg_with_descriptors_has_the_right_width(data):
    seqs, y = data
    est = make_model("logreg", encoding="onehot+vhse", random_state=0).fit(seqs, y)
    assert est.estimator_.coef_.shape == (1, 12 * 28)
    assert est.architecture()["n_features"] == 12 * 28


def test_model_refuses_a_bad_encoding(data):
    seqs, y = data
    with pytest.raises(BadInputError, match="unknown part 'vshe'"):
        make_model("cnn", encoding="onehot+vshe", device="cpu").fit(seqs, y)
    with pytest.raises(BadInputError, match="unknown part"):
        make_model("logreg", encoding="onehot+vshe").fit(seqs, y)
