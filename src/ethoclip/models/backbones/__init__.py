"""MMAction2 1.2.0 backbones in plain PyTorch, with its parameter names (one file per family)."""
