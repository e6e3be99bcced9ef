"""Example strategies, one per module."""
