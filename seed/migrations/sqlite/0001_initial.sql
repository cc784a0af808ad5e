-- ocm-gql schema, version 1: OCM reference lists, sites (POIs) and their connections.
-- Column names follow OCM's field names in snake_case.

CREATE TABLE connection_type (
    id              INTEGER PRIMARY KEY,
    title           TEXT,
    formal_name     TEXT,
    is_discontinued INTEGER,
    is_obsolete     INTEGER
);

CREATE TABLE status_type (
    id                 INTEGER PRIMARY KEY,
    title              TEXT,
    is_operational     INTEGER,
    is_user_selectable INTEGER
);

CREATE TABLE level_type (
    id                     INTEGER PRIMARY KEY,
    title                  TEXT,
    comments               TEXT,
    is_fast_charge_capable INTEGER
);

CREATE TABLE supply_type (
    id          INTEGER PRIMARY KEY,
    title       TEXT,
    description TEXT
);

-- An OCM site (POI). Operator, usage type and data provider lists are not served yet,
-- so their IDs are kept without foreign keys.
CREATE TABLE charge_point (
    id                      INTEGER PRIMARY KEY,
    uuid                    TEXT,
    title                   TEXT,
    town                    TEXT,
    country_id              INTEGER,
    latitude                REAL,
    longitude               REAL,
    data_provider_id        INTEGER,
    operator_id             INTEGER,
    usage_type_id           INTEGER,
    status_type_id          INTEGER,
    number_of_points        INTEGER,
    date_created            TEXT,
    date_last_status_update TEXT
);

CREATE TABLE connection_info (
    id                 INTEGER PRIMARY KEY,
    charge_point_id    INTEGER REFERENCES charge_point (id) ON DELETE CASCADE,
    connection_type_id INTEGER REFERENCES connection_type (id),
    reference          TEXT,
    status_type_id     INTEGER REFERENCES status_type (id),
    level_id           INTEGER REFERENCES level_type (id),
    amps               INTEGER,
    voltage            REAL,
    -- As given by the source; NULL when absent.
    power_kw_source    REAL,
    -- OCM's effective power (gql/domain/power.py), written with every row so filters and
    -- ordering on it use an index.
    power_kw           REAL,
    current_type_id    INTEGER REFERENCES supply_type (id),
    quantity           INTEGER,
    comments           TEXT,
    -- Non-null sort keys that put rows without power last in both directions.
    power_sort_asc     REAL GENERATED ALWAYS AS (coalesce(power_kw, 1e308)) VIRTUAL,
    power_sort_desc    REAL GENERATED ALWAYS AS (coalesce(-power_kw, 1e308)) VIRTUAL
);

CREATE INDEX ix_connection_info_charge_point ON connection_info (charge_point_id, id);
CREATE INDEX ix_connection_info_connection_type ON connection_info (connection_type_id, id);
CREATE INDEX ix_connection_info_status_type ON connection_info (status_type_id, id);
CREATE INDEX ix_connection_info_level ON connection_info (level_id, id);
CREATE INDEX ix_connection_info_current_type ON connection_info (current_type_id, id);
CREATE INDEX ix_connection_info_power_asc ON connection_info (power_sort_asc, id);
CREATE INDEX ix_connection_info_power_desc ON connection_info (power_sort_desc, id);
