"""Open data in the Open Contracting Data Standard 1.1 (docs/DOMAIN.md §9, docs/API.md "Open data")."""
