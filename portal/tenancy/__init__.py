"""Tenancy: bureaus, their settings and calendars, and the platform admin's pages."""
from flask import Blueprint

bp = Blueprint("tenancy", __name__, url_prefix="/platform")

