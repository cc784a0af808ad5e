"""HTTP-facing pieces of the server."""
