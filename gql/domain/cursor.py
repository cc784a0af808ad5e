"""Opaque, stable keyset cursors.

A cursor carries the order it was made for and the sort key of one row, so the next page
is a seek (``WHERE key > cursor``) rather than an OFFSET, and a cursor made under one
order is refused under another instead of silently paging wrong.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
from typing import Any

import orjson

from gql.repository.models import GeoRadius, SeekKey, SiteOrder, SiteSeekKey, SortOrder

_VERSION = 1


class InvalidCursor(ValueError):
    """The cursor was not made by this server, or not for the requested order."""


def encode_cursor(key: SeekKey) -> str:
    payload: list[object] = [_VERSION, key.order.value, key.id]
    if key.order.by_power:
        payload.append(key.power_kw)
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode_cursor(token: str, expected_order: SortOrder) -> SeekKey:
    payload = _payload(token)
    if len(payload) < 3:
        raise InvalidCursor("the cursor is malformed")
    try:
        order = SortOrder(payload[1])
    except (ValueError, TypeError):
        raise InvalidCursor("the cursor is malformed") from None
    if order is not expected_order:
        raise InvalidCursor(
            f"the cursor was made for order {order.value}, not {expected_order.value}"
        )
    if len(payload) != (4 if order.by_power else 3) or not _is_int64(payload[2]):
        raise InvalidCursor("the cursor is malformed")
    power = payload[3] if order.by_power else None
    if power is not None and not _is_finite_number(power):
        raise InvalidCursor("the cursor is malformed")
    return SeekKey(order=order, id=payload[2], power_kw=None if power is None else float(power))


def _is_int64(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


def _is_finite_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


_SITE = "site"


def encode_site_cursor(key: SiteSeekKey, near: GeoRadius | None) -> str:
    """A cursor in a page of sites. A DISTANCE cursor also carries a short hash of the
    centre its distance was measured from: under another centre it would seek to a
    meaningless place, so it is refused there."""
    payload: list[object] = [_VERSION, _SITE, key.order.value, key.id]
    if key.order is SiteOrder.DISTANCE:
        assert near is not None
        assert key.distance_km is not None
        payload += [key.distance_km, _centre_tag(near)]
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode_site_cursor(
    token: str, expected_order: SiteOrder, near: GeoRadius | None
) -> SiteSeekKey:
    payload = _payload(token)
    if len(payload) < 4 or payload[1] != _SITE:
        raise InvalidCursor("the cursor is malformed")
    try:
        order = SiteOrder(payload[2])
    except (ValueError, TypeError):
        raise InvalidCursor("the cursor is malformed") from None
    if order is not expected_order:
        raise InvalidCursor(
            f"the cursor was made for order {order.value}, not {expected_order.value}"
        )
    by_distance = order is SiteOrder.DISTANCE
    if len(payload) != (6 if by_distance else 4) or not _is_int64(payload[3]):
        raise InvalidCursor("the cursor is malformed")
    if not by_distance:
        return SiteSeekKey(order=order, id=payload[3])
    distance, tag = payload[4], payload[5]
    if not _is_finite_number(distance) or distance < 0 or not isinstance(tag, str):
        raise InvalidCursor("the cursor is malformed")
    if near is None or tag != _centre_tag(near):
        raise InvalidCursor("the cursor was made for another `near` centre")
    return SiteSeekKey(order=order, id=payload[3], distance_km=float(distance))


def _centre_tag(near: GeoRadius) -> str:
    # The radius is left out: it changes which sites match, not the order they come in.
    centre = orjson.dumps([float(near.latitude), float(near.longitude)])
    return hashlib.blake2b(centre, digest_size=6).hexdigest()


def _payload(token: str) -> list[Any]:
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeError):
        raise InvalidCursor("the cursor is malformed") from None
    if not isinstance(payload, list) or not payload or payload[0] != _VERSION:
        raise InvalidCursor("the cursor is malformed")
    return payload


_CHANGE_PREFIX = "change:"


def encode_change_cursor(change_id: int) -> str:
    """A cursor in a connection's change log (newest first)."""
    return base64.urlsafe_b64encode(f"{_CHANGE_PREFIX}{change_id}".encode()).decode().rstrip("=")


def decode_change_cursor(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, ValueError, UnicodeError):
        raise InvalidCursor("the cursor is malformed") from None
    number = text.removeprefix(_CHANGE_PREFIX)
    if text == number or not (number.isascii() and number.isdigit()):
        raise InvalidCursor("the cursor is malformed")
    if not _is_int64(int(number)):
        raise InvalidCursor("the cursor is malformed")
    return int(number)
