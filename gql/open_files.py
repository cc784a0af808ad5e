"""The process's limit on open files, raised so that connections meet our own cap.

Every connection holds a file descriptor. At the usual soft limit of 1,024, a flood of
slow clients exhausts descriptors before the connection cap or the timeouts act: the
accept loop then fails with EMFILE and every other client is refused. Like the Go
runtime, `serve` raises the soft limit to the hard limit (an unprivileged process may)."""

from __future__ import annotations

import logging
import resource

logger = logging.getLogger("gql.open_files")

# Descriptors beyond the connection cap: connections still sending their headers or
# being refused with 503, and the process's own files (database, WAL, logs).
HEADROOM = 1024


def raise_open_file_limit(max_connections: int) -> int:
    """Raises the soft limit on open files; returns it. Warns when the hard limit leaves
    less than ``max_connections`` plus headroom."""
    wanted = max_connections + HEADROOM
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as error:
            logger.warning(
                "cannot raise the open-file limit from %d to %d: %s", soft, target, error
            )
    if soft != resource.RLIM_INFINITY and soft < wanted:
        logger.warning(
            "the open-file limit is %d (hard limit %d), below max_connections (%d) plus %d "
            "for headroom: a flood of connections may be refused by the OS before the "
            "connection cap applies; raise the hard limit (ulimit -Hn, LimitNOFILE=) or "
            "lower OCM_GQL_MAX_CONNECTIONS",
            soft,
            hard,
            max_connections,
            HEADROOM,
        )
    return soft
