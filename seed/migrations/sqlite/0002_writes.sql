-- ocm-gql schema, version 2: API keys for writers, and the change log of connections.

-- A key is handed out once as "ocmgql_<key_id>_<secret>"; only a salted SHA-256 of the
-- secret is kept. Revoked keys stay, so the change log's names keep their meaning.
CREATE TABLE api_key (
    key_id      TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    salt        BLOB NOT NULL,
    secret_hash BLOB NOT NULL,
    read_only   INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

-- Every write to connection_info, in the write's own transaction. No foreign key to
-- connection_info: a deleted connection's history stays.
CREATE TABLE connection_change (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id INTEGER NOT NULL,
    action        TEXT NOT NULL,
    actor         TEXT NOT NULL,
    changed_at    TEXT NOT NULL,
    before        TEXT,
    after         TEXT
);

CREATE INDEX ix_connection_change_connection ON connection_change (connection_id, id);
