"""Contracts, service items and quotas, beneficiaries and assignments (docs/DOMAIN.md §5–6)."""
