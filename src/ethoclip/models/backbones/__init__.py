"""Backbones: one module per family, MMAction2's architectures under its names and parameter names."""
