"""``python -m ethoclip`` runs the command line."""

from ._entry import run

run()
