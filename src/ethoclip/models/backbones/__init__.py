"""Backbones, one module per family: MMAction2's architectures under its parameter names."""
