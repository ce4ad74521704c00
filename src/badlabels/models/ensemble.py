"""An ensemble of K networks of one registered model: the prediction is their mean probability.

Under symmetric label noise each member's ranking is noisy mostly through variance (which
epoch early stopping picks, which minibatches it memorised); averaging K members removes
much of that variance without a clean label (docs/high-noise.md).

Members differ only in their seed: member 0 is exactly the model ``random_state`` would
train alone, member ``k > 0`` is seeded with ``SeedSequence([seed, k])`` (initial weights
and batch order). All members train on the same rows and stop on the same validation rows
(``eval_set``, or one split of ``validation_fraction`` drawn with the ensemble's seed).

LSTM members (exactly :class:`~badlabels.models.lstm.LSTMClassifier`, no sample weights)
train together in the stacked engine (:func:`badlabels.engine.stacked.fit_stacked`): one
batched computation, each member with its own early stopping; the members are then
unstacked into plain ``LSTMClassifier`` objects. Other models train one after another.

Assumptions: the members' parameters are ``model_params`` with ``random_state`` replaced;
``device`` (when not None) overrides theirs. Saved as one model (safetensors + JSON): member
``k``'s tensors are stored under ``members.k.``.
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Callable

import numpy as np
import torch

from badlabels.errors import BadInputError
from badlabels.models.base import (
    CLASSES,
    FEATURES,
    SEQUENCES,
    EncodedInput,
    NeuralClassifier,
    SequenceClassifier,
    as_features,
    as_labels,
    as_sequences,
    as_weights,
    input_kind,
    proba_from_p1,
    seed_from,
    validation_split,
)

STACKED_CHOICES = ("auto", True, False)


def member_seed(seed: int, k: int) -> int:
    """The seed of member ``k`` of an ensemble seeded ``seed`` (member 0 keeps ``seed``)."""
    if k == 0:
        return int(seed)
    return int(np.random.SeedSequence([int(seed), int(k)]).generate_state(1)[0])


class EnsembleClassifier(SequenceClassifier):
    """K networks of one registered neural model, predicting their mean probability.

    Parameters
    ----------
    model : str, default "lstm"
        The members' model (:data:`badlabels.models.MODELS`, a neural one).
    model_params : dict, optional
        The members' constructor parameters (schedule, loss, architecture); their
        ``random_state`` is replaced by each member's seed.
    n_members : int, default 5
    stacked : {"auto", True, False}, default "auto"
        Train LSTM members together in the stacked engine (``auto``: when they can be).
        ``True`` fails when they cannot be.
    random_state : int, optional
        Seeds the members (see :func:`member_seed`) and the validation split.
    device : str, optional
        Overrides the members' ``device``.

    Attributes
    ----------
    members_ : list of NeuralClassifier
        The fitted members, member 0 first.
    classes_, alphabet_, max_len_, random_seed_ : as for one model
    epochs_run_ : int
        Epochs trained, summed over the members.
    best_epoch_ : int
        The members' kept epochs, averaged and rounded.
    history_ : list of dict
        Member 0's history; ``members_history_`` holds every member's.
    engine_ : {"stacked", "plain"}
        How the members were trained.
    train_seconds_ : float
    input_kind_ : {"sequences", "features"}
        What the members read; members of a model that reads features (``mlp``) fitted on an
        (n, d) array read rows of ``n_features_in_`` features (a residue ``encoding`` in
        ``model_params`` is then dropped: there are no residues to encode).
    """

    #: Fitted on a 2-D numeric array, members of a features-reading model read features.
    reads_features = True

    def __init__(
        self,
        model="lstm",
        model_params=None,
        n_members=5,
        stacked="auto",
        random_state=None,
        device=None,
    ):
        self.model = model
        self.model_params = model_params
        self.n_members = n_members
        self.stacked = stacked
        self.random_state = random_state
        self.device = device

    # --- members ----------------------------------------------------------------------
    def _check(self) -> None:
        k = self.n_members
        if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
            raise BadInputError(f"ensemble: n_members must be a positive integer, got {k!r}")
        if self.stacked not in STACKED_CHOICES:
            raise BadInputError(f"ensemble: stacked must be auto, true or false, got {self.stacked!r}")
        if self.model_params is not None and not isinstance(self.model_params, dict):
            raise BadInputError(f"ensemble: model_params must be a dict, got {self.model_params!r}")

    def _member(self, k: int, seed: int, features: bool = False) -> NeuralClassifier:
        from badlabels.models import make_model

        params = dict(self.model_params or {})
        if features:
            # Members trained on precomputed features read no residues: a residue encoding
            # (robust's one-hot + BLOSUM) has nothing to apply to.
            params.pop("encoding", None)
        params["random_state"] = member_seed(seed, k)
        if self.device is not None:
            params["device"] = self.device
        est = make_model(self.model, **params)
        if not isinstance(est, NeuralClassifier):
            raise BadInputError(f"ensemble: members must be a neural model, not {self.model!r}")
        return est

    def _can_stack(self, members: list, weights) -> bool:
        from badlabels.models.lstm import LSTMClassifier

        ok = len(members) > 1 and weights is None
        ok = ok and all(type(m) is LSTMClassifier and m.stacks_like_fit() for m in members)
        if self.stacked is True and not ok:
            raise BadInputError(
                "ensemble: stacked=true needs two or more LSTM members, no sample weights and "
                "no averaging, mixup or label-wave stopping"
            )
        return ok and self.stacked in ("auto", True)

    # --- fit --------------------------------------------------------------------------
    def fit(
        self,
        X,
        y,
        eval_set=None,
        progress: Callable[..., object] | None = None,
        sample_weight=None,
    ):
        """Train the K members on the same rows.

        Parameters
        ----------
        X : array-like of str, shape (n,), or array-like of float, shape (n, d)
            Sequences, or precomputed features (members of ``mlp``).
        y : array-like of {0, 1}, shape (n,)
        eval_set : tuple (X_val, y_val), optional
            Validation rows every member stops on; without it one split of the members'
            ``validation_fraction`` is drawn with the ensemble's seed.
        progress : callable, optional
            ``progress("epoch", member=k, n_members=K, epoch=, max_epochs=, ...)``.
        sample_weight : array-like of float, shape (n,), optional

        Returns
        -------
        self
        """
        t0 = time.perf_counter()
        self._check()
        features = input_kind(X) == FEATURES
        seqs = as_features(X) if features else as_sequences(X)
        if len(seqs) == 0:
            raise BadInputError("no training sequences")
        labels = as_labels(y, len(seqs))
        weights = as_weights(sample_weight, len(seqs))
        seed = seed_from(self.random_state)
        members = [self._member(k, seed, features) for k in range(int(self.n_members))]
        if eval_set is None:
            vf = members[0].validation_fraction
            train_idx, val_idx = validation_split(len(seqs), vf, seed)
            if len(val_idx):
                eval_set = (seqs[val_idx], labels[val_idx])
            seqs, labels = seqs[train_idx], labels[train_idx]
            weights = None if weights is None else weights[train_idx]

        if not features and self._can_stack(members, weights):
            self._fit_stacked(members, seqs, labels, eval_set, progress)
            self.engine_ = "stacked"
        else:
            for k, m in enumerate(members):
                m.fit(seqs, labels, eval_set=eval_set, sample_weight=weights,
                      progress=self._member_progress(progress, k))  # fmt: skip
            self.engine_ = "plain"
        self._adopt(members, seed, t0)
        return self

    def _member_progress(self, progress, k: int):
        if progress is None:
            return None

        def report(event, **info):
            progress(event, member=k, n_members=int(self.n_members), **info)

        return report

    def _fit_stacked(self, members, seqs, labels, eval_set, progress) -> None:
        from badlabels.engine.stacked import fit_stacked
        from badlabels.engine.stacked.precision import requested_precision

        first = members[0]
        first._check_params()
        data = first._fit_data(seqs, labels, None, eval_set=eval_set)
        k = len(members)
        for m in members:
            m._check_params()
            m.alphabet_, m.max_len_, m.classes_ = first.alphabet_, first.max_len_, CLASSES.copy()
            m.random_seed_ = seed_from(m.random_state)

        def on_event(event, model=None, **info):
            if progress is not None and event == "epoch":
                progress(event, member=model, n_members=k, **info)

        val = data.val
        result = fit_stacked(
            data.train.tokens,
            data.train.lengths,
            data.train.y.unsqueeze(0).expand(k, -1),
            seeds=[m.random_seed_ for m in members],
            val_tokens=None if val is None else val.tokens,
            val_lengths=None if val is None else val.lengths,
            val_y=None if val is None else val.y.unsqueeze(0).expand(k, -1),
            n_tokens=len(first.alphabet_) + 1,
            hidden_sizes=first._hidden(),
            input_map=first.input_map(),
            losses=[(m.loss, m.loss_params) for m in members],
            schedule=first.train_schedule(),
            precision=requested_precision(),
            progress=on_event,
        )
        share = result.seconds / max(sum(result.epochs_run), 1)
        for i, m in enumerate(members):
            net = m._network()  # an LSTMNet, behind its encoding's input map if it has one
            lstm = net.net if isinstance(net, EncodedInput) else net
            result.module.to_lstmnet(i, lstm)
            m.module_ = net.eval().to(data.device)
            m.history_ = result.history[i]
            m.epochs_run_ = int(result.epochs_run[i])
            m.best_epoch_ = int(result.best_epoch[i])
            m.train_seconds_ = share * m.epochs_run_
        self.precision_ = result.precision

    def _adopt(self, members, seed: int, t0: float) -> None:
        first = members[0]
        self.members_ = members
        self.classes_ = CLASSES.copy()
        self.alphabet_ = first.alphabet_
        self.max_len_ = int(first.max_len_)
        self._adopt_input(first)
        self.random_seed_ = int(seed)
        self.epochs_run_ = int(sum(m.epochs_run_ for m in members))
        self.best_epoch_ = int(round(float(np.mean([m.best_epoch_ for m in members]))))
        self.history_ = list(first.history_)
        self.members_history_ = [list(m.history_) for m in members]
        self.train_seconds_ = time.perf_counter() - t0

    def _adopt_input(self, first) -> None:
        """What the members read: sequences, or ``n_features_in_`` precomputed features."""
        self.input_kind_ = getattr(first, "input_kind_", SEQUENCES)
        if self.input_kind_ == FEATURES:
            self.n_features_in_ = int(first.n_features_in_)

    # --- predict ----------------------------------------------------------------------
    @property
    def variable_length(self) -> bool:  # type: ignore[override]
        members = getattr(self, "members_", None)
        return bool(members[0].variable_length) if members else True

    def _fitted(self) -> list:
        members = getattr(self, "members_", None)
        if not members:
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this EnsembleClassifier is not fitted yet; call fit first")
        return members

    def predict_proba(self, X) -> np.ndarray:
        """Mean of the members' class probabilities.

        Parameters
        ----------
        X : array-like of str, shape (n,), or array-like of float, shape (n, d)
            What the members were fitted on.

        Returns
        -------
        ndarray of float64, shape (n, 2)
        """
        members = self._fitted()
        p1 = np.mean([m.predict_proba(X)[:, 1] for m in members], axis=0)
        return proba_from_p1(p1)

    def decision_function(self, X) -> np.ndarray:
        """Log-odds of the mean probability, shape (n,)."""
        p1 = np.clip(self.predict_proba(X)[:, 1], 1e-12, 1 - 1e-12)
        return np.log(p1) - np.log1p(-p1)

    def architecture(self) -> dict:
        """The members' architecture, with the ensemble's size."""
        members = self._fitted()
        return {"type": "EnsembleClassifier", "n_members": len(members),
                "member": members[0].architecture()}  # fmt: skip

    # --- persistence hooks ------------------------------------------------------------
    def _export(self) -> tuple[dict[str, torch.Tensor], dict]:
        members = self._fitted()
        tensors: dict[str, torch.Tensor] = {}
        infos = []
        for k, m in enumerate(members):
            t, info = m._export()
            tensors.update({f"members.{k}.{name}": v for name, v in t.items()})
            infos.append(info)
        info = self._fitted_info()
        info["fitted"]["engine"] = getattr(self, "engine_", "plain")
        info["members"] = infos
        return tensors, info

    def _restore(self, tensors: dict[str, torch.Tensor], info: dict) -> None:
        infos = info.get("members")
        if not isinstance(infos, list) or len(infos) != int(self.n_members):
            raise ValueError(f"expected {self.n_members} members in the saved ensemble")
        fitted = self._restore_fitted(info)
        seed = int(fitted.get("random_seed", seed_from(self.random_state)))
        members = []
        for k, member_info in enumerate(infos):
            kind = (member_info.get("input") or {}).get("kind", SEQUENCES)
            m = self._member(k, seed, features=kind == FEATURES)
            prefix = f"members.{k}."
            own = {n[len(prefix) :]: t for n, t in tensors.items() if n.startswith(prefix)}
            m._restore(own, member_info)
            members.append(m)
        self.members_ = members
        self._adopt_input(members[0])
        self.random_seed_ = seed
        self.members_history_ = [list(m.history_) for m in members]
        self.engine_ = str(fitted.get("engine", "plain"))


__all__ = ["EnsembleClassifier", "member_seed"]
