"""The one mini-batch training loop of the neural estimators.

Everything is put on the device once (:func:`to_device_data`); an epoch draws one
random permutation with a local :class:`torch.Generator` and slices it into
mini-batches, so there is no DataLoader, no per-batch host-to-device copy and no
re-encoding. Early stopping (:class:`~badlabels.engine.stopping.EarlyStopping`) watches
the validation loss and the weights of the best epoch are restored at the end;
``stopping="label_wave"`` watches the training set's prediction changes instead
(:class:`~badlabels.engine.stopping.LabelWave`, no labels needed).

:class:`Trainer` owns the epochs; what a batch does is a :class:`TrainStep` (default
:class:`AdamStep`: one Adam step on the loss; :class:`MixupStep` trains on mixup pairs;
co-teaching plugs in its own), and epoch-end callbacks (:data:`EpochCallback`) see every
epoch's record (progress events are one). A :class:`FinalWeights` object (weight or
prediction averaging, :mod:`badlabels.engine.averaging`) replaces picking an epoch: the
whole ``max_epochs`` schedule runs and the network ends with the weights it supplies.

Sequences of different lengths: a batch (training or evaluation) is cut to its own longest
sequence when the network says it may be (:func:`trims_padding`; LSTM, BiLSTM, CNN and, in
evaluation, the Transformer do), so short sequences do not pay for the dataset's longest. The
batches hold the same rows in the same order as without the cut, so results are the same up
to floating-point rounding. Evaluation runs in chunks of at most ``token_budget`` tokens
(rows x width, :func:`eval_chunk_rows`) so that long sequences fit in memory; short ones
(up to 16 residues on the CPU) keep :data:`EVAL_BATCH_SIZE` rows per chunk.

Assumptions: the module and the data are on one device; a step's networks are trained
only through the step (the loop never touches their optimisers); tokens are right-padded
(padding only after a sequence's last residue), so the cut drops padding only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from badlabels.engine.losses import get_loss
from badlabels.engine.schedule import TrainSchedule
from badlabels.engine.stopping import STOPPING_RULES, EarlyStopping, LabelWave, make_stopper
from badlabels.errors import BadInputError

EVAL_BATCH_SIZE = 8192
"""Most rows per forward pass when evaluating (validation loss, predictions)."""

EVAL_TOKEN_BUDGET = {"cpu": 2**17, "cuda": 2**20}
"""Most tokens (rows x padded width) per evaluation forward pass, per device type: about
0.5 GB (CPU) and 4 GB (GPU) of activations for the default LSTM (140, 20). 2**17 keeps
:data:`EVAL_BATCH_SIZE` rows for sequences of up to 16 residues."""


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


def trims_padding(module: nn.Module) -> bool:
    """Whether ``module`` may be given batches cut to their longest sequence.

    A network says so with a ``trim_padding`` attribute (or property) that is true: its
    logits must not depend on trailing padding beyond rounding (packing, masks, causal
    recurrences) and it must take any width up to the one it was built for. Without the
    attribute a module always gets the full padded width, as before (e.g. a fixed-length
    network). A wrapper holding its network as ``net`` and passing the tokens through
    (``badlabels.models.base.EncodedInput``) is taken to behave like that network.

    Parameters
    ----------
    module : nn.Module

    Returns
    -------
    bool
    """
    flag = getattr(module, "trim_padding", None)
    if flag is None:
        inner = getattr(module, "net", None)
        return isinstance(inner, nn.Module) and trims_padding(inner)
    return bool(flag)


def batch_width(lengths: torch.Tensor | None, width: int, multiple: int = 1) -> int:
    """The width a batch is cut to: its longest sequence, rounded up to ``multiple``.

    Parameters
    ----------
    lengths : torch.Tensor of int64, shape (B,) or (K, B), or None
        The batch's real lengths (None: all ``width`` long).
    width : int
        The padded width the batch has now (never exceeded).
    multiple : int
        Round up to a multiple of this (fewer distinct shapes, e.g. for buffer reuse).

    Returns
    -------
    int
        ``width`` when ``lengths`` is None or empty.
    """
    if lengths is None or lengths.numel() == 0:
        return int(width)
    longest = int(lengths.max())  # one device sync per batch (packing makes one, too)
    longest = -(-longest // multiple) * multiple
    return int(min(max(longest, 1), width))


def eval_chunk_rows(
    width: int, batch_size: int = EVAL_BATCH_SIZE, token_budget: int | None = None,
    device: torch.device | str = "cpu",
) -> int:  # fmt: skip
    """Rows per evaluation forward pass for sequences padded to ``width``.

    Parameters
    ----------
    width : int
        Padded width of the data (the chunks' widest possible batch).
    batch_size : int
        Most rows per pass.
    token_budget : int, optional
        Most ``rows * width`` per pass; default :data:`EVAL_TOKEN_BUDGET` of the device.
    device : torch.device or str

    Returns
    -------
    int
        ``min(batch_size, token_budget // width)``, at least 1.
    """
    if token_budget is None:
        token_budget = EVAL_TOKEN_BUDGET.get(torch.device(device).type, EVAL_TOKEN_BUDGET["cpu"])
    return int(max(1, min(int(batch_size), int(token_budget) // max(int(width), 1))))


@dataclass
class DeviceData:
    """Encoded sequences (and labels) held on one device.

    Attributes
    ----------
    tokens : torch.Tensor of int64, shape (n, L)
        Token ids, 0 = padding (see ``badlabels.data.encoding.encode``). A mini-batch
        given to a network that allows it (:func:`trims_padding`) is cut to its longest
        sequence, so its ``L`` may be smaller than the data's.
    lengths : torch.Tensor of int64, shape (n,), or None
        Real lengths; ``None`` when every sequence fills all ``L`` positions (the
        fast path: modules then skip packing).
    y : torch.Tensor of float32, shape (n,), or None
        Targets 0.0 / 1.0 (``None`` for prediction-only data).
    weight : torch.Tensor of float32, shape (n,), or None
        Per-sample loss weights.
    index : torch.Tensor of int64, shape (n,), or None
        In a mini-batch: the rows of the training data it holds (a step that keeps
        per-sample state, e.g. ELR's target memory, looks its rows up by it).
    """

    tokens: torch.Tensor
    lengths: torch.Tensor | None = None
    y: torch.Tensor | None = None
    weight: torch.Tensor | None = None
    index: torch.Tensor | None = None

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
    module: nn.Module, data: DeviceData, batch_size: int = EVAL_BATCH_SIZE,
    token_budget: int | None = None,
) -> torch.Tensor:  # fmt: skip
    """Logits of ``module`` over ``data`` in chunks, in eval mode, without autograd.

    Chunks are consecutive rows, at most ``batch_size`` of them and at most
    ``token_budget`` tokens at the data's padded width (:func:`eval_chunk_rows`; float
    ``tokens``, rows of precomputed features, count one position per row); each is cut to
    its longest sequence when the module allows it (:func:`trims_padding`).

    Parameters
    ----------
    module : nn.Module
        Called as ``module(tokens, lengths)`` and returning logits of shape ``(batch,)``.
    data : DeviceData
    batch_size : int
        Most rows per forward pass.
    token_budget : int, optional
        Most rows x width per forward pass; default :data:`EVAL_TOKEN_BUDGET`.

    Returns
    -------
    torch.Tensor of float32, shape (n,)
        On the data's device.
    """
    was_training = module.training
    module.eval()
    out = []
    try:
        trim = data.lengths is not None and trims_padding(module)
        full = int(data.tokens.shape[1])
        # float "tokens" are rows of precomputed features: one position each
        positions = 1 if data.tokens.is_floating_point() else full
        rows = eval_chunk_rows(positions, batch_size, token_budget, data.tokens.device)
        with torch.inference_mode():
            n = len(data)
            for start in range(0, n, rows):
                stop = min(start + rows, n)
                tokens = data.tokens[start:stop]
                lengths = None if data.lengths is None else data.lengths[start:stop]
                if trim:
                    width = batch_width(lengths, full)
                    if width < full:
                        tokens = tokens[:, :width].contiguous()
                out.append(module(tokens, lengths).reshape(-1).float())
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
        without validation data), ``seconds``, then what the step adds (see
        :meth:`TrainStep.begin_epoch`).
    best_epoch : int
        1-based epoch whose weights the module holds at the end (with
        :class:`FinalWeights`: the last epoch run, the end of the averaged span).
    epochs_run : int
    best_val_loss : float or None
        The validation loss of the weights kept (with :class:`FinalWeights`: of the
        network it supplies).
    seconds : float
        Wall-clock time of the whole loop.
    module : nn.Module or None
        The network to predict with when it is not the trained module itself (a
        :class:`FinalWeights` that averages predictions over snapshots); else None.
    """

    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    epochs_run: int = 0
    best_val_loss: float | None = None
    seconds: float = 0.0
    module: nn.Module | None = None


EpochCallback = Callable[[dict], object]
"""Called at the end of every epoch with that epoch's history record; a truthy return
value stops training after this epoch."""

_RECORD_KEYS = ("epoch", "train_loss", "val_loss", "seconds")


class TrainStep:
    """What the one epoch loop of :class:`Trainer` does with a mini-batch.

    The loop owns the epochs, the batch order, the validation loss, early stopping, the
    restoring of the best weights and the epoch-end callbacks; a step owns the networks'
    update. Subclass it for another training scheme (co-teaching:
    :class:`badlabels.methods.coteaching.CoTeachingStep`).
    """

    def modules(self) -> Sequence[nn.Module]:
        """Every network the step trains (put in train mode each epoch, eval mode at the end)."""
        raise NotImplementedError

    def begin_epoch(self, epoch: int) -> dict:
        """Called before epoch ``epoch`` (1-based); the returned dict is added to the epoch's
        history record and progress event (default: nothing)."""
        return {}

    def __call__(self, batch: DeviceData) -> torch.Tensor:
        """Take one training step on ``batch`` (with ``y``) and return its mean training
        loss, a scalar tensor (the epoch's ``train_loss`` is its row-weighted mean)."""
        raise NotImplementedError


class AdamStep(TrainStep):
    """The plain step: ``loss_fn(module(batch), y, weight)``, one Adam step.

    Parameters
    ----------
    module : nn.Module
    loss_fn : callable
        ``loss_fn(logits (B,), targets (B,), weight (B,) or None) -> scalar``.
    lr, weight_decay : float
        Adam's.
    """

    def __init__(self, module: nn.Module, loss_fn: Callable, lr: float, weight_decay: float):
        self.module = module
        self.loss_fn = loss_fn
        self.optimizer = torch.optim.Adam(module.parameters(), lr=lr, weight_decay=weight_decay)

    def modules(self) -> Sequence[nn.Module]:  # noqa: D102
        return (self.module,)

    def batch_loss(self, batch: DeviceData) -> torch.Tensor:
        """The training loss of ``batch``, a scalar with a graph (subclasses change only this)."""
        logits = self.module(batch.tokens, batch.lengths).reshape(-1)
        return self.loss_fn(logits, batch.y, batch.weight)

    def __call__(self, batch: DeviceData) -> torch.Tensor:  # noqa: D102
        loss = self.batch_loss(batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.detach()


class MixupStep(AdamStep):
    """An Adam step on mixup pairs of one-hot sequences (Zhang et al., ICLR 2018).

    Each batch draws ``lam ~ Beta(alpha, alpha)`` and a random pairing ``perm`` of its rows,
    and trains on the inputs ``lam * onehot(x) + (1 - lam) * onehot(x[perm])`` with the loss
    ``lam * loss(logits, y) + (1 - lam) * loss(logits, y[perm])``. For every loss linear in
    its target (``bce``, ``label_smoothing``, ``bootstrap``, ``forward``) that is the loss on
    the soft target ``lam * y + (1 - lam) * y[perm]``; for the others (``gce``, ``sce``,
    whose formula assumes a 0/1 target) it is mixup's usual criterion. Sample weights are
    mixed like the targets and weigh both terms.

    Rows are paired only with rows of the same length (with one length in the batch, any
    pairing), so padding never mixes with a residue and each network's length handling
    (packing, masks) stays that of the row's own tokens.

    Parameters
    ----------
    module : nn.Module
        Called as ``module(tokens (B, L), lengths (B,) or None, onehot=x)`` with ``x`` a
        float tensor of shape ``(B, L, n_tokens - 1)`` that replaces the network's own
        one-hot encoding of ``tokens`` (``tokens`` still gives the padding positions).
    loss_fn : callable
        ``loss_fn(logits (B,), targets (B,), weight (B,) or None) -> scalar``.
    lr, weight_decay : float
        Adam's.
    alpha : float
        Beta's parameter, > 0.
    n_tokens : int
        Token ids ``0..n_tokens-1``, 0 = padding (not a one-hot column).
    seed : int
        Seeds the draws (``lam`` from a NumPy generator, the pairings from a torch
        generator on the batch's device), which come from a stream of their own: the
        loop's batch order is that of the same seed without mixup.
    """

    def __init__(
        self, module: nn.Module, loss_fn: Callable, lr: float, weight_decay: float, *,
        alpha: float, n_tokens: int, seed: int,
    ):  # fmt: skip
        super().__init__(module, loss_fn, lr=lr, weight_decay=weight_decay)
        self.alpha = float(alpha)
        self.n_tokens = int(n_tokens)
        self.seed = int(seed)
        ss = np.random.SeedSequence([self.seed, _MIXUP_STREAM])
        self._rng = np.random.default_rng(ss)
        self._torch_seed = int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
        self._generator: torch.Generator | None = None

    def draw(self, batch: DeviceData) -> tuple[float, torch.Tensor]:
        """``(lam, perm)`` for ``batch``: the mixing weight and a same-length pairing (B,)."""
        device = batch.tokens.device
        if self._generator is None or self._generator.device != device:
            self._generator = torch.Generator(device=device)
            self._generator.manual_seed(self._torch_seed)
        lam = float(self._rng.beta(self.alpha, self.alpha))
        return lam, same_length_permutation(len(batch), batch.lengths, self._generator, device)

    def loss(self, batch: DeviceData, lam: float, perm: torch.Tensor) -> torch.Tensor:
        """The mixup loss of ``batch`` for mixing weight ``lam`` and pairing ``perm`` (B,)."""
        onehot = F.one_hot(batch.tokens, self.n_tokens)[..., 1:].float()
        mixed = lam * onehot + (1.0 - lam) * onehot[perm]
        logits = self.module(batch.tokens, batch.lengths, onehot=mixed).reshape(-1)
        weight = batch.weight
        if weight is not None:
            weight = lam * weight + (1.0 - lam) * weight[perm]
        return lam * self.loss_fn(logits, batch.y, weight) + (1.0 - lam) * self.loss_fn(
            logits, batch.y[perm], weight
        )

    def batch_loss(self, batch: DeviceData) -> torch.Tensor:  # noqa: D102
        return self.loss(batch, *self.draw(batch))


_MIXUP_STREAM = 0x6D69787570  # "mixup": the draws' own stream of the model's seed


def same_length_permutation(
    n: int, lengths: torch.Tensor | None, generator: torch.Generator, device: torch.device
) -> torch.Tensor:
    """A random permutation ``perm`` of ``n`` rows with ``lengths[perm] == lengths``.

    Parameters
    ----------
    n : int
    lengths : torch.Tensor of int64, shape (n,), or None
        None: all rows have one length (any permutation).
    generator : torch.Generator
        On ``device``.
    device : torch.device

    Returns
    -------
    torch.Tensor of int64, shape (n,)
    """
    perm = torch.randperm(n, generator=generator, device=device)
    if lengths is None:
        return perm
    # Two random orders grouped by length: the i-th rows of both have the same length.
    other = torch.randperm(n, generator=generator, device=device)
    a = perm[torch.sort(lengths[perm], stable=True).indices]
    b = other[torch.sort(lengths[other], stable=True).indices]
    out = torch.empty_like(a)
    out[a] = b
    return out


class FinalWeights:
    """What a network ends training with instead of its best epoch's weights.

    Given to :meth:`Trainer.fit` (``final_weights=``), it makes the loop run the whole
    ``max_epochs`` schedule (no early stopping, no copies of a best epoch) and then call
    :meth:`final_module`. Weight and prediction averaging
    (:mod:`badlabels.engine.averaging`) are the implementations; they see training as a
    step wrapper or an epoch callback.
    """

    def final_module(self, module: nn.Module) -> nn.Module:
        """Called once after the last epoch: return the network to predict with.

        Parameters
        ----------
        module : nn.Module
            The trained network (its last weights).

        Returns
        -------
        nn.Module
            ``module`` itself with other weights loaded, or another network called like
            it (``module(tokens, lengths) -> logits (B,)``).
        """
        raise NotImplementedError


def progress_callback(progress: Callable[..., object], max_epochs: int) -> EpochCallback:
    """An epoch callback that reports ``progress("epoch", epoch=, max_epochs=, train_loss=,
    val_loss=, ...)``, with what the step added to the record (e.g. ``forget_rate=``) last."""

    def report(record: dict) -> None:
        extra = {k: v for k, v in record.items() if k not in _RECORD_KEYS}
        progress(
            "epoch",
            epoch=record["epoch"],
            max_epochs=int(max_epochs),
            train_loss=record["train_loss"],
            val_loss=record["val_loss"],
            **extra,
        )

    return report


@dataclass
class Trainer:
    """Mini-batch Adam with early stopping on the validation loss: the one epoch loop.

    Parameters
    ----------
    loss : str
        Registered loss name (``badlabels.engine.losses``).
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
        never stop early; the best epoch's weights are still restored). The rule is
        :class:`~badlabels.engine.stopping.EarlyStopping`'s.
    seed : int
        Seeds the permutation generator.
    eval_batch_size : int
        Most rows per forward pass when computing the validation loss.
    eval_token_budget : int or None
        Most rows x width per evaluation forward pass (None: :data:`EVAL_TOKEN_BUDGET`
        of the device), so that long sequences are evaluated in smaller chunks.
    stopping : {"val_loss", "label_wave"}
        What ``patience`` watches and which epoch's weights are kept: the validation
        loss, or the prediction changes of the training rows
        (:class:`~badlabels.engine.stopping.LabelWave`; costs one prediction pass over
        the training data per epoch, and adds ``prediction_changes`` to each epoch's
        record).
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
    stopping: str = "val_loss"
    eval_token_budget: int | None = None

    @classmethod
    def from_schedule(
        cls, schedule: TrainSchedule, *, loss: str = "bce", loss_params: dict | None = None,
        seed: int = 0,
    ) -> Trainer:  # fmt: skip
        """A trainer running ``schedule`` with ``loss`` and batch order ``seed``."""
        return cls(
            loss=loss,
            loss_params=loss_params,
            lr=schedule.lr,
            weight_decay=schedule.weight_decay,
            batch_size=schedule.batch_size,
            max_epochs=schedule.max_epochs,
            patience=schedule.patience,
            seed=seed,
        )

    @property
    def schedule(self) -> TrainSchedule:
        """The trainer's schedule fields as one :class:`TrainSchedule`."""
        return TrainSchedule.of(self)

    def loss_fn(self) -> Callable:
        """The trainer's loss: ``loss(logits (B,), targets (B,), weight (B,) or None)``."""
        return get_loss(self.loss, **(self.loss_params or {}))

    def fit(
        self,
        module: nn.Module,
        train: DeviceData,
        val: DeviceData | None = None,
        progress: Callable[..., object] | None = None,
        *,
        step: TrainStep | None = None,
        callbacks: Sequence[EpochCallback] = (),
        final_weights: FinalWeights | None = None,
    ) -> TrainResult:
        """Train ``module`` in place.

        Parameters
        ----------
        module : nn.Module
            Already on the data's device; ``module(tokens (B, L), lengths (B,) or None)
            -> logits (B,)``. Its validation loss drives early stopping, and it is the
            network whose best weights are restored.
        train : DeviceData
            Training data with ``y`` (and optionally ``weight``).
        val : DeviceData, optional
            Validation data with ``y``; early stopping and best-weight restoring use
            its (unweighted) loss.
        progress : callable, optional
            Called after each epoch as ``progress("epoch", epoch=, max_epochs=,
            train_loss=, val_loss=)`` (plus what ``step`` adds to the epoch's record).
        step : TrainStep, optional
            How a batch is trained; default :class:`AdamStep` on ``module`` with this
            trainer's loss, ``lr`` and ``weight_decay``.
        callbacks : sequence of callable
            Epoch-end callbacks (:data:`EpochCallback`), called after ``progress``.
        final_weights : FinalWeights, optional
            Weight (or prediction) averaging: all ``max_epochs`` epochs run (``patience``
            and ``stopping`` are ignored; a callback may still stop training) and the
            network ends as ``final_weights.final_module(module)`` makes it (a network
            other than ``module`` is returned as ``TrainResult.module``).

        Returns
        -------
        TrainResult
        """
        if train.y is None:
            raise ValueError("training data needs targets")
        if self.stopping not in STOPPING_RULES:
            raise ValueError(
                f"unknown stopping rule {self.stopping!r}; choose one of "
                f"{', '.join(STOPPING_RULES)}"
            )
        if val is not None and (val.y is None or len(val) == 0):
            val = None
        loss_fn = self.loss_fn()
        if step is None:
            step = AdamStep(module, loss_fn, lr=self.lr, weight_decay=self.weight_decay)
        device = train.tokens.device
        generator = torch.Generator(device=device)
        generator.manual_seed(int(self.seed))
        max_epochs = int(self.max_epochs)
        on_epoch_end = list(callbacks)
        if progress is not None:
            on_epoch_end.insert(0, progress_callback(progress, max_epochs))

        n = len(train)
        bs = int(self.batch_size)
        result = TrainResult()
        averaging = final_weights is not None
        if averaging:
            stopper = EarlyStopping(None)
        else:
            stopper = make_stopper(self.stopping, self.patience)
        wave = isinstance(stopper, LabelWave)
        t_start = time.perf_counter()
        for epoch in range(1, max_epochs + 1):
            t0 = time.perf_counter()
            extra = step.begin_epoch(epoch)
            for m in step.modules():
                m.train()
            # asked in train mode: a network may cut its batches in evaluation only
            trim = train.lengths is not None and all(trims_padding(m) for m in step.modules())
            perm = torch.randperm(n, generator=generator, device=device)
            total = torch.zeros((), device=device)
            for start in range(0, n, bs):
                idx = perm[start : start + bs]
                total += step(_rows(train, idx, trim)).detach() * idx.shape[0]
            train_loss = float(total.item()) / max(n, 1)

            val_loss = None
            if val is not None:
                val_loss = self._val_loss(module, val, loss_fn)
            if wave:
                predicted = (
                    predict_logits(module, train, self.eval_batch_size, self.eval_token_budget) > 0
                )
                keep = stopper.observe(epoch, predicted)
                extra = {"prediction_changes": stopper.changes, **extra}
            record = {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss,
                      "seconds": time.perf_counter() - t0, **extra}  # fmt: skip
            result.history.append(record)
            result.epochs_run = epoch

            if wave:
                if keep:
                    stopper.keep(module)
            # Without validation data the last weights are the ones kept: no copy needed.
            elif stopper.update(epoch, val_loss) and val is not None and not averaging:
                stopper.keep(module)
            asked = [bool(cb(record)) for cb in on_epoch_end]
            if stopper.should_stop or any(asked):
                break

        for m in step.modules():
            m.eval()
        module.eval()
        if averaging:
            final = final_weights.final_module(module).eval()
            result.module = None if final is module else final
            result.best_epoch = result.epochs_run
            if val is not None:
                result.best_val_loss = self._val_loss(final, val, loss_fn)
        else:
            stopper.restore(module)
            result.best_epoch = stopper.final_epoch
            result.best_val_loss = None if wave else stopper.best_value
            if wave and val is not None:
                result.best_val_loss = result.history[result.best_epoch - 1]["val_loss"]
        result.seconds = time.perf_counter() - t_start
        return result

    def _val_loss(self, module: nn.Module, val: DeviceData, loss_fn: Callable) -> float:
        """The (unweighted) mean loss of ``module`` on ``val``, in budgeted chunks."""
        return _mean_loss(module, val, loss_fn, self.eval_batch_size, self.eval_token_budget)


def _mean_loss(
    module: nn.Module, data: DeviceData, loss_fn: Callable, batch_size: int,
    token_budget: int | None = None,
) -> float:  # fmt: skip
    """The (unweighted) mean loss of ``module`` on ``data`` (with ``y``)."""
    logits = predict_logits(module, data, batch_size, token_budget)
    with torch.inference_mode():
        return float(loss_fn(logits, data.y).item())


def _rows(data: DeviceData, idx: torch.Tensor, trim: bool = False) -> DeviceData:
    """Rows ``idx`` of ``data`` (a mini-batch); ``trim``: cut to its longest sequence."""
    lengths = None if data.lengths is None else data.lengths[idx]
    width = data.tokens.shape[1]
    if trim:
        width = batch_width(lengths, width)
    tokens = data.tokens[idx] if width == data.tokens.shape[1] else data.tokens[idx, :width]
    return DeviceData(
        tokens=tokens,
        lengths=lengths,
        y=None if data.y is None else data.y[idx],
        weight=None if data.weight is None else data.weight[idx],
        index=idx,
    )


__all__ = [
    "AdamStep",
    "DeviceData",
    "EVAL_BATCH_SIZE",
    "EVAL_TOKEN_BUDGET",
    "EpochCallback",
    "FinalWeights",
    "MixupStep",
    "TrainResult",
    "TrainStep",
    "Trainer",
    "batch_width",
    "eval_chunk_rows",
    "predict_logits",
    "progress_callback",
    "same_length_permutation",
    "resolve_device",
    "to_device_data",
    "trims_padding",
]
