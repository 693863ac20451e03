"""Violations of the subcontracting ban (docs/DOMAIN.md §7): the detectors, the decisions on them,
the contracts flagged for suspension review, and the supervision home."""
