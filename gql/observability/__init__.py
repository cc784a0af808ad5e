"""Logs (and, when they arrive, metrics and tracing)."""
