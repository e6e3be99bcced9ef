"""Layer 0: clock, seeded randomness, deterministic ids, message bus, error families (stdlib only)."""
