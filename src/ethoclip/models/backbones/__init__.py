"""Backbones under MMAction2's names and parameter names, in plain PyTorch."""
