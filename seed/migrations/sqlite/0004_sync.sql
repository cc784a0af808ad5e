-- ocm-gql schema, version 4: where `ocm-gql sync` got to in OCM's /poi API, per country.
-- Written in the same transaction as each page of sites, so it never runs ahead of them.

CREATE TABLE sync_state (
    country_code   TEXT PRIMARY KEY,
    -- The run's `modifiedsince` (null: every site of the country).
    modified_since TEXT,
    -- When the run started: the next run's `modifiedsince` once this one has finished.
    started_at     TEXT NOT NULL,
    -- The largest site id written by the run: an unfinished run resumes after it.
    last_id        INTEGER NOT NULL,
    -- Null while the run is unfinished.
    finished_at    TEXT
);
