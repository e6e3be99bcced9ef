"""Layer 4: the strategy API: base class, context, indicators and example strategies."""
