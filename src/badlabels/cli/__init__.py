"""The ``badlabels`` command line: thin wrappers over the library.

Each command group lives in its own module and registers itself on ``app``.
User mistakes (:class:`badlabels.errors.BadlabelsError`) become one red line on
stderr and exit code 2, never a traceback; Ctrl-C becomes one line and exit code 130.
"""

from __future__ import annotations

import inspect
import sys

import typer
from typer.core import TyperGroup

from badlabels.cli._console import err_console

INTERRUPTED = "[yellow]interrupted[/]: finished runs are kept."
"""What Ctrl-C prints (one line on stderr; exit code 130)."""


class _Interrupted(Exception):
    """Ctrl-C inside a command, carried past Typer/click's own handling to :func:`main`.

    Typer (0.29 here) turns a KeyboardInterrupt into a silent ``Exit(130)``, older Typer and
    click into ``Abort`` ("Aborted!", exit 1), with ``standalone_mode=False`` too; neither lets
    :func:`main` print its own line. An exception they do not know passes through untouched.
    """


class _Group(TyperGroup):
    """The command group; re-raises Ctrl-C in a command as :class:`_Interrupted`."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _Interrupted() from None


app = typer.Typer(
    cls=_Group,
    name="badlabels",
    help="Build good sequence-to-function models from bad (noisy) assay labels, and prove how good they are.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Command modules register themselves on import.
from badlabels.cli import commands_experiment  # noqa: E402,F401

for _optional in ("commands_sweep", "commands_audit", "commands_model", "commands_plan"):
    try:
        __import__(f"badlabels.cli.{_optional}")
    except ModuleNotFoundError as exc:  # module not written yet
        if exc.name != f"badlabels.cli.{_optional}":
            raise


def reflow_help(doc: str) -> str:
    """A docstring as help text that wraps to the terminal.

    Typer keeps every line break after the first paragraph, so a docstring wrapped at 100
    columns comes out ragged in a narrower terminal. Lines of a paragraph are joined; a line
    starting a list item (``- ``, ``* ``) starts a new line, and a paragraph whose first line
    is indented (code) is kept as written.
    """
    out = []
    for para in inspect.cleandoc(doc).split("\n\n"):
        lines = para.splitlines()
        if para.startswith(("\b", " ", "\t")):
            out.append(para)
            continue
        items: list[str] = []
        for line in lines:
            if not items or line.startswith(("- ", "* ")):
                items.append(line.strip())
            else:
                items[-1] += " " + line.strip()
        out.append("\n".join(items))
    return "\n\n".join(out)


for _info in app.registered_commands:
    if _info.help is None and _info.callback is not None and _info.callback.__doc__:
        _info.help = reflow_help(_info.callback.__doc__)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    from badlabels.errors import BadlabelsError

    try:
        app(args=argv, standalone_mode=True)
    except BadlabelsError as exc:
        from rich.markup import escape

        # escape: messages may hold brackets ("pip install 'badlabels[ray]'", "[0, 1]")
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except (_Interrupted, KeyboardInterrupt):
        err_console.print(INTERRUPTED, highlight=False)
        sys.exit(130)
