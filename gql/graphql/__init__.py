"""The GraphQL layer: Strawberry types, resolvers, loaders and the schema."""
