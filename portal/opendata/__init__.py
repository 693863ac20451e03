"""Open data in the Open Contracting Data Standard 1.1 (DOMAIN.md §9, API.md "Open data")."""
from flask import Blueprint

bp = Blueprint("opendata", __name__)
