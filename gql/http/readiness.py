"""`/readyz`, for load balancers: whether every database behind the repository answers,
and what is degraded (Redis) while they do."""

from __future__ import annotations

import asyncio
import logging

from starlette.responses import JSONResponse, Response

from gql.redis_link import RedisLink
from gql.repository.base import Repository, Unavailable
from gql.repository.replicated import databases
from gql.repository.url import hide_password
from gql.settings import Settings

logger = logging.getLogger("gql.http")


class Readiness:
    """`/readyz`: 200 while every database answers within the execution timeout, else 503
    naming each one that does not (by its setting and URL, without a password) and why.
    A change of state is logged once, in one line, not at every poll of a load balancer.

    Redis is not needed to serve reads and writes, so it does not make a process unready:
    while it does not answer, the answer stays 200 with status "degraded" and
    ``"degraded": {"redis": "<url>: <reason>"}`` (live events across processes, and what
    else is shared through it, are what suffer). Its changes of state are logged by the
    link (gql/redis_link.py)."""

    def __init__(self, settings: Settings, redis: RedisLink | None = None) -> None:
        self._settings = settings
        self._redis = redis
        self._ready = True

    async def check(self, repository: Repository) -> Response:
        names = {"database": self._settings.database, "read_database": self._settings.read_database}
        parts = databases(repository)
        reasons = await asyncio.gather(*(self._problem(part) for part in parts.values()))
        down = {
            name: f"{names[name]}: {reason}"
            for name, reason in zip(parts, reasons, strict=True)
            if reason is not None
        }
        if down:
            if self._ready:
                logger.warning("not ready: %s", "; ".join(down.values()))
                self._ready = False
            return JSONResponse({"status": "unavailable", "down": down}, status_code=503)
        if not self._ready:
            logger.warning("ready again: the database answers")
            self._ready = True
        if self._redis is not None and (problem := await self._redis.ping()) is not None:
            degraded = {"redis": f"{self._redis.shown_url}: {problem}"}
            return JSONResponse({"status": "degraded", "degraded": degraded})
        return JSONResponse({"status": "ok"})

    async def _problem(self, repository: Repository) -> str | None:
        """Why ``repository`` is not ready, or None when it is."""
        timeout_ms = self._settings.execution_timeout_ms
        try:
            async with asyncio.timeout(timeout_ms / 1000):
                await repository.ping()
        except TimeoutError:
            return f"no answer within {timeout_ms} ms"
        except Unavailable as error:
            return hide_password(str(error))
        except Exception:
            logger.exception("readiness check failed")
            return "unexpected error (see the server's log)"
        return None
