"""Layer 8: the backtest runtime, its results and their analytics."""
