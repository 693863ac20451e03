"""Public disclosure pages (no sign-in)."""
from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="/public")

