"""Layer 1: assets, instruments, orders, positions, balances, market data, commands, events."""
