"""The exchange gateway: the simulated venue served over Binance USDⓈ-M's own wire protocol."""
