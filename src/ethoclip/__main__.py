"""``python -m ethoclip`` runs the command line."""

from .cli import run

run()
