"""Spot checks (docs/DOMAIN.md §7): each month's sample of verified visits, drawn with a recorded
seed, and the phone call-backs and home visits that check them."""
