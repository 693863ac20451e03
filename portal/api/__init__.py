"""The JSON API base: health checks and the OpenAPI document."""
from flask import Blueprint

bp = Blueprint("api", __name__)

