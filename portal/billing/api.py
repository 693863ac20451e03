"""JSON endpoints of the billing package (under /api/v1): monthly statements for bureau readers
(finance, officer, auditor, admin) and the contract's own contractor manager (docs/API.md).
Who sees what is workflow.visible_statements; these views parse the query and shape the answer."""
from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.billing import workflow
from portal.billing.entries import rows as entry_rows
from portal.billing.api_schemas import COMMON, ID, STAFFING_KEYS, STATEMENT
from portal.billing.blueprint import api_bp
from portal.billing.models import Statement
from portal.core import months, query
from portal.core.auth import capability_required
from portal.core.openapi import json_response, operation, problem
from portal.core.pagination import page_url, paginate
from portal.core.timeutil import to_local
from portal.extensions import db

PER_PAGE = 20


def _iso(moment):
    return to_local(moment).isoformat() if moment is not None else None


def line_json(line, entries=None):
    body = {"id": line.id, "position": line.position, "kind": line.kind, "description": line.description,
            "service_item_id": line.service_item_id, "units": line.units, "unit_price_fen": line.unit_price_fen,
            "multiplier": line.multiplier, "amount_fen": line.amount_fen, "verified_units": line.verified_units,
            "monthly_cap": line.monthly_cap, "quota_left": line.quota_left, "disputed": line.disputed,
            "dispute_note": line.dispute_note or ""}
    if line.pays_visits:
        body["unpaid_units"] = line.unpaid_units
        if (line.details or {}).get("limited_by"):
            body["limited_by"] = line.details["limited_by"]
    if line.kind in ("deduction_carried_forward",):
        body["from_statements"] = (line.details or {}).get("from_statements", [])
    if (line.details or {}).get("stations") is not None:
        body["station_ids"] = [station["id"] for station in line.details["stations"]]
    if line.kind == "deduction_staffing":
        body["staffing"] = {key: (line.details or {}).get(key) for key in STAFFING_KEYS}
    if entries is not None:
        details = line.details or {}
        body["visit_ids"] = entries.get(line.id, {}).get("visits", [])
        body["violation_ids"] = entries.get(line.id, {}).get("violations", [])
        if "unpaid_visit_ids" in details:
            body["unpaid_visit_ids"] = details["unpaid_visit_ids"]
    return body


def statement_json(statement, entries=None):
    """A statement as the API gives it; with ``entries`` ({line id: {"visits", "violations"}})
    each line also names the visits and violations behind it. The uncovered deductions carried to
    the next statement are ``carried_out_fen`` and the ``carried_out`` line (or null)."""
    lines = statement.lines
    carried = [line for line in lines if line.kind == "carried_out"]
    return {
        "id": statement.id, "number": statement.number, "contract_id": statement.contract_id,
        "contract_number": statement.contract.number, "month": statement.month, "status": statement.status,
        "gross_fen": statement.gross_fen, "deductions_fen": statement.deductions_fen, "net_fen": statement.net_fen,
        "computed_at": _iso(statement.computed_at), "sent_at": _iso(statement.sent_at),
        "responded_at": _iso(statement.responded_at), "dispute_reason": statement.dispute_reason or "",
        "approved_at": _iso(statement.approved_at),
        "paid_on": statement.paid_on.isoformat() if statement.paid_on else None,
        "payment_reference": statement.payment_reference or "",
        "lines": [line_json(line, entries) for line in lines if not line.is_deduction and line.kind != "carried_out"],
        "deductions": [line_json(line, entries) for line in lines if line.is_deduction],
        "carried_out_fen": sum(line.amount_fen for line in carried),
        "carried_out": line_json(carried[0], entries) if carried else None,
    }


def _filters():
    """month and contract id of the query (core/query.py: the contract of every list)."""
    month = query.month_arg()
    contract_id = query.id_arg("contract_id", _("Give a contract id (a whole number)."))
    return (months.month_text(month) if month else ""), contract_id


@api_bp.get("/settlements")
@operation({
    "summary": "Monthly statements (finance, officer, auditor, admin; the contract's contractor manager from "
               "'sent' on)", "tags": ["settlements"],
    "parameters": [
        {"name": "contract_id", "in": "query", "schema": ID},
        {"name": "month", "in": "query", "schema": {"type": "string", "pattern": "^\\d{4}-\\d{2}$"}},
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
    "responses": {"200": json_response("A page of 20 statements", {"type": "object", "properties": {
        "items": {"type": "array", "items": STATEMENT}, "page": ID, "per_page": ID, "total": ID,
        "next": {"type": ["string", "null"]}}}), **COMMON, "422": problem("Bad month, contract id or page")}})
@capability_required("statement.read")
def list_settlements():
    """A page of 20 statements the caller may see, newest month first, filtered by contract and
    month; ``next`` links the following page."""
    month, contract_id = _filters()
    stmt = workflow.visible_statements(current_user)
    if month:
        stmt = stmt.where(Statement.month == month)
    if contract_id is not None:
        stmt = stmt.where(Statement.contract_id == contract_id)
    page = paginate(stmt.options(selectinload(Statement.lines), selectinload(Statement.contract))
                    .order_by(Statement.month.desc(), Statement.contract_id, Statement.id), per_page=PER_PAGE)
    return jsonify({"items": [statement_json(s) for s in page.items], "page": page.page, "per_page": page.per_page,
                    "total": page.total, "next": page_url(page.next_num) if page.has_next else None})


@api_bp.get("/settlements/<int:statement_id>")
@operation({
    "summary": "One statement with the visits and violations behind each line", "tags": ["settlements"],
    "parameters": [{"name": "statement_id", "in": "path", "required": True, "schema": ID}],
    "responses": {"200": json_response("The statement", STATEMENT), **COMMON,
                  "404": problem("No such statement for the caller")}})
@capability_required("statement.read")
def get_settlement(statement_id):
    """One statement with the visits and violations behind each line."""
    return jsonify(full_statement_json(workflow.statement_for(current_user, statement_id)))


def full_statement_json(statement):
    """statement_json with the visits and violations behind each line (paid, penalised or clawed
    back; the visits left over the cap or quota are the line's ``unpaid_visit_ids``)."""
    behind = {}
    kept = entry_rows(statement)
    rows = db.session.execute(select(kept.c.line_id, kept.c.visit_id, kept.c.violation_id)
                              .where(kept.c.role != "capped").order_by(kept.c.line_id, kept.c.seq_a, kept.c.seq_b))
    for line_id, visit_id, violation_id in rows:
        bucket = behind.setdefault(line_id, {"visits": [], "violations": []})
        if visit_id is not None:
            bucket["visits"].append(visit_id)
        if violation_id is not None:
            bucket["violations"].append(violation_id)
    return statement_json(statement, behind)

