"""Accounts: sign-in, sessions, the bureau's users, API tokens."""
