"""Helpers shared by CLI tests: run a command in process, check a one-line error."""

from __future__ import annotations

import pytest

from badlabels.cli import main


def run_cli(args, capsys):
    """Run ``badlabels ARGS`` in process: ``(exit code, stdout, stderr)``."""
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def one_line_error(code, err, *needles):
    """Exit 2 with one non-empty line on stderr holding every needle, no traceback and no
    stray warning."""
    assert code == 2, err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err and "Warning" not in err
    for n in needles:
        assert n in err, (n, err)
