"""The GB1 four-site fitness landscape (Wu et al. 2016) as a labelled dataset with read counts.

Assumptions
-----------
- The file has the layout of ``gb1_wu2016.csv.gz``: columns ``variant`` (the residues at
  sites 39, 40, 41 and 54), ``hamming_to_wt``, ``count_input``, ``count_selected`` and
  ``fitness`` (enrichment relative to wild type, 0 where no read survived selection).
- The wild type is ``VDGV``; its row and read counts are kept because read-depth noise
  re-derives fitness relative to the wild type.
- Label = fitness > cutoff, the cutoff being ``threshold`` or (default) the median fitness.
"""

from __future__ import annotations

from badlabels.data.dataset import Dataset
from badlabels.data.io import load_file
from badlabels.errors import BadInputError

WILD_TYPE = "VDGV"
"""The GB1 wild-type residues at sites 39, 40, 41 and 54."""


def load_gb1(
    path,
    *,
    threshold: float | None = None,
    quantile: float | None = 0.5,
    seq_col: str = "variant",
    label_col: str = "fitness",
    fmt: str | None = None,
    wild_type: str = WILD_TYPE,
) -> Dataset:
    """Load the GB1 landscape with labels from fitness and the read counts kept.

    Parameters
    ----------
    path : str or Path
        The GB1 file (e.g. ``gb1_wu2016.csv.gz``).
    threshold : float, optional
        Label = fitness > threshold. When given, ``quantile`` is ignored.
    quantile : float, default 0.5
        Otherwise label = fitness > the ``quantile`` of the fitness values (0.5: the median,
        giving about half positives).
    seq_col, label_col : str
        Columns of the variant and its fitness.
    fmt : str, optional
        Force the file format (see :func:`badlabels.data.read_table`).
    wild_type : str, default ``"VDGV"``
        The wild type that fitness is relative to.

    Returns
    -------
    Dataset
        ``name="gb1"``; ``scores`` = fitness, ``threshold`` = the cutoff,
        ``counts`` = ``{"count_input", "count_selected"}``, ``extra["wild_type"]``,
        ``extra["wt_index"]`` (the row of the wild type in the dataset, or None if absent),
        ``extra["wt_counts"]`` (its two counts) and ``extra["quantile"]`` when a quantile was
        used.

    Raises
    ------
    BadInputError
        For a missing file or column, missing counts, or any invalid value.
    """
    if threshold is not None:
        quantile = None
    elif quantile is None:
        raise BadInputError("GB1 labels need a threshold or a quantile of fitness", file=str(path))
    ds = load_file(
        path,
        seq_col=seq_col,
        label_col=label_col,
        threshold=threshold,
        quantile=quantile,
        fmt=fmt,
        name="gb1",
        require_counts=True,
    )
    wild_type = str(wild_type).strip().upper()
    hits = (ds.sequences == wild_type).nonzero()[0]
    wt_index = int(hits[0]) if len(hits) else None
    ds.extra["wt_index"] = wt_index
    # (input, selected) of the wild type: survives subsetting, unlike its row index.
    ds.extra["wt_counts"] = (
        None
        if wt_index is None
        else (int(ds.counts["count_input"][wt_index]), int(ds.counts["count_selected"][wt_index]))
    )
    ds.extra["wild_type"] = wild_type
    return ds
