"""Rich consoles for the CLI layer only (the library reports progress through callbacks)."""

from __future__ import annotations

from rich.console import Console

console = Console()
err_console = Console(stderr=True)
