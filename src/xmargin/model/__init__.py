"""Layer 1: the domain model: assets, instruments, orders, positions, balances, market data, events."""
