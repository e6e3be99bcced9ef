"""The simulated exchange: matching, fees, funding, interest, liquidation and latency."""
