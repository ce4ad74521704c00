"""Training methods: how a model is trained on noisy labels.

Above the models, which they build, wrap or train (docs/dev/ARCHITECTURE.md). Modules:
``registry`` (``METHODS``, :func:`build_estimator`), ``wrappers`` (forward correction, the
cleanlab filter, select-on-validation), ``coteaching`` (a step of the one training loop),
``estimate`` (out-of-fold probabilities and the noise estimate they feed), ``folds`` (the
stratified folds), ``stacked_folds`` (out-of-fold models trained stacked), ``stacking`` (which
estimators the stacked engine can train together). The names below are loaded on first use,
so importing a torch-free module (e.g. ``stacking``) does not import torch.
"""

from __future__ import annotations

from badlabels._lazy import lazy_getattr

_LAZY = {
    "METHODS": "badlabels.methods.registry",
    "build_estimator": "badlabels.methods.registry",
    "out_of_fold_proba": "badlabels.methods.estimate",
    "estimate_noise_from_sequences": "badlabels.methods.estimate",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
