"""Beneficiaries (服务对象): the bureau's registry of the people served, the most sensitive data
of the portal — ID numbers encrypted, never on a public page, contractors see only those
assigned to their contracts (docs/DOMAIN.md §6)."""
from flask import Blueprint

bp = Blueprint("beneficiaries", __name__, url_prefix="/beneficiaries")
# The work-list and assignment pages of a contract (assignment_views.py): they pick people of the
# registry, so they live here, above contracts, under the contract's URL.
assignments_bp = Blueprint("assignments", __name__, url_prefix="/contracts")
