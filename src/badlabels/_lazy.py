"""Names of a package loaded on first use (PEP 562), so that a torch-free module of the
package can be imported without importing torch.

Sits below every layer, like :mod:`badlabels.errors`: it imports nothing of badlabels.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_getattr(package: str, table: dict[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package``: ``table`` maps a name to the module holding it.

    The first access imports that module and caches the value in the package's namespace.
    """

    def __getattr__(name: str):
        if name in table:
            value = getattr(importlib.import_module(table[name]), name)
            setattr(importlib.import_module(package), name, value)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
