"""Heads under MMAction2's names, one module per family."""
