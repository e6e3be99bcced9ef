"""Layer 4: pre-trade checks, trading state, breakers, stops, sizing, fences, stress tests."""
