"""Visits (docs/DOMAIN.md §6): recording from the phone and the field web app, the rules V01–V11,
verification, corrections, the exceptions and their answers and decisions, and the visit reports."""
