"""Classification heads: one module per family, MMAction2's under its names and parameter names."""
