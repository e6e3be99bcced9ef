"""Layer 7: the kernel wiring clock, bus, cache, risk, execution and strategies."""
