"""Procurement: budget lines, plans, tenders, bids, evaluation and award (docs/DOMAIN.md §3–4)."""
