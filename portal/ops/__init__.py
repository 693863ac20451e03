"""Operations: backup and restore (backup.py, restore.py) and the rotation of PORTAL_DATA_KEY
(rotation.py), run as `flask --app wsgi …` commands (cli.py; README "Operations")."""
