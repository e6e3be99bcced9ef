"""Research on stored runs: reports (HTML with charts, tables), comparisons."""
