"""JSON endpoints of the tenders package (under /api/v1): published tenders, sealed bids.

What a bid endpoint returns is decided by the seal (tenders/sealing.py), not here: before the
deadline a bureau token finds no bid at all, a contractor's token only its own."""
from flask import jsonify, request
from flask_login import current_user
from sqlalchemy import select

from portal.api.body import json_body
from portal.core import query
from portal.core.auth import capability_required
from portal.core.errors import NotFound
from portal.core.openapi import json_response, operation, problem
from portal.core.pagination import paginate
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenders import bidding
from portal.tenders.blueprint import api_bp
from portal.tenders.models import Bid, Lot, Tender


BID_REQUEST = {
    "type": "object",
    "required": ["price_fen", "staff_ids"],
    "properties": {
        "price_fen": {"type": "integer", "minimum": 1, "maximum": 10**15},
        "staff_ids": {"type": "array", "minItems": 1, "maxItems": 500,
                      "items": query.ID_SCHEMA},
        "unit_prices_fen": {"type": "object", "maxProperties": 500,
                            "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 10**15}},
    },
    "additionalProperties": False,
}

# The OpenAPI description of these endpoints (core/openapi.py), declared beside each route.
TENDER = {"type": "object", "properties": {
    "id": {"type": "integer"}, "number": {"type": "string"}, "title": {"type": "string"},
    "method": {"type": "string"}, "status": {"type": "string"}, "budget_fen": {"type": "integer"},
    "price_weight_percent": {"type": "integer"},
    "notice_published_at": {"type": ["string", "null"], "format": "date-time"},
    "bid_deadline": {"type": ["string", "null"], "format": "date-time"},
    "lots": {"type": "array", "items": {"type": "object"}}}}
BID = {"type": "object", "properties": {
    "id": {"type": "integer"}, "lot_id": {"type": "integer"}, "tender_id": {"type": "integer"},
    "contractor": {"type": "object"}, "price_fen": {"type": "integer"},
    "unit_prices_fen": {"type": "object"}, "staff_ids": {"type": "array", "items": {"type": "integer"}},
    "has_proposal": {"type": "boolean"}, "opens_at": {"type": "string", "format": "date-time"},
    "withdrawn_at": {"type": ["string", "null"], "format": "date-time"},
    "valid": {"type": ["boolean", "null"]}, "invalid_reason": {"type": "string"}}}
LOT_PARAM = [{"name": "lot_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
TENDER_PARAM = [{"name": "tender_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
COMMON = {"401": problem("Not signed in"), "403": problem("Role not allowed"),
          "404": problem("No such object in this bureau (or not yours)")}


def _iso(value):
    return value.isoformat() if value is not None else None


def tender_json(tender, with_lots=False):
    body = {"id": tender.id, "number": tender.number, "title": tender.title, "method": tender.method,
            "status": tender.status, "budget_fen": tender.budget_fen,
            "price_weight_percent": tender.price_weight_percent,
            "notice_published_at": _iso(tender.notice_published_at), "bid_deadline": _iso(tender.bid_deadline),
            "retender_of_id": tender.retender_of_id}
    if with_lots:
        body["description"] = tender.description
        body["buyer_contact"] = tender.buyer_contact
        body["lots"] = [{
            "id": lot.id, "number": lot.number, "title": lot.title, "status": lot.status,
            "budget_fen": lot.budget_fen, "max_price_fen": lot.max_price_fen,
            "items": [{"code": i.code, "name": i.name, "unit": i.unit, "quantity": i.quantity,
                       "max_unit_price_fen": i.max_unit_price_fen, "requirements": i.requirements}
                      for i in lot.items],
        } for lot in tender.lots]
        body["criteria"] = [{"kind": c.kind, "name": c.name, "max_points": c.max_points} for c in tender.criteria]
    return body


def bid_json(bid):
    return {"id": bid.id, "lot_id": bid.lot_id, "tender_id": bid.lot.tender_id,
            "contractor": {"id": bid.contractor_id, "name": bid.contractor.name},
            "price_fen": bid.price_fen, "unit_prices_fen": bid.unit_prices_fen or {},
            "staff_ids": bid.staff_ids or [], "has_proposal": bid.proposal_file_id is not None,
            "submitted_at": _iso(bid.submitted_at), "updated_at": _iso(bid.updated_at),
            "withdrawn_at": _iso(bid.withdrawn_at), "opens_at": _iso(bid.opens_at),
            "valid": bid.valid, "invalid_reason": bid.invalid_reason}


def _published_tender(tender_id):
    tender = db.session.get(Tender, tender_id)
    if tender is None or (tender.notice_published_at is None
                          and not current_user.can("tender.read_unpublished")):
        raise NotFound("No such tender.")
    return tender


@api_bp.get("/tenders")
@operation({
    "summary": "Published tenders of the token's bureau", "tags": ["tenders"],
    "parameters": [{"name": "status", "in": "query", "required": False, "schema": {"type": "string"}},
                   {"name": "page", "in": "query", "required": False, "schema": {"type": "integer"}}],
    "responses": {"200": json_response("A page of tenders", {"type": "object", "properties": {
        "items": {"type": "array", "items": TENDER}, "page": {"type": "integer"},
        "pages": {"type": "integer"}, "total": {"type": "integer"}}}), **COMMON}})
@capability_required("tender.read")
def list_tenders():
    stmt = (select(Tender).where(Tender.notice_published_at.is_not(None))
            .order_by(Tender.notice_published_at.desc(), Tender.id.desc()))
    status = request.args.get("status", "")
    if status:
        stmt = stmt.where(Tender.status == status)
    page = paginate(stmt, per_page=50)
    return jsonify({"items": [tender_json(t) for t in page.items], "page": page.page, "pages": page.pages,
                    "total": page.total})


@api_bp.get("/tenders/<int:tender_id>")
@operation({
    "summary": "A tender with its lots, service items and criteria", "tags": ["tenders"],
    "parameters": TENDER_PARAM, "responses": {"200": json_response("The tender", TENDER), **COMMON}})
@capability_required("tender.read")
def get_tender(tender_id):
    return jsonify(tender_json(_published_tender(tender_id), with_lots=True))


@api_bp.get("/tenders/<int:tender_id>/bids")
@operation({
    "summary": "Bids of a tender: sealed until the deadline (bureau roles get an empty list, a "
               "contractor manager only its own bids)", "tags": ["bids"], "parameters": TENDER_PARAM,
    "responses": {"200": json_response("Bids the caller may read", {"type": "object", "properties": {
        "tender_id": {"type": "integer"}, "bid_deadline": {"type": ["string", "null"]},
        "items": {"type": "array", "items": BID}}}), **COMMON}})
@capability_required("tender.read")
def tender_bids(tender_id):
    tender = _published_tender(tender_id)
    bids = db.session.execute(
        select(Bid).join(Lot, Bid.lot_id == Lot.id).where(Lot.tender_id == tender.id)
        .order_by(Lot.number, Bid.id)).scalars().all()
    return jsonify({"tender_id": tender.id, "bid_deadline": _iso(tender.bid_deadline),
                    "items": [bid_json(b) for b in bids]})


def _lot(lot_id):
    return bidding.biddable_lot(lot_id)


@api_bp.get("/lots/<int:lot_id>/bid")
@operation({"summary": "The contractor manager's own bid on a lot", "tags": ["bids"],
            "parameters": LOT_PARAM, "responses": {"200": json_response("The bid", BID), **COMMON}})
@capability_required("bid.submit")
def get_own_bid(lot_id):
    bid = bidding.own_bid(_lot(lot_id).id, current_user.contractor_id)
    if bid is None:
        raise NotFound("You have no bid on this lot.")
    return jsonify(bid_json(bid))


@api_bp.put("/lots/<int:lot_id>/bid")
@operation({"summary": "Submit or change the own sealed bid before the deadline", "tags": ["bids"],
            "parameters": LOT_PARAM,
            "requestBody": {"required": True, "content": {"application/json": {"schema": BID_REQUEST}}},
            "responses": {"200": json_response("Changed", BID), "201": json_response("Submitted", BID),
                          "400": problem("Malformed JSON"), "409": problem("Changed concurrently"),
                          "415": problem("Not JSON"),
                          "422": problem("Invalid, too late, not allowed to bid"), **COMMON}})
@capability_required("bid.submit")
def put_bid(lot_id):
    lot = _lot(lot_id)
    data = json_body(BID_REQUEST)
    existed = bidding.own_bid(lot.id, current_user.contractor_id) is not None
    bid = bidding.submit_bid(lot, current_user, price_fen=data["price_fen"], staff_ids=data["staff_ids"],
                             unit_prices_fen=data.get("unit_prices_fen"), now=utcnow())
    return jsonify(bid_json(bid)), 200 if existed else 201


@api_bp.delete("/lots/<int:lot_id>/bid")
@operation({"summary": "Withdraw the own bid before the deadline", "tags": ["bids"],
            "parameters": LOT_PARAM,
            "responses": {"200": json_response("Withdrawn", BID), "422": problem("Too late or no bid"),
                          **COMMON}})
@capability_required("bid.submit")
def delete_bid(lot_id):
    bid = bidding.withdraw_bid(_lot(lot_id), current_user, now=utcnow())
    return jsonify(bid_json(bid))


@api_bp.post("/lots/<int:lot_id>/bid/proposal")
@operation({
    "summary": "Attach the technical proposal (a PDF, judged by its content, at most 20 MB)",
    "tags": ["bids"], "parameters": LOT_PARAM,
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary"}}}}}},
    "responses": {"200": json_response("The bid with its proposal", BID), "413": problem("Too large"),
                  "422": problem("Not a PDF, too late, or no bid yet"), **COMMON}})
@capability_required("bid.submit")
def post_proposal(lot_id):
    lot = _lot(lot_id)
    bid = bidding.attach_proposal(lot, current_user, request.files.get("file"), now=utcnow())
    return jsonify(bid_json(bid))
