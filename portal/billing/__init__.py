"""Monthly settlement, deductions, approval and the budget view (docs/DOMAIN.md §8)."""
