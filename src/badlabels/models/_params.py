"""Parameter checks shared by the extra architectures (bilstm, cnn, mlp, transformer)."""

from __future__ import annotations

import numbers

from badlabels.errors import BadInputError


def positive_int(value, name: str) -> int:
    """``value`` as an int >= 1, else BadInputError."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise BadInputError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def positive_ints(value, name: str) -> tuple[int, ...]:
    """One or more positive ints (an int alone counts as one) as a tuple, else BadInputError."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    try:
        sizes = tuple(value)
    except TypeError:
        sizes = ()
    if not sizes or not all(
        isinstance(h, numbers.Integral) and not isinstance(h, bool) and h > 0 for h in sizes
    ):
        raise BadInputError(f"{name} must be one or more positive integers, got {value!r}")
    return tuple(int(h) for h in sizes)


def dropout_rate(value, name: str = "dropout") -> float:
    """A probability in [0, 1), else BadInputError."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 <= value < 1:
        raise BadInputError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)
