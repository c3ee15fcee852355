"""One module per console page: read the stores, hand plain values to a template."""
