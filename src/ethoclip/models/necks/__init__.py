"""Necks under MMAction2's names (between backbone and head)."""
