"""Rules that hold whatever the transport or the database."""
