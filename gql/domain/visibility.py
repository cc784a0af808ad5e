"""Which sites are shown by default: the ones OCM itself shows.

OCM lists a site (a POI) only while its submission is live and the site is not removed:
- the submission status is one of OCM's live ones (``IsLive`` in its
  SubmissionStatusTypes list): 100 "Imported and Published" and 200 "Submission
  Published". The others are under review, rejected or delisted. A site without a
  submission status counts as published: OCM's exports hold only published sites, and
  many leave the field out.
- its status is not one of the "Removed" ones: 200 "Removed (Decommissioned)" and
  210 "Removed (Duplicate Listing)". A site without a status is shown.

A filter's ``include_unpublished`` shows every site, as OCM's editors see them.
"""

from __future__ import annotations

from typing import Final

PUBLISHED_SUBMISSION_STATUS_IDS: Final = frozenset({100, 200})
REMOVED_STATUS_TYPE_IDS: Final = frozenset({200, 210})


def is_visible(submission_status_type_id: int | None, status_type_id: int | None) -> bool:
    """Whether OCM shows a site with these statuses (the rule the repository's SQL
    applies, for code that holds a site in hand)."""
    published = (
        submission_status_type_id is None
        or submission_status_type_id in PUBLISHED_SUBMISSION_STATUS_IDS
    )
    return published and status_type_id not in REMOVED_STATUS_TYPE_IDS
