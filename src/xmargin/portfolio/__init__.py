"""Layer 3: the ledger of balances, positions and loans, and account views over margin models."""
