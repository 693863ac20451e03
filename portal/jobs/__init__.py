"""Background jobs: the queue, the periodic schedule, the admin page."""
from flask import Blueprint

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

