"""Builders for tests: hand-made market data, scripted strategies and small runs."""
