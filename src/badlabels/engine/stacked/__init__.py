"""Train K Fit4Function LSTMs at once: the *stacked* engine.

The experiment trains dozens of copies of one small network on the same sequences with
different labels (noise levels, seeds, methods). Trained one after another, each model
leaves the hardware mostly idle; here the K models' weights are stacked along a leading
axis and run as batched matrix products, so one optimiser step trains all K.

What is stacked
---------------
:class:`StackedLSTM` holds, for each LSTM layer, ``w_ih (K, 4H, in)``, ``w_hh (K, 4H, H)``,
``b_ih, b_hh (K, 4H)`` and a head ``w (K, 1, H_last)``, ``b (K, 1)``: model ``k`` is slot
``k`` of every tensor and is exactly an :class:`badlabels.models.lstm.LSTMNet`
(:meth:`StackedLSTM.to_lstmnet` / :meth:`StackedLSTM.from_lstmnets` convert). Internally
the gates are kept in the order i, f, o, g (PyTorch's is i, f, g, o) so that one sigmoid
covers three gates.

- Layer 1 sees one-hot residues, so its input projection is a gather: row ``a`` of
  ``[0 | W_ih^T] + b`` for residue token ``a`` (padding = token 0 = no input).
- Each layer's recurrence is one autograd function (:class:`_LSTMLayer`) with a
  hand-written backward: per time step one ``baddbmm`` over the K models forward, one
  ``bmm`` backward, and the recurrent weight gradient accumulated in place.
- Sequences of different lengths: the last layer's state is read at each sequence's
  last residue (states of padded positions are computed but never used), which is
  what packing does in the plain model.

Training (:func:`fit_stacked`)
------------------------------
Sequences are encoded once and kept on the device as int tokens (no float one-hot), each
model has its own labels ``y[k]`` and its own (noisy) validation labels. Every model has
its own seed: its initial weights are those ``LSTMClassifier(random_state=seed)`` would
draw, and its batch order is the permutation the plain :class:`~badlabels.engine.
trainer.Trainer` would draw with that seed (``torch.randperm`` with a generator seeded
by ``seed``), taken by indexing. So a model's training does not depend on which other
models share its stack, and K = 1 is the plain training up to floating-point rounding.

One Adam over the stacked tensors is K independent Adams (it is elementwise). Early
stopping is per model: one :class:`~badlabels.engine.stopping.EarlyStopping` each, the
plain trainer's rule (patience on the validation loss, best weights restored). A model
that stops is *removed from the stack* (its weights and Adam state are sliced out), so it
stops changing and the remaining models train faster; its best weights are kept aside and
returned.

Losses are any registered loss (``badlabels.engine.losses``): by the registry's
contract a loss is a mean of per-sample losses, so models that share a loss are
evaluated together; models with other loss parameters are evaluated group by group.

Modules
-------
:mod:`~badlabels.engine.stacked.network`
    :class:`StackedLSTM`, its LSTM kernel and :func:`init_stacked`.
:mod:`~badlabels.engine.stacked.loss`
    :class:`StackedLoss`.
:mod:`~badlabels.engine.stacked.precision`
    :data:`PRECISIONS`, :func:`resolve_precision`.
:mod:`~badlabels.engine.stacked.fit`
    :func:`fit_stacked`, :func:`predict_stacked`, :func:`predict_stacked_rows`.

Nothing here imports typer, rich, cleanlab or safetensors: ``benchmarks/throughput.py``
runs it from source with torch, numpy, pandas and scikit-learn only.
"""

from badlabels.engine.stacked.fit import (
    StackedResult,
    eval_rows,
    fit_stacked,
    predict_stacked,
    predict_stacked_rows,
)
from badlabels.engine.stacked.loss import StackedLoss
from badlabels.engine.stacked.network import StackedLSTM, Workspace, init_stacked
from badlabels.engine.stacked.precision import (
    PRECISIONS,
    cpu_has_fast_bf16,
    resolve_precision,
)

__all__ = [
    "PRECISIONS",
    "Workspace",
    "StackedLSTM",
    "StackedLoss",
    "StackedResult",
    "cpu_has_fast_bf16",
    "eval_rows",
    "fit_stacked",
    "resolve_precision",
    "init_stacked",
    "predict_stacked",
    "predict_stacked_rows",
]
