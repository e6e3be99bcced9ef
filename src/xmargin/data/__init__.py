"""Layer 6: market-data series, validation, file loaders, the Parquet catalog and downloads."""
