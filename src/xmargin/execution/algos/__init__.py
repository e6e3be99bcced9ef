"""Execution algorithms any strategy can run for a parent order: TWAP, VWAP, iceberg, OCO,
bracket. Each is started with ``ctx.spawn(algo)``; see ``base``."""
