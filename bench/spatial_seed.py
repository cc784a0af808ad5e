"""Seeds the spatial benchmark's dataset: the reference lists and exactly N demo sites.

`ocm-gql seed --demo N` counts connections; the spatial benchmark counts sites (the rows a
radius or a box search reads), so this writes the demo generator's sites (gql/data/seeding.py,
clustered around real towns, with their connections) until it has N of them. The demo
generator's draws do not depend on the total asked for, so these are the first N sites
`ocm-gql seed --demo` would write with the same seed.

Run by bench/run.py: `python bench/spatial_seed.py --sites N`, the database named as
`ocm-gql serve` reads it (OCM_GQL_DB or OCM_GQL_DATABASE_URL), or `--db PATH`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from gql.data.seeding import DemoProfile, demo_batches, seed_reference
from gql.repository.factory import open_repository
from gql.settings import Settings

SEED = 0


async def seed_sites(settings: Settings, sites: int) -> tuple[int, int]:
    """Writes the reference lists and the first ``sites`` demo sites with their
    connections; returns (sites, connections) written."""
    repository = await open_repository(settings)
    try:
        await seed_reference(repository)
        sites_written = connections_written = 0
        for batch_sites, batch_connections in demo_batches(sys.maxsize, SEED, DemoProfile.load()):
            kept = batch_sites[: sites - sites_written]
            last_site = kept[-1].id
            # Sites and their connections come in id order, so a prefix of one is the
            # prefix of the other.
            connections = [c for c in batch_connections if c.charge_point_id <= last_site]
            counts = await repository.write_sites(kept, connections, replace_site_connections=True)
            sites_written += counts.sites.written
            connections_written += counts.connections.written
            if sites_written >= sites:
                break
        await repository.bulk_write_done(connections_written)
    finally:
        await repository.close()
    return sites_written, connections_written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, required=True)
    parser.add_argument("--db", type=Path, default=None)
    args = parser.parse_args()
    settings = Settings.from_env(db=args.db)
    started = time.monotonic()
    sites, connections = asyncio.run(seed_sites(settings, args.sites))
    print(
        f"{sites} sites and {connections} connections written in {time.monotonic() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
