"""Data: reading, validating, encoding and splitting labelled sequences.

``load_data`` reads CSV/TSV/TXT, Parquet or FASTA files (or a built-in dataset from the
registry ``BUILTIN_DATASETS``) into a validated :class:`Dataset`, ProteinGym, FLIP and
MaveDB files (``LAYOUTS``) included; ``encode``/``one_hot_flat`` are the one place
sequences are encoded, ``split_indices`` the one place data are split.
"""

from __future__ import annotations

from badlabels.data.builtin import BUILTIN_DATASETS, load_data, register_dataset
from badlabels.data.dataset import Dataset
from badlabels.data.encoding import AMINO_ACIDS, encode, one_hot_flat
from badlabels.data.features import read_features
from badlabels.data.gb1 import load_gb1
from badlabels.data.io import load_file, read_table, read_table_chunks  # noqa: I001
from badlabels.data.layouts import LAYOUTS
from badlabels.data.peptide12 import make_peptide12
from badlabels.data.positions import choose_positions, project
from badlabels.data.splits import Split, split_indices

__all__ = [
    "AMINO_ACIDS",
    "BUILTIN_DATASETS",
    "LAYOUTS",
    "Dataset",
    "Split",
    "choose_positions",
    "encode",
    "load_data",
    "load_file",
    "load_gb1",
    "make_peptide12",
    "one_hot_flat",
    "project",
    "read_features",
    "read_table",
    "read_table_chunks",
    "register_dataset",
    "split_indices",
]
