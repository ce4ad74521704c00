"""Training and prediction of a stack: :func:`fit_stacked`, :func:`predict_stacked`.

One Adam over the stacked tensors (K independent Adams), per-model batches drawn as the
plain trainer draws them, per-model early stopping with
:class:`~badlabels.engine.stopping.EarlyStopping`, stopped models sliced out of the stack.
See :mod:`badlabels.engine.stacked` for the design and its assumptions.

Sequences of different lengths: every batch (training and evaluation) is cut to its longest
sequence (training: rounded up to a multiple of :data:`TRAIN_WIDTH_MULTIPLE`); the network
reads each sequence's state at its own last residue and its recurrence is causal, so the
dropped trailing steps never reached a logit or a gradient. Equal-length data
(``lengths=None``) runs at its full width, exactly as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from badlabels.engine.schedule import TrainSchedule
from badlabels.engine.stacked.loss import StackedLoss
from badlabels.engine.stacked.network import StackedLSTM, Workspace, init_stacked
from badlabels.engine.stacked.precision import _TF32, resolve_precision
from badlabels.engine.stopping import EarlyStopping
from badlabels.engine.trainer import batch_width

TRAIN_WIDTH_MULTIPLE = 8
"""Training batches are cut to their longest sequence rounded up to this, so that
consecutive batches mostly share a width and the CPU :class:`Workspace` buffers are reused."""


@dataclass
class StackedResult:
    """What :func:`fit_stacked` returns (lists are per model, in input order).

    Attributes
    ----------
    module : StackedLSTM
        All K models with their kept (best) weights, eval mode, on the training device.
    history : list of list of dict
        Per model, per epoch: ``epoch``, ``train_loss``, ``val_loss``, ``seconds`` (the
        epoch's wall time divided by the number of models trained in it).
    best_epoch, epochs_run : list of int
    best_val_loss : list of float or None
    seconds : float
        Wall time of the whole loop.
    model_epochs : int
        Epochs run, summed over the models.
    precision : str
        The precision that ran (``auto`` resolved: ``fp32``, ``tf32`` or ``bf16``).
    """

    module: StackedLSTM
    history: list[list[dict]] = field(default_factory=list)
    best_epoch: list[int] = field(default_factory=list)
    epochs_run: list[int] = field(default_factory=list)
    best_val_loss: list[float | None] = field(default_factory=list)
    seconds: float = 0.0
    model_epochs: int = 0
    precision: str = "fp32"


def eval_rows(k: int, hidden_sizes: Sequence[int], device: torch.device) -> int:
    """Rows per no-grad forward, so that one step's gates of all K models stay small."""
    budget = 2**25 if torch.device(device).type == "cuda" else 2**22  # floats per step
    return int(min(max(budget // (max(k, 1) * 4 * max(hidden_sizes)), 256), 16384))


def predict_stacked(
    module: StackedLSTM,
    tokens: torch.Tensor,
    lengths: torch.Tensor | None = None,
    rows: int | None = None,
) -> torch.Tensor:
    """Logits of all K models over shared sequences: ``(K, n)`` float32 on their device."""
    n = int(tokens.shape[0])
    rows = rows or eval_rows(module.k, module.hidden_sizes, tokens.device)
    was_training = module.training
    module.eval()
    out = []
    try:
        with torch.no_grad():
            for start in range(0, n, rows):
                stop = min(start + rows, n)
                ln = None if lengths is None else lengths[start:stop]
                width = batch_width(ln, tokens.shape[-1])
                out.append(module(tokens[start:stop, :width], ln).float())
    finally:
        module.train(was_training)
    if not out:
        return torch.empty(module.k, 0, device=tokens.device)
    return torch.cat(out, dim=1)


def predict_stacked_rows(
    module: StackedLSTM,
    tokens: torch.Tensor,
    lengths: torch.Tensor | None,
    rows: Sequence[torch.Tensor],
) -> list[torch.Tensor]:
    """Logits of model ``k`` over its own rows ``tokens[rows[k]]``, for every k.

    Returns a list of K float32 tensors, ``len(rows[k])`` long each, on the device.
    """
    width = max((len(r) for r in rows), default=0)
    index = torch.stack([_top_up(r, width) for r in rows]) if width else None
    out = []
    step = eval_rows(module.k, module.hidden_sizes, tokens.device)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            for start in range(0, width, step):
                idx = index[:, start : start + step]  # (K, B)
                ln = None if lengths is None else lengths[idx]
                out.append(module(_gather(tokens, idx, ln), ln).float())
    finally:
        module.train(was_training)
    if not out:
        return [torch.empty(0, device=tokens.device) for _ in rows]
    logits = torch.cat(out, dim=1)
    return [logits[k, : len(r)] for k, r in enumerate(rows)]


def _gather(
    tokens: torch.Tensor, idx: torch.Tensor, lengths: torch.Tensor | None, multiple: int = 1
) -> torch.Tensor:
    """``tokens[idx]`` (shape ``idx.shape + (width,)``) cut to the longest of ``lengths``."""
    width = batch_width(lengths, tokens.shape[-1], multiple)
    return tokens[idx] if width == tokens.shape[-1] else tokens[idx, :width]


def _top_up(index: torch.Tensor, width: int) -> torch.Tensor:
    """``index`` made ``width`` long by repeating its start (no-op when it is that long)."""
    if len(index) >= width:
        return index
    reps = -(-width // max(len(index), 1))
    return index.repeat(reps)[:width]


def _check_rows(rows, k: int, n: int, what: str) -> list[torch.Tensor] | None:
    if rows is None:
        return None
    rows = list(rows)
    if len(rows) != k:
        raise ValueError(f"{what}: got {len(rows)} index tensors for {k} models")
    for j, r in enumerate(rows):
        if r.dim() != 1 or len(r) == 0:
            raise ValueError(f"{what}[{j}] must be a non-empty 1-D index tensor")
        if int(r.min()) < 0 or int(r.max()) >= n:
            raise ValueError(f"{what}[{j}] indexes outside the {n} rows")
    return rows


def _loss_on_rows(module, loss_fn, tokens, lengths, y, rows) -> list[float]:
    """Model ``k``'s mean loss over exactly its rows (models grouped by row count)."""
    logits = predict_stacked_rows(module, tokens, lengths, rows)
    out = [0.0] * len(rows)
    by_size: dict[int, list[int]] = {}
    for k, r in enumerate(rows):
        by_size.setdefault(len(r), []).append(k)
    for group in by_size.values():
        targets = torch.stack([y[k, rows[k]] for k in group])
        losses = loss_fn.select(group)(torch.stack([logits[k] for k in group]), targets)
        for k, value in zip(group, losses.tolist(), strict=True):
            out[k] = value
    return out


def _adam_kwargs(lr: float, weight_decay: float, device: torch.device) -> dict:
    kw: dict = {"lr": float(lr), "weight_decay": float(weight_decay)}
    kw["fused" if device.type == "cuda" else "foreach"] = True
    return kw


def _sliced_adam(
    opt: torch.optim.Adam, old: list[torch.Tensor], new: list[nn.Parameter],
    keep: torch.Tensor, kw: dict,
) -> torch.optim.Adam:  # fmt: skip
    """A new Adam over ``new`` holding ``opt``'s state for the models ``keep``."""
    out = torch.optim.Adam(new, **kw)
    for p_old, p_new in zip(old, new, strict=True):
        st = opt.state.get(p_old)
        if st:
            out.state[p_new] = {
                "step": st["step"].clone() if torch.is_tensor(st["step"]) else st["step"],
                "exp_avg": st["exp_avg"][keep].clone(),
                "exp_avg_sq": st["exp_avg_sq"][keep].clone(),
            }
    return out


def fit_stacked(
    tokens: torch.Tensor,
    lengths: torch.Tensor | None,
    y: torch.Tensor,
    *,
    seeds: Sequence[int],
    val_tokens: torch.Tensor | None = None,
    val_lengths: torch.Tensor | None = None,
    val_y: torch.Tensor | None = None,
    n_tokens: int = 21,
    hidden_sizes: Sequence[int] = (140, 20),
    losses: Sequence[tuple[str, dict | None]] | None = None,
    schedule: TrainSchedule | None = None,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    batch_size: int = 500,
    max_epochs: int = 30,
    patience: int | None = 5,
    precision: str = "auto",
    progress: Callable[..., object] | None = None,
    rows: Sequence[torch.Tensor] | None = None,
    val_rows: Sequence[torch.Tensor] | None = None,
    input_map: torch.Tensor | None = None,
) -> StackedResult:
    """Train K LSTMs on shared sequences with per-model labels and per-model early stopping.

    Parameters
    ----------
    tokens : torch.Tensor of int64, shape (n, L)
        Training sequences, already on the training device (``to_device_data``).
    lengths : torch.Tensor of int64, shape (n,), or None
        ``None`` when every sequence is ``L`` long.
    y : torch.Tensor of float32, shape (K, n)
        Model ``k``'s training targets (0.0 / 1.0).
    seeds : sequence of int, length K
        Model ``k`` is initialised and its batches drawn as in
        ``LSTMClassifier(random_state=seeds[k])``.
    val_tokens, val_lengths : optional
        Validation sequences (shared by the models).
    val_y : torch.Tensor, shape (K, n_val), optional
        Per-model validation targets: early stopping and the weights kept use each
        model's own validation loss. Without them every model trains ``max_epochs``.
    n_tokens : int
        ``len(alphabet) + 1``.
    hidden_sizes : sequence of int
    losses : sequence of (name, params), length K, optional
        Model ``k``'s training loss (default: ``bce`` for every model).
    schedule : TrainSchedule, optional
        The K models' shared schedule; when given it replaces ``lr``, ``weight_decay``,
        ``batch_size``, ``max_epochs`` and ``patience``.
    lr, weight_decay, batch_size, max_epochs, patience
        As in :class:`~badlabels.engine.trainer.Trainer`; shared by the K models.
    precision : {"auto", "fp32", "tf32", "bf16"}
        See :data:`PRECISIONS`.
    progress : callable, optional
        ``progress("epoch", model=k, epoch=, max_epochs=, train_loss=, val_loss=)`` for
        every model trained in an epoch, and ``progress("model_done", model=k,
        epochs_run=, best_epoch=)`` once model ``k`` has stopped.
    rows : sequence of K int64 tensors, optional
        Model ``k`` trains on ``tokens[rows[k]]`` only (e.g. the folds of a
        cross-validation); default: every model on all ``n`` rows. Its batches are drawn
        as ``LSTMClassifier(random_state=seeds[k])`` draws them from that subset; where
        the subsets differ in size, a shorter one's last batch of an epoch is topped up
        with rows from the start of its epoch, so every model takes the same steps.
    val_rows : sequence of K int64 tensors, optional
        Model ``k``'s validation rows in ``val_tokens`` (its loss uses exactly these);
        default: all of them.
    input_map : torch.Tensor of float32, shape (n_tokens - 1, d), optional
        The models' residue encoding (``LSTMClassifier(encoding=...)``'s matrix); default
        one-hot.

    Returns
    -------
    StackedResult
    """
    if schedule is None:
        schedule = TrainSchedule(batch_size=batch_size, lr=lr, max_epochs=max_epochs,
                                 patience=patience, weight_decay=weight_decay)  # fmt: skip
    max_epochs = schedule.max_epochs
    device = tokens.device
    precision = resolve_precision(precision, device)
    K = int(y.shape[0])
    n = int(tokens.shape[0])
    if len(seeds) != K:
        raise ValueError(f"got {K} label rows but {len(seeds)} seeds")
    if tuple(y.shape) != (K, n):
        raise ValueError(f"y must have shape (K, {n}), got {tuple(y.shape)}")
    has_val = val_y is not None and val_tokens is not None and len(val_tokens) > 0
    if has_val and tuple(val_y.shape) != (K, len(val_tokens)):
        raise ValueError("val_y must have shape (K, n_val)")
    rows = _check_rows(rows, K, n, "rows")
    val_rows = _check_rows(val_rows, K, len(val_tokens) if has_val else 0, "val_rows")
    losses = list(losses) if losses is not None else [("bce", None)] * K
    if len(losses) != K:
        raise ValueError(f"got {K} label rows but {len(losses)} losses")
    bs = schedule.batch_size
    mm_dtype = torch.bfloat16 if precision == "bf16" else None
    use_autocast = precision == "bf16" and device.type == "cuda"
    t_start = time.perf_counter()

    module = init_stacked(seeds, n_tokens, hidden_sizes, device=device, mm_dtype=mm_dtype,
                          input_map=input_map)  # fmt: skip
    if device.type == "cpu":
        module.workspace = Workspace()
    adam_kw = _adam_kwargs(schedule.lr, schedule.weight_decay, device)
    opt = torch.optim.Adam(list(module.parameters()), **adam_kw)
    loss_fn = StackedLoss(losses)
    seed_keys = [int(s) % (2**32) for s in seeds]
    if rows is not None:  # models draw from different rows: one generator per model
        seed_keys = [(j, key) for j, key in enumerate(seed_keys)]
    gens: dict[object, torch.Generator] = {}
    for key in seed_keys:  # one generator per distinct seed: equal seeds, equal batches
        if key not in gens:
            gens[key] = torch.Generator(device=device)
            gens[key].manual_seed(key if rows is None else key[1])
    n_epoch = n if rows is None else max(len(r) for r in rows)  # rows per model and epoch

    kept = [p.detach().clone() for p in module.parameters()]  # per model: weights kept
    stoppers = [EarlyStopping(schedule.patience) for _ in range(K)]  # the plain trainer's rule
    history: list[list[dict]] = [[] for _ in range(K)]
    active = list(range(K))  # original index of each model still in the stack
    y_act, val_y_act = y, val_y
    model_epochs = 0

    def keep_weights(positions: list[int]) -> None:
        if not positions:
            return
        src = torch.as_tensor(positions, device=device)
        dst = torch.as_tensor([active[p] for p in positions], device=device)
        with torch.no_grad():
            for kp, p in zip(kept, module.parameters(), strict=True):
                kp[dst] = p.detach()[src]

    with _TF32(precision == "tf32" and device.type == "cuda"):
        for epoch in range(1, max_epochs + 1):
            t0 = time.perf_counter()
            module.train()
            k_act = len(active)
            drawn: dict[object, torch.Tensor] = {}
            for j in active:
                if seed_keys[j] not in drawn:
                    size = n if rows is None else len(rows[j])
                    drawn[seed_keys[j]] = torch.randperm(
                        size, generator=gens[seed_keys[j]], device=device
                    )
            if rows is not None:
                perm = torch.stack([_top_up(rows[j][drawn[seed_keys[j]]], n_epoch) for j in active])
            elif len(drawn) == 1:
                perm = next(iter(drawn.values())).unsqueeze(0).expand(k_act, -1)
            else:
                perm = torch.stack([drawn[seed_keys[j]] for j in active])
            total = torch.zeros(k_act, device=device)
            for start in range(0, n_epoch, bs):
                idx = perm[:, start : start + bs]  # (K_act, B)
                lb = None if lengths is None else lengths[idx]
                tb = _gather(tokens, idx, lb, TRAIN_WIDTH_MULTIPLE)
                with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_autocast):
                    logits = module(tb, lb)
                per_model = loss_fn(logits.float(), y_act.gather(1, idx))
                opt.zero_grad(set_to_none=True)
                per_model.sum().backward()
                opt.step()
                total += per_model.detach() * idx.shape[1]
            train_loss = (total / max(n_epoch, 1)).tolist()
            val_loss: list[float | None] = [None] * k_act
            if has_val and val_rows is not None:
                val_loss = _loss_on_rows(module, loss_fn, val_tokens, val_lengths, val_y_act,
                                         [val_rows[j] for j in active])  # fmt: skip
            elif has_val:
                with torch.no_grad():
                    val_loss = loss_fn(
                        predict_stacked(module, val_tokens, val_lengths), val_y_act
                    ).tolist()
            seconds = (time.perf_counter() - t0) / k_act
            model_epochs += k_act

            to_keep, stopped = [], []
            for pos, j in enumerate(active):
                vloss = val_loss[pos]
                history[j].append({"epoch": epoch, "train_loss": train_loss[pos],
                                   "val_loss": vloss, "seconds": seconds})  # fmt: skip
                # The weights kept: the best epoch's, or the last ones while nothing was
                # better (no validation data, or every validation loss NaN so far).
                if stoppers[j].update(epoch, vloss):
                    to_keep.append(pos)
                if progress is not None:
                    progress("epoch", model=j, epoch=epoch, max_epochs=max_epochs,
                             train_loss=train_loss[pos], val_loss=vloss)  # fmt: skip
                if stoppers[j].should_stop or epoch == max_epochs:
                    stopped.append(pos)  # the last epoch is reported done below, too
            keep_weights(to_keep)
            if progress is not None:
                for pos in stopped:
                    j = active[pos]
                    progress("model_done", model=j, epochs_run=stoppers[j].epoch,
                             best_epoch=stoppers[j].final_epoch)  # fmt: skip
            if stopped:
                keep = [p for p in range(k_act) if p not in stopped]
                if not keep:
                    active = []
                    break
                keep_t = torch.as_tensor(keep, device=device)
                old = list(module.parameters())
                module = module.select(keep_t)
                opt = _sliced_adam(opt, old, list(module.parameters()), keep_t, adam_kw)
                loss_fn = loss_fn.select(keep)
                y_act = y_act[keep_t]
                if val_y_act is not None:
                    val_y_act = val_y_act[keep_t]
                active = [active[p] for p in keep]

    final = StackedLSTM(K, n_tokens, hidden_sizes, mm_dtype=mm_dtype, init=False,
                        input_map=input_map).to(device)  # fmt: skip
    with torch.no_grad():
        for p, kp in zip(final.parameters(), kept, strict=True):
            p.copy_(kp)
    return StackedResult(
        module=final.eval(),
        history=history,
        best_epoch=[s.final_epoch for s in stoppers],
        epochs_run=[s.epoch for s in stoppers],
        best_val_loss=[s.best_value for s in stoppers],
        seconds=time.perf_counter() - t_start,
        model_epochs=model_epochs,
        precision=precision,
    )


__all__ = [
    "TRAIN_WIDTH_MULTIPLE",
    "StackedResult",
    "eval_rows",
    "fit_stacked",
    "predict_stacked",
    "predict_stacked_rows",
]
