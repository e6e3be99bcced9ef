"""Layer 5: venue and market-data ports, order routing, execution algorithms."""
