"""GraphQL selections that several test modules ask for."""

from __future__ import annotations

from typing import Final

# Every field of a connection and of its four relations (bench/run.py asks the same).
EVERY_CONNECTION_FIELD: Final = """
    id connectionTypeId reference statusTypeId levelId amps voltage powerKw currentTypeId
    quantity comments chargePointId
    connectionType { id title formalName isDiscontinued isObsolete }
    statusType { id title isOperational isUserSelectable }
    level { id title comments isFastChargeCapable }
    currentType { id title description }
"""

# Every field of a change-log snapshot (ConnectionInfoSnapshot).
EVERY_SNAPSHOT_FIELD: Final = """
    connectionInfoId chargePointId connectionTypeId statusTypeId levelId currentTypeId
    amps voltage powerKw quantity reference comments
"""
