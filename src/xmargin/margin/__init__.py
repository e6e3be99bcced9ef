"""Layer 2: venue cross-margin models, pure calculators over an account snapshot."""
