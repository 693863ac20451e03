"""Tenancy: bureaus, their settings and calendars, the platform admin's pages (/platform/…) and
the bureau administrator's settings page (/settings/)."""
