"""Quarterly scorecards (docs/DOMAIN.md §7): each contract's score, explained component by
component, its publication, and the monthly trends shown beside it."""
