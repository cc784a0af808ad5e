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

# Every field of a site (ChargePoint) and of its relations, its connections with theirs.
EVERY_SITE_FIELD: Final = f"""
    id uuid title
    address {{ addressLine1 addressLine2 town stateOrProvince postcode countryId
              country {{ id isoCode continentCode title }}
              accessComments relatedUrl contactTelephone1 }}
    location {{ latitude longitude }}
    operatorId operator {{ id title websiteUrl isPrivateIndividual }}
    usageTypeId usageType {{ id title isPayAtLocation isMembershipRequired isAccessKeyRequired }}
    usageCost statusTypeId statusType {{ id title isOperational isUserSelectable }}
    submissionStatusTypeId numberOfPoints generalComments
    dateCreated dateLastStatusUpdate dateLastVerified dataProviderId distanceKm
    connections {{ {EVERY_CONNECTION_FIELD} }}
"""
