-- ocm-gql schema, version 4 (PostgreSQL): where `ocm-gql sync` got to in OCM's /poi API,
-- per country. The same table as sqlite/0004_sync.sql.

CREATE TABLE sync_state (
    country_code   text PRIMARY KEY,
    -- The run's `modifiedsince` (null: every site of the country).
    modified_since text,
    -- When the run started: the next run's `modifiedsince` once this one has finished.
    started_at     text NOT NULL,
    -- The largest site id written by the run: an unfinished run resumes after it.
    last_id        integer NOT NULL,
    -- Null while the run is unfinished.
    finished_at    text
);
