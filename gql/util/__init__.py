"""Small pieces every layer may use; they know nothing of GraphQL, HTTP or SQL."""
