"""Layer 0: clock, seeded randomness, ids, message bus, error families (stdlib only)."""
