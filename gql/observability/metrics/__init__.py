"""Prometheus metrics (the official prometheus-client), one module per area."""
