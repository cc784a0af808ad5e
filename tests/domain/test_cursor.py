import base64

import orjson
import pytest

from gql.domain.cursor import (
    InvalidCursor,
    decode_cursor,
    decode_site_cursor,
    encode_cursor,
    encode_site_cursor,
)
from gql.repository.models import GeoRadius, SeekKey, SiteOrder, SiteSeekKey, SortOrder


@pytest.mark.parametrize(
    "key",
    [
        SeekKey(SortOrder.ID_ASC, 1),
        SeekKey(SortOrder.ID_DESC, 2**62),
        SeekKey(SortOrder.POWER_KW_ASC, 7, 22.5),
        SeekKey(SortOrder.POWER_KW_DESC, 7, None),
        SeekKey(SortOrder.POWER_KW_ASC, -3, 0.0),
    ],
)
def test_round_trip(key: SeekKey) -> None:
    token = encode_cursor(key)
    assert decode_cursor(token, key.order) == key
    assert "=" not in token  # URL-safe and unpadded, fit for GET query strings


def test_is_stable() -> None:
    key = SeekKey(SortOrder.POWER_KW_DESC, 42, 50.0)
    assert encode_cursor(key) == encode_cursor(SeekKey(SortOrder.POWER_KW_DESC, 42, 50.0))


def test_id_orders_ignore_power() -> None:
    assert encode_cursor(SeekKey(SortOrder.ID_ASC, 5, 9.0)) == encode_cursor(
        SeekKey(SortOrder.ID_ASC, 5)
    )


def test_refuses_a_cursor_of_another_order() -> None:
    token = encode_cursor(SeekKey(SortOrder.ID_ASC, 5))
    with pytest.raises(InvalidCursor, match="made for order ID_ASC"):
        decode_cursor(token, SortOrder.ID_DESC)


def _forge(payload: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode()


def _forge_json(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not a cursor",
        "!!!!",
        "WzEsIklEX0FTQyIsOTA4M1",  # truncated
        _forge({"id": 1}),
        _forge([2, "ID_ASC", 1]),  # unknown version
        _forge([1, "NOPE", 1]),
        _forge([1, "ID_ASC", "1"]),
        _forge([1, "ID_ASC", True]),
        _forge_json('[1, "ID_ASC", 18446744073709551616]'),
        _forge([1, "ID_ASC", 1, 2]),  # extra member
        _forge([1, [], 1]),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_rejects_malformed(token: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(token, SortOrder.ID_ASC)


@pytest.mark.parametrize(
    "payload",
    [
        '[1, "POWER_KW_ASC", 1]',  # missing power
        '[1, "POWER_KW_ASC", 1, "high"]',
        '[1, "POWER_KW_ASC", 1, true]',
        '[1, "POWER_KW_ASC", 1, 1e999]',  # not finite
    ],
)
def test_rejects_malformed_power_cursor(payload: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(_forge_json(payload), SortOrder.POWER_KW_ASC)


# -- cursors of sites -------------------------------------------------------------------

TALLINN = GeoRadius(59.437, 24.7536, 25)


@pytest.mark.parametrize(
    "key",
    [
        SiteSeekKey(SiteOrder.ID_ASC, 1),
        SiteSeekKey(SiteOrder.ID_DESC, 2**62),
        SiteSeekKey(SiteOrder.DISTANCE, 7, 0.0),
        SiteSeekKey(SiteOrder.DISTANCE, 7, 12.345678901234567),
    ],
)
def test_site_cursors_round_trip(key: SiteSeekKey) -> None:
    token = encode_site_cursor(key, TALLINN)
    assert decode_site_cursor(token, key.order, TALLINN) == key
    assert "=" not in token


def test_a_distance_cursor_is_bound_to_its_centre_not_its_radius() -> None:
    key = SiteSeekKey(SiteOrder.DISTANCE, 7, 3.5)
    token = encode_site_cursor(key, TALLINN)
    wider = GeoRadius(TALLINN.latitude, TALLINN.longitude, 100)
    assert decode_site_cursor(token, SiteOrder.DISTANCE, wider) == key
    for elsewhere in (GeoRadius(59.438, 24.7536, 25), GeoRadius(59.437, 24.7537, 25), None):
        with pytest.raises(InvalidCursor, match="centre"):
            decode_site_cursor(token, SiteOrder.DISTANCE, elsewhere)


def test_site_and_connection_cursors_are_told_apart() -> None:
    site = encode_site_cursor(SiteSeekKey(SiteOrder.ID_ASC, 5), None)
    connection = encode_cursor(SeekKey(SortOrder.ID_ASC, 5))
    with pytest.raises(InvalidCursor):
        decode_cursor(site, SortOrder.ID_ASC)
    with pytest.raises(InvalidCursor):
        decode_site_cursor(connection, SiteOrder.ID_ASC, None)
    with pytest.raises(InvalidCursor, match="order"):
        decode_site_cursor(site, SiteOrder.ID_DESC, None)


@pytest.mark.parametrize(
    "payload",
    [
        [1, "site", "DISTANCE", 7],
        [1, "site", "DISTANCE", 7, -1.0, "x"],
        [1, "site", "DISTANCE", 7, "3", "x"],
        [1, "site", "DISTANCE", 7, 3.0, 5],
        [1, "site", "ID_ASC", 7, 3.0],
        [1, "site", "ID_ASC", "7"],
        [1, "site", "ID_ASC", True],
        [1, "site", "ID_ASC", 2**63],
        [1, "site", "NEAREST", 7],
        [2, "site", "ID_ASC", 7],
    ],
)
def test_rejects_malformed_site_cursors(payload: list[object]) -> None:
    token = base64.urlsafe_b64encode(orjson.dumps(payload)).decode()
    order = SiteOrder.DISTANCE if "DISTANCE" in payload else SiteOrder.ID_ASC
    with pytest.raises(InvalidCursor):
        decode_site_cursor(token, order, TALLINN)
