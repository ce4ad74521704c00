"""``python -m badlabels``: the command line."""

from badlabels.cli import main

main()
