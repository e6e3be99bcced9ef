"""xmargin: cross-margin trading of crypto perpetuals, spot margin and stablecoins."""

__version__ = "0.1.0"
