import base64

import orjson
import pytest

from gql.cursor import InvalidCursor, decode_cursor, encode_cursor
from gql.repository.models import SeekKey, SortOrder


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
