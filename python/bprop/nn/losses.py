"""Losses (being written)."""
__all__ = []
