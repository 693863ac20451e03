"""Pages of contractor onboarding (organisation, documents, bureau decisions, blacklist) and of
the staff roster. Views parse the request, call one service and render or redirect; the modules
are named in contractors/blueprint.py."""
