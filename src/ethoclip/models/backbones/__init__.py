"""Backbones, one family per module (registered by full path in ``ethoclip.registry``)."""
