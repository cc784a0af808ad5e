"""asyncpg's exceptions in the repository's terms: what means "the server is gone for
now", what is a broken constraint, and one line for a database that cannot be opened."""

from __future__ import annotations

from typing import Final

import asyncpg

from gql.repository.url import hide_password

# The server is stopping, starting or unreachable: the pool reconnects once it is back.
UNREACHABLE: Final[tuple[type[BaseException], ...]] = (
    OSError,  # refused, reset, unreachable host
    TimeoutError,
    asyncpg.PostgresConnectionError,  # class 08
    asyncpg.CannotConnectNowError,  # 57P03: starting up or shutting down
    asyncpg.AdminShutdownError,  # 57P01
    asyncpg.CrashShutdownError,  # 57P02
    asyncpg.ConnectionDoesNotExistError,  # closed under a query
    # The client's own state once the server cut a connection under it: a reset on
    # release finding the protocol mid-operation ("cannot switch to state 15"), a pooled
    # connection already closed. Seen when the server stops under load. Our statements
    # are fixed, so a misuse would fail every test, not only when the server goes away.
    asyncpg.InterfaceError,
    asyncpg.exceptions._base.InternalClientError,
)


def open_failure(error: BaseException) -> str:
    """Why a database could not be opened, in one line without a password."""
    if isinstance(error, asyncpg.InvalidCatalogNameError):
        reason = f"{error} (create it, or name an existing database in the URL)"
    elif isinstance(
        error, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
    ):
        reason = f"{error} (check the user and password in the URL)"
    elif isinstance(error, ConnectionRefusedError):
        reason = "connection refused (is the server running, on that host and port?)"
    elif isinstance(error, TimeoutError):
        reason = "no answer from the server in time"
    elif isinstance(error, OSError):
        reason = f"{error.strerror or error} (check the host and port)"
    else:
        reason = str(error) or type(error).__name__
    return hide_password(" ".join(reason.split()))
