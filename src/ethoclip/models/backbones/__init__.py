"""Backbones under MMAction2's names and parameter names, one module per family."""
