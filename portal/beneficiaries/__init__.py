"""Beneficiaries (服务对象): the bureau's registry of the people served, the most sensitive data
of the portal — ID numbers encrypted, never on a public page, contractors see only those
assigned to their contracts (docs/DOMAIN.md §6)."""
