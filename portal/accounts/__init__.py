"""Accounts: sign-in, sessions, the bureau's users, API tokens."""
from flask import Blueprint

bp = Blueprint("accounts", __name__)

