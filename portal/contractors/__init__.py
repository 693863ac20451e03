"""Contractors (承接主体): registration with each bureau, documents, the blacklist (失信名单)
and the staff roster (人员名册) with monthly employment evidence (docs/DOMAIN.md §4)."""
