"""Public disclosure pages (no sign-in)."""
