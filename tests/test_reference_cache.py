"""The reference-list cache: kept per process, dropped on this process's writes and when
told of another's (`invalidate`)."""

from __future__ import annotations

from gql.data.seeding import seed_reference
from gql.reference_cache import ReferenceCache
from gql.repository.factory import open_repository
from gql.repository.models import ReferenceKind, StatusTypeRecord
from gql.settings import Settings


async def test_a_write_through_another_repository_is_seen_once_invalidated(
    database_url: str,
) -> None:
    settings = Settings(database_url=database_url)
    served = await open_repository(settings)
    elsewhere = await open_repository(settings)  # as another process would write
    try:
        await seed_reference(elsewhere)
        cache = ReferenceCache(served)
        assert (await cache.table(ReferenceKind.STATUS_TYPE))[150].title != "Renamed"
        await elsewhere.upsert_reference(
            ReferenceKind.STATUS_TYPE, [StatusTypeRecord(id=150, title="Renamed")]
        )
        # This process's repository knows nothing of it: the cached list stays.
        assert (await cache.table(ReferenceKind.STATUS_TYPE))[150].title != "Renamed"
        cache.invalidate()
        assert (await cache.table(ReferenceKind.STATUS_TYPE))[150].title == "Renamed"
    finally:
        await elsewhere.close()
        await served.close()
