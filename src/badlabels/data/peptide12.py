"""``peptide12``: a built-in, deterministic synthetic production-fitness landscape of 12-mers.

This is a **synthetic stand-in** for the private 250,000-peptide dataset of the experiment that
started badlabels (see docs/tutorial.md). It is not biology; it is built to have the properties that
matter for label-noise experiments on real peptide assays:

* residues are drawn with NNK-codon frequencies (L, R, S three times as likely as singletons such as
  W or M; stop codons excluded), and every sequence is unique;
* a latent fitness made of
  - per-site effects (position-specific preferences, additive: what a linear model can learn),
  - position-independent biophysics shared by every site: an optimum of mean hydrophobicity
    (too hydrophobic aggregates, too hydrophilic fails to fold) and a penalty on the square of the
    net charge (both non-additive in the residues),
  - sparse pairwise epistasis between a few site pairs (so a sequence model beats a per-site
    linear one),
  - a global sigmoid non-linearity (expression saturates);
* a measured score = latent + Gaussian assay noise, so even the clean labels are imperfect (the
  AUROC of the latent fitness against the labels, the *ceiling*, is below 0.98);
* label = measured score above the 60th percentile (40 % positives).

The same ``seed`` always gives the same landscape and the same sequences.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from badlabels.data.dataset import Dataset
from badlabels.errors import BadInputError

AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
LENGTH = 12

# Codons per amino acid in an NNK library (32 codons: 31 sense + the TAG stop).
_NNK_CODONS = {
    "L": 3, "R": 3, "S": 3, "A": 2, "G": 2, "P": 2, "T": 2, "V": 2,
    "C": 1, "D": 1, "E": 1, "F": 1, "H": 1, "I": 1, "K": 1, "M": 1,
    "N": 1, "Q": 1, "W": 1, "Y": 1,
}  # fmt: skip
NNK_FREQUENCIES = np.array([_NNK_CODONS[a] for a in AMINO_ACIDS], dtype=float) / 31.0

# Kyte-Doolittle hydrophobicity and side-chain charge at pH 7.
_KD = {
    "A": 1.8, "C": 2.5, "D": -3.5, "E": -3.5, "F": 2.8, "G": -0.4, "H": -3.2, "I": 4.5,
    "K": -3.9, "L": 3.8, "M": 1.9, "N": -3.5, "P": -1.6, "Q": -3.5, "R": -4.5, "S": -0.8,
    "T": -0.7, "V": 4.2, "W": -0.9, "Y": -1.3,
}  # fmt: skip
HYDROPHOBICITY = np.array([_KD[a] for a in AMINO_ACIDS])
CHARGE = np.array([{"D": -1, "E": -1, "K": 1, "R": 1, "H": 0.1}.get(a, 0.0) for a in AMINO_ACIDS])

# Relative weights of the latent's parts (each part is standardised first).
_W_SITE, _W_HYDRO, _W_CHARGE, _W_EPI, _W_ADJ = 0.15, 1.0, 1.1, 0.3, 0.3
_N_PAIRS = 8
# The hydrophobicity optimum sits 1.5 sd above the library mean: mostly "more is better", with a
# turn-over in the tail (a first-order signal a model can pick up even from very noisy labels).
_HYDRO_MEAN = float(NNK_FREQUENCIES @ HYDROPHOBICITY)
_HYDRO_SD = float(np.sqrt(NNK_FREQUENCIES @ (HYDROPHOBICITY - _HYDRO_MEAN) ** 2 / LENGTH))
_HYDRO_OPT = _HYDRO_MEAN + 1.5 * _HYDRO_SD
_ASSAY_NOISE = 0.45  # sd of the assay noise, relative to the sd of the latent
_POSITIVE_FRACTION = 0.40
_LANDSCAPE_SEED = 1729  # the landscape is fixed; ``seed`` only draws sequences


def _landscape(rng: np.random.Generator):
    site = rng.normal(0.0, 1.0, size=(LENGTH, 20))
    site *= rng.uniform(0.2, 1.0, size=(LENGTH, 1))  # some sites matter more
    pairs = []
    for _ in range(_N_PAIRS):
        i, j = sorted(rng.choice(LENGTH, size=2, replace=False))
        # Sparse couplings: a handful of residue pairs at this site pair interact strongly.
        coupling = np.zeros((20, 20))
        k = rng.choice(400, size=40, replace=False)
        coupling.flat[k] = rng.normal(0.0, 2.0, size=40)
        pairs.append((int(i), int(j), coupling))
    # Position-independent neighbour couplings (e.g. like charges or two prolines in a row).
    adjacent = np.zeros((20, 20))
    k = rng.choice(400, size=30, replace=False)
    adjacent.flat[k] = rng.normal(0.0, 1.0, size=30)
    return site, pairs, adjacent


def _draw_unique(n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw n unique 12-mers (as an (n, 12) int array) with NNK residue frequencies."""
    chosen = np.empty((0, LENGTH), dtype=np.int8)
    seen: set[bytes] = set()
    while len(chosen) < n:
        need = int((n - len(chosen)) * 1.05) + 16
        batch = rng.choice(20, size=(need, LENGTH), p=NNK_FREQUENCIES).astype(np.int8)
        keep = []
        for r, row in enumerate(batch):
            key = row.tobytes()
            if key not in seen:
                seen.add(key)
                keep.append(r)
        chosen = np.concatenate([chosen, batch[keep]])
    return chosen[:n]


def _components(residues: np.ndarray, landscape) -> np.ndarray:
    """Raw latent parts, shape (5, n): site, hydrophobicity, charge, epistasis, neighbours."""
    site, pairs, adjacent = landscape
    pos = np.arange(LENGTH)
    additive = site[pos, residues].sum(axis=1)
    hydro = HYDROPHOBICITY[residues].mean(axis=1)
    hydro_term = -((hydro - _HYDRO_OPT) ** 2)
    charge_term = -(CHARGE[residues].sum(axis=1) ** 2)
    epi = np.zeros(len(residues))
    for i, j, coupling in pairs:
        epi += coupling[residues[:, i], residues[:, j]]
    adj = adjacent[residues[:, :-1], residues[:, 1:]].sum(axis=1)
    return np.stack([additive, hydro_term, charge_term, epi, adj])


@functools.cache
def _fixed_landscape():
    """The landscape and the reference statistics that put its parts on one scale.

    The statistics come from a fixed reference library, so a sequence's latent fitness never
    depends on which other sequences were drawn.
    """
    rng = np.random.default_rng(_LANDSCAPE_SEED)
    landscape = _landscape(rng)
    reference = rng.choice(20, size=(50_000, LENGTH), p=NNK_FREQUENCIES)
    parts = _components(reference, landscape)
    mean, sd = parts.mean(axis=1), parts.std(axis=1)
    weights = np.array([_W_SITE, _W_HYDRO, _W_CHARGE, _W_EPI, _W_ADJ])
    z = weights @ ((parts - mean[:, None]) / sd[:, None])
    return landscape, mean, sd, weights, float(z.mean()), float(z.std())


LATENT_PARTS = ("site", "hydrophobicity", "charge", "epistasis", "neighbours")
"""The parts of the latent fitness, in the order :func:`latent_parts` returns them."""


def latent_parts(sequences) -> pd.DataFrame:
    """The standardised parts of the latent fitness of peptide12 sequences.

    Useful to ask what a model has learnt, or to fit a reference model on the landscape's own
    terms (``benchmarks/noise_trajectories.py --oracle``). The latent fitness is a sigmoid of
    a weighted sum of these columns.

    Parameters
    ----------
    sequences : array-like of str
        12-mers over the 20 amino acids.

    Returns
    -------
    DataFrame
        One row per sequence, columns :data:`LATENT_PARTS`, each with mean 0 and sd 1 over
        the fixed reference library.
    """
    index = {a: i for i, a in enumerate(AMINO_ACIDS)}
    try:
        residues = np.array([[index[c] for c in s] for s in sequences], dtype=np.int64)
    except KeyError as exc:
        raise BadInputError(f"peptide12 sequences use the 20 amino acids, not {exc}") from None
    if residues.ndim != 2 or (len(residues) and residues.shape[1] != LENGTH):
        raise BadInputError(f"peptide12 sequences are {LENGTH} residues long")
    landscape, mean, sd, *_ = _fixed_landscape()
    z = (_components(residues.reshape(-1, LENGTH), landscape) - mean[:, None]) / sd[:, None]
    return pd.DataFrame(z.T, columns=list(LATENT_PARTS))


def latent_fitness(residues: np.ndarray) -> np.ndarray:
    """The noise-free fitness in (0, 1) of residue-index arrays of shape (n, 12)."""
    landscape, mean, sd, weights, z_mean, z_sd = _fixed_landscape()
    parts = _components(np.asarray(residues), landscape)
    z = weights @ ((parts - mean[:, None]) / sd[:, None])
    return 1.0 / (1.0 + np.exp(-1.5 * (z - z_mean) / z_sd))


def peptide12_frame(n_sequences: int = 250_000, seed: int = 0) -> pd.DataFrame:
    """The peptide12 table: ``sequence``, ``label``, ``score``, ``latent_fitness``.

    Parameters
    ----------
    n_sequences : int
        Number of unique 12-mers (at least 100).
    seed : int
        Draws the sequences and the assay noise; the landscape itself is fixed.
    """
    if n_sequences < 100:
        raise BadInputError(f"--n-sequences must be at least 100 (got {n_sequences})")
    rng = np.random.default_rng(seed)
    residues = _draw_unique(int(n_sequences), rng)
    latent = latent_fitness(residues)
    score = latent + rng.normal(0.0, _ASSAY_NOISE * latent.std(), size=len(latent))
    cutoff = float(np.quantile(score, 1.0 - _POSITIVE_FRACTION))
    letters = np.frombuffer(AMINO_ACIDS.encode(), dtype="S1")[residues]
    sequences = letters.view(f"S{LENGTH}").ravel().astype(str)
    return pd.DataFrame(
        {
            "sequence": sequences,
            "label": (score > cutoff).astype(np.int8),
            "score": score,
            "latent_fitness": latent,
        }
    ).assign(cutoff=cutoff)


def make_peptide12(n_sequences: int = 250_000, seed: int = 0) -> Dataset:
    """The built-in peptide12 dataset as a :class:`Dataset` (see the module docstring)."""
    df = peptide12_frame(n_sequences, seed)
    cutoff = float(df["cutoff"].iloc[0])
    return Dataset(
        sequences=df["sequence"].to_numpy(dtype=object),
        labels=df["label"].to_numpy(),
        name="peptide12",
        scores=df["score"].to_numpy(),
        threshold=cutoff,
        latent=df["latent_fitness"].to_numpy(),
        extra={"n_sequences": int(n_sequences), "seed": int(seed), "synthetic": True},
    )
