"""The built-in peptide12 landscape: the properties issue #2 asks of it.

(Its generation time, under 15 s for 250,000 sequences on one core, is measured by
``benchmarks/peptide12_generate.py``, not here.)
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from badlabels.data.encoding import one_hot_flat
from badlabels.data.peptide12 import (
    _ASSAY_NOISE,
    AMINO_ACIDS,
    LATENT_PARTS,
    LENGTH,
    NNK_FREQUENCIES,
    latent_fitness,
    latent_parts,
    make_peptide12,
    peptide12_frame,
)
from badlabels.errors import BadInputError


@pytest.fixture(scope="module")
def frame():
    return peptide12_frame(20_000, seed=0)


def test_unique_12mers_over_the_amino_acids(frame):
    seqs = frame["sequence"]
    assert seqs.is_unique and len(seqs) == 20_000
    assert (seqs.str.len() == LENGTH).all()
    assert set("".join(seqs.head(2000))) <= set(AMINO_ACIDS)


def test_residues_follow_nnk_codon_frequencies(frame):
    letters = np.frombuffer("".join(frame["sequence"]).encode(), dtype="S1").astype(str)
    observed = np.array([(letters == a).mean() for a in AMINO_ACIDS])
    np.testing.assert_allclose(observed, NNK_FREQUENCIES, atol=0.004)
    assert observed[AMINO_ACIDS.index("L")] > 2.5 * observed[AMINO_ACIDS.index("W")]  # not uniform


def test_labels_positives_and_a_noisy_assay_ceiling(frame):
    assert 0.30 <= frame["label"].mean() <= 0.50
    ceiling = roc_auc_score(frame["label"], frame["latent_fitness"])
    assert 0.85 < ceiling < 0.98  # the assay noise keeps even clean labels imperfect
    assert (frame["score"] > frame["cutoff"]).astype(int).eq(frame["label"]).all()
    residual = frame["score"] - frame["latent_fitness"]
    assert residual.std() == pytest.approx(_ASSAY_NOISE * frame["latent_fitness"].std(), rel=0.05)


def test_same_seed_same_data_and_one_fixed_landscape():
    a, b = peptide12_frame(500, seed=7), peptide12_frame(500, seed=7)
    assert a.equals(b)
    c = peptide12_frame(500, seed=8)
    assert not a["sequence"].equals(c["sequence"])
    # the landscape does not depend on the seed: a sequence has one latent fitness
    shared = a.merge(peptide12_frame(5000, seed=7), on="sequence", suffixes=("", "_big"))
    np.testing.assert_allclose(shared["latent_fitness"], shared["latent_fitness_big"])
    ds = make_peptide12(500, seed=7)
    assert ds.sequences.tolist() == a["sequence"].tolist() and ds.extra["synthetic"]


def test_a_per_site_linear_model_stays_below_the_ceiling(frame):
    """Epistasis and the non-additive biophysics: one-hot logistic regression, fitted on the
    clean labels, falls well short of what the latent fitness achieves."""
    train, test = frame.iloc[:16_000], frame.iloc[16_000:]
    x_tr, x_te = one_hot_flat(train["sequence"]), one_hot_flat(test["sequence"])
    model = LogisticRegression(max_iter=300).fit(x_tr, train["label"])
    linear = roc_auc_score(test["label"], model.decision_function(x_te))
    ceiling = roc_auc_score(test["label"], test["latent_fitness"])
    assert linear < ceiling - 0.04


def test_latent_parts_make_the_latent_fitness(frame):
    seqs = frame["sequence"].head(3000)
    parts = latent_parts(seqs)
    assert list(parts.columns) == list(LATENT_PARTS) and len(parts) == 3000
    index = {a: i for i, a in enumerate(AMINO_ACIDS)}
    residues = np.array([[index[c] for c in s] for s in seqs])
    latent = latent_fitness(residues)
    # the latent is a monotone (sigmoid) function of one weighted sum of the parts
    weights = np.linalg.lstsq(
        np.column_stack([parts.to_numpy(), np.ones(len(parts))]),
        np.log(latent / (1 - latent)),
        rcond=None,
    )[0]
    fitted = np.column_stack([parts.to_numpy(), np.ones(len(parts))]) @ weights
    np.testing.assert_allclose(fitted, np.log(latent / (1 - latent)), atol=1e-8)
    with pytest.raises(BadInputError, match="20 amino acids"):
        latent_parts(["ACDEFGHIKLMB"])
    with pytest.raises(BadInputError, match="12 residues"):
        latent_parts(["ACDEFGHIKLM"])


def test_too_few_sequences_is_a_clear_error():
    with pytest.raises(BadInputError, match="at least 100"):
        peptide12_frame(50)
