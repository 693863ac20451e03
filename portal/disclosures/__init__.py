"""Disclosure records (docs/DOMAIN.md §9): what the portal publishes, when it was due and when it
went out. A layer below the features: tenders, contracts, scorecards and the budget call
``publish``; open data listens to ``disclosure_published``. This package imports no feature."""
from portal.disclosures.models import DISCLOSURE_KINDS, Disclosure
from portal.disclosures.services import (disclosures_of, flag_late_disclosures, is_late, late_disclosures,
                                         publish)
from portal.disclosures.signals import disclosure_published

__all__ = ["DISCLOSURE_KINDS", "Disclosure", "disclosure_published", "disclosures_of", "flag_late_disclosures",
           "is_late", "late_disclosures", "publish"]
