"""Layers (being written)."""
__all__ = []
