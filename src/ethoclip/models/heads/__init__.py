"""MMAction2 1.2.0 heads in plain PyTorch, with its parameter names (one file per family)."""
