-- ocm-gql schema, version 3 (PostgreSQL): the same as sqlite/0003_charge_points.sql.
-- The spatial index is a GiST index on the site's point (longitude, latitude): built in,
-- no extension needed, and it answers the box that prefilters a radius search as well
-- as a map view's box.

ALTER TABLE charge_point
    ADD COLUMN address_line1 text,
    ADD COLUMN address_line2 text,
    ADD COLUMN state_or_province text,
    ADD COLUMN postcode text,
    ADD COLUMN access_comments text,
    ADD COLUMN related_url text,
    ADD COLUMN contact_telephone1 text,
    ADD COLUMN usage_cost text,
    ADD COLUMN submission_status_type_id integer,
    ADD COLUMN general_comments text,
    ADD COLUMN date_last_verified text;

CREATE TABLE operator (
    id                    integer PRIMARY KEY,
    title                 text,
    website_url           text,
    is_private_individual boolean
);

CREATE TABLE usage_type (
    id                     integer PRIMARY KEY,
    title                  text,
    is_pay_at_location     boolean,
    is_membership_required boolean,
    is_access_key_required boolean
);

CREATE TABLE country (
    id             integer PRIMARY KEY,
    iso_code       text,
    continent_code text,
    title          text
);

CREATE INDEX ix_country_iso_code ON country (iso_code);
CREATE INDEX ix_charge_point_country ON charge_point (country_id, id);
CREATE INDEX ix_charge_point_operator ON charge_point (operator_id, id);
CREATE INDEX ix_charge_point_location ON charge_point USING gist (point(longitude, latitude));
