"""What an operator sees of the server: metrics, traces and logs."""
