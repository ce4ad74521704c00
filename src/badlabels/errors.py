"""Exceptions that the command line turns into one clear line and exit code 2."""

from __future__ import annotations


class BadlabelsError(Exception):
    """Base class of every error badlabels raises on purpose."""


class BadInputError(BadlabelsError, ValueError):
    """A user mistake in input data or options.

    The message is one line and names the file, the row (1-based, as a
    spreadsheet would show it, header = row 1) and the problem where they are known.
    """

    def __init__(self, problem: str, *, file: str | None = None, row: int | None = None):
        self.problem = problem
        self.file = file
        self.row = row
        parts = []
        if file is not None:
            parts.append(str(file))
        if row is not None:
            parts.append(f"row {row}")
        where = ", ".join(parts)
        super().__init__(f"{where}: {problem}" if where else problem)


class ContinuousLabelsError(BadInputError):
    """The label column holds continuous scores and no cutoff was given (``--task auto``
    then learns the scores themselves)."""
