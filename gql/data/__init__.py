"""Getting data in: imports, seeds and sync from OCM's API."""
