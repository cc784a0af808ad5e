"""How a date-time is kept: ISO 8601 text in UTC, to the second, ``YYYY-MM-DDTHH:MM:SSZ``.

OCM gives its dates in UTC ("2012-06-21T21:16:00Z"); other sources may write an offset, a
fraction of a second or no zone at all. One fixed-width form means the text sorts as the
time does (a ``--since`` or an order by date compares text), and every backend stores
the same bytes. A time without a zone is taken as UTC, as OCM documents its dates; a
fraction of a second is dropped (OCM keeps whole minutes).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

NOT_A_DATE_TIME: Final = "not an ISO 8601 date-time"
# Longer text is no date-time: refused before parsing, so a huge value costs nothing.
_LONGEST: Final = 64


def normalised_utc(text: str) -> str:
    """``text`` as this project stores a date-time; ValueError when it is not an ISO 8601
    date or date-time, or falls outside years 1 to 9999 once in UTC."""
    if len(text) > _LONGEST:
        raise ValueError(NOT_A_DATE_TIME)
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        utc = moment.astimezone(UTC).replace(microsecond=0, tzinfo=None)
    except (ValueError, OverflowError):
        raise ValueError(NOT_A_DATE_TIME) from None
    return f"{utc.isoformat(timespec='seconds')}Z"


def utc_datetime(text: str | None) -> datetime | None:
    """A stored date-time (ISO 8601, as OCM gives it: "2012-06-21T21:16:00Z") in UTC; one
    without a zone is taken as UTC, as OCM's are. Text that is no date-time reads as null
    rather than failing the whole site."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
