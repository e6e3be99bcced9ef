"""Layer 6: venue adapters: the simulated exchange, the ccxt adapter, the gateway."""
