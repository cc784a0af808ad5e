-- ocm-gql schema, version 3: charge points (OCM sites) served in full, their operator,
-- usage type and country lists, and a spatial index on their location.

ALTER TABLE charge_point ADD COLUMN address_line1 TEXT;
ALTER TABLE charge_point ADD COLUMN address_line2 TEXT;
ALTER TABLE charge_point ADD COLUMN state_or_province TEXT;
ALTER TABLE charge_point ADD COLUMN postcode TEXT;
ALTER TABLE charge_point ADD COLUMN access_comments TEXT;
ALTER TABLE charge_point ADD COLUMN related_url TEXT;
ALTER TABLE charge_point ADD COLUMN contact_telephone1 TEXT;
ALTER TABLE charge_point ADD COLUMN usage_cost TEXT;
ALTER TABLE charge_point ADD COLUMN submission_status_type_id INTEGER;
ALTER TABLE charge_point ADD COLUMN general_comments TEXT;
ALTER TABLE charge_point ADD COLUMN date_last_verified TEXT;

-- Sites keep their operator, usage type and country ids without foreign keys: OCM's
-- exports name ids its published lists may not hold yet.
CREATE TABLE operator (
    id                    INTEGER PRIMARY KEY,
    title                 TEXT,
    website_url           TEXT,
    is_private_individual INTEGER
);

CREATE TABLE usage_type (
    id                     INTEGER PRIMARY KEY,
    title                  TEXT,
    is_pay_at_location     INTEGER,
    is_membership_required INTEGER,
    is_access_key_required INTEGER
);

CREATE TABLE country (
    id             INTEGER PRIMARY KEY,
    iso_code       TEXT,
    continent_code TEXT,
    title          TEXT
);

CREATE INDEX ix_country_iso_code ON country (iso_code);
CREATE INDEX ix_charge_point_country ON charge_point (country_id, id);
CREATE INDEX ix_charge_point_operator ON charge_point (operator_id, id);

-- The spatial index: one point-sized box per located site, kept by the triggers below.
-- R*Tree stores 32-bit floats rounded outwards, so it finds a superset of the sites in
-- an area; queries check the exact coordinates after it.
CREATE VIRTUAL TABLE charge_point_location USING rtree (
    id,
    min_latitude, max_latitude,
    min_longitude, max_longitude
);

INSERT INTO charge_point_location
SELECT id, latitude, latitude, longitude, longitude FROM charge_point
WHERE latitude IS NOT NULL AND longitude IS NOT NULL;

CREATE TRIGGER charge_point_location_insert AFTER INSERT ON charge_point
WHEN new.latitude IS NOT NULL AND new.longitude IS NOT NULL
BEGIN
    INSERT INTO charge_point_location
    VALUES (new.id, new.latitude, new.latitude, new.longitude, new.longitude);
END;

CREATE TRIGGER charge_point_location_update AFTER UPDATE OF id, latitude, longitude ON charge_point
BEGIN
    DELETE FROM charge_point_location WHERE id = old.id;
    INSERT INTO charge_point_location
    SELECT new.id, new.latitude, new.latitude, new.longitude, new.longitude
    WHERE new.latitude IS NOT NULL AND new.longitude IS NOT NULL;
END;

CREATE TRIGGER charge_point_location_delete AFTER DELETE ON charge_point
BEGIN
    DELETE FROM charge_point_location WHERE id = old.id;
END;
