"""A plain, fast mini-batch training loop for the neural estimators.

Everything is put on the device once (:func:`to_device_data`); an epoch draws one
random permutation with a local :class:`torch.Generator` and slices it into
mini-batches, so there is no DataLoader, no per-batch host-to-device copy and no
re-encoding. Optimiser: Adam. Early stopping watches the validation loss and the
weights of the best epoch are restored at the end.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from badlabels.errors import BadInputError
from badlabels.training.losses import get_loss

EVAL_BATCH_SIZE = 8192
"""Rows per forward pass when evaluating (validation loss, predictions)."""


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"`` (or ``"cuda:N"``) into a torch device.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` means CUDA when available, else the CPU.

    Returns
    -------
    torch.device

    Raises
    ------
    BadInputError
        An unknown device name, or CUDA asked for where there is none.
    """
    if isinstance(device, torch.device):
        dev = device
    else:
        name = str(device).strip().lower()
        if name == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        if name != "cpu" and not name.startswith("cuda"):
            raise BadInputError(f"unknown device {device!r}; use 'auto', 'cpu' or 'cuda'")
        try:
            dev = torch.device(name)
        except RuntimeError:
            raise BadInputError(f"unknown device {device!r}; use 'auto', 'cpu' or 'cuda'") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise BadInputError("device 'cuda' was asked for but no CUDA GPU is available")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise BadInputError(
                f"device {str(dev)!r} does not exist ({torch.cuda.device_count()} GPU(s) found)"
            )
    elif dev.type != "cpu":
        raise BadInputError(f"unknown device {str(dev)!r}; use 'auto', 'cpu' or 'cuda'")
    return dev


@dataclass
class DeviceData:
    """Encoded sequences (and labels) held on one device.

    Attributes
    ----------
    tokens : torch.Tensor of int64, shape (n, L)
        Token ids, 0 = padding (see ``badlabels.data.encoding.encode``).
    lengths : torch.Tensor of int64, shape (n,), or None
        Real lengths; ``None`` when every sequence fills all ``L`` positions (the
        fast path: modules then skip packing).
    y : torch.Tensor of float32, shape (n,), or None
        Targets 0.0 / 1.0 (``None`` for prediction-only data).
    weight : torch.Tensor of float32, shape (n,), or None
        Per-sample loss weights.
    """

    tokens: torch.Tensor
    lengths: torch.Tensor | None = None
    y: torch.Tensor | None = None
    weight: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.tokens.shape[0])


def _to(array: np.ndarray, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    t = torch.as_tensor(np.ascontiguousarray(array)).to(dtype)
    if device.type == "cuda":
        return t.pin_memory().to(device, non_blocking=True)
    return t


def to_device_data(
    tokens: np.ndarray,
    lengths: np.ndarray,
    y: np.ndarray | None = None,
    weight: np.ndarray | None = None,
    device: torch.device | str = "cpu",
) -> DeviceData:
    """Copy encoded data to ``device`` once.

    Parameters
    ----------
    tokens : ndarray of int, shape (n, L)
    lengths : ndarray of int, shape (n,)
    y : ndarray, shape (n,), optional
        Binary targets.
    weight : ndarray, shape (n,), optional
        Per-sample weights.
    device : torch.device or str

    Returns
    -------
    DeviceData
        ``lengths`` is ``None`` when all sequences are ``L`` long.
    """
    device = torch.device(device)
    tokens = np.asarray(tokens)
    lengths = np.asarray(lengths)
    uniform = tokens.ndim == 2 and bool(np.all(lengths == tokens.shape[1]))
    return DeviceData(
        tokens=_to(tokens, device, torch.int64),
        lengths=None if uniform else _to(lengths, device, torch.int64),
        y=None if y is None else _to(np.asarray(y), device, torch.float32),
        weight=None if weight is None else _to(np.asarray(weight), device, torch.float32),
    )


def predict_logits(
    module: nn.Module, data: DeviceData, batch_size: int = EVAL_BATCH_SIZE
) -> torch.Tensor:
    """Logits of ``module`` over ``data`` in batches, in eval mode, without autograd.

    Parameters
    ----------
    module : nn.Module
        Called as ``module(tokens, lengths)`` and returning logits of shape ``(batch,)``.
    data : DeviceData
    batch_size : int

    Returns
    -------
    torch.Tensor of float32, shape (n,)
        On the data's device.
    """
    was_training = module.training
    module.eval()
    out = []
    try:
        with torch.inference_mode():
            n = len(data)
            for start in range(0, n, batch_size):
                stop = min(start + batch_size, n)
                lengths = None if data.lengths is None else data.lengths[start:stop]
                out.append(module(data.tokens[start:stop], lengths).reshape(-1).float())
    finally:
        module.train(was_training)
    if not out:
        return torch.empty(0, device=data.tokens.device)
    return torch.cat(out)


@dataclass
class TrainResult:
    """What :meth:`Trainer.fit` returns.

    Attributes
    ----------
    history : list of dict
        One dict per epoch: ``epoch`` (1-based), ``train_loss``, ``val_loss`` (None
        without validation data), ``seconds``.
    best_epoch : int
        1-based epoch whose weights the module holds at the end.
    epochs_run : int
    best_val_loss : float or None
    seconds : float
        Wall-clock time of the whole loop.
    """

    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    epochs_run: int = 0
    best_val_loss: float | None = None
    seconds: float = 0.0


@dataclass
class Trainer:
    """Mini-batch Adam with early stopping on the validation loss.

    Parameters
    ----------
    loss : str
        Registered loss name (``badlabels.training.losses``).
    loss_params : dict, optional
        Parameters for the loss.
    lr : float
        Adam learning rate.
    weight_decay : float
        Adam weight decay (L2).
    batch_size : int
        Rows per training step.
    max_epochs : int
    patience : int or None
        Stop after this many epochs without a better validation loss (``None``:
        never stop early; the best epoch's weights are still restored).
    seed : int
        Seeds the permutation generator.
    eval_batch_size : int
        Rows per forward pass when computing the validation loss.
    """

    loss: str = "bce"
    loss_params: dict | None = None
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 500
    max_epochs: int = 30
    patience: int | None = 5
    seed: int = 0
    eval_batch_size: int = EVAL_BATCH_SIZE

    def fit(
        self,
        module: nn.Module,
        train: DeviceData,
        val: DeviceData | None = None,
        progress: Callable[..., object] | None = None,
    ) -> TrainResult:
        """Train ``module`` in place.

        Parameters
        ----------
        module : nn.Module
            Already on the data's device; ``module(tokens (B, L), lengths (B,) or None)
            -> logits (B,)``.
        train : DeviceData
            Training data with ``y`` (and optionally ``weight``).
        val : DeviceData, optional
            Validation data with ``y``; early stopping and best-weight restoring use
            its (unweighted) loss.
        progress : callable, optional
            Called after each epoch as ``progress("epoch", epoch=, max_epochs=,
            train_loss=, val_loss=)``.

        Returns
        -------
        TrainResult
        """
        if train.y is None:
            raise ValueError("training data needs targets")
        if val is not None and (val.y is None or len(val) == 0):
            val = None
        loss_fn = get_loss(self.loss, **(self.loss_params or {}))
        device = train.tokens.device
        optimizer = torch.optim.Adam(
            module.parameters(), lr=self.lr, weight_decay=self.weight_decay
        )
        generator = torch.Generator(device=device)
        generator.manual_seed(int(self.seed))

        n = len(train)
        bs = int(self.batch_size)
        result = TrainResult()
        best_loss = math.inf
        best_state: dict[str, torch.Tensor] | None = None
        since_best = 0
        t_start = time.perf_counter()
        for epoch in range(1, int(self.max_epochs) + 1):
            t0 = time.perf_counter()
            module.train()
            perm = torch.randperm(n, generator=generator, device=device)
            total = torch.zeros((), device=device)
            for start in range(0, n, bs):
                idx = perm[start : start + bs]
                lengths = None if train.lengths is None else train.lengths[idx]
                logits = module(train.tokens[idx], lengths).reshape(-1)
                weight = None if train.weight is None else train.weight[idx]
                loss = loss_fn(logits, train.y[idx], weight)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += loss.detach() * idx.shape[0]
            train_loss = float(total.item()) / max(n, 1)

            val_loss = None
            if val is not None:
                logits = predict_logits(module, val, self.eval_batch_size)
                with torch.inference_mode():
                    val_loss = float(loss_fn(logits, val.y).item())
            seconds = time.perf_counter() - t0
            result.history.append(
                {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "seconds": seconds}
            )
            result.epochs_run = epoch

            # Without validation data the last epoch is the best one.
            score = val_loss if val_loss is not None else -epoch
            if score < best_loss:
                best_loss = score
                result.best_epoch = epoch
                result.best_val_loss = val_loss
                since_best = 0
                if val is not None:
                    best_state = _copy_state(module)
            else:
                since_best += 1

            if progress is not None:
                progress(
                    "epoch",
                    epoch=epoch,
                    max_epochs=int(self.max_epochs),
                    train_loss=train_loss,
                    val_loss=val_loss,
                )
            if self.patience is not None and val is not None and since_best >= self.patience:
                break

        if result.best_epoch == 0:  # every validation loss was NaN: keep the last weights
            result.best_epoch = result.epochs_run
        elif best_state is not None and result.best_epoch != result.epochs_run:
            module.load_state_dict(best_state)
        module.eval()
        result.seconds = time.perf_counter() - t_start
        return result


def _copy_state(module: nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of the module's state dict (same device)."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


__all__ = [
    "DeviceData",
    "EVAL_BATCH_SIZE",
    "TrainResult",
    "Trainer",
    "predict_logits",
    "resolve_device",
    "to_device_data",
]
