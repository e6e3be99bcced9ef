"""Layer 9: the command line, settings and services."""
