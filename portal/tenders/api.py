"""JSON endpoints of the tenders package (under /api/v1): published tenders, sealed bids.

What a bid endpoint returns is decided by the seal (tenders/sealing.py), not here: before the
deadline a bureau token finds no bid at all, a contractor's token only its own."""
from flask import Blueprint, jsonify, request
from flask_login import current_user
from sqlalchemy import select

from portal.api.body import json_body
from portal.core.auth import capability_required
from portal.core.errors import NotFound
from portal.core.pagination import paginate
from portal.core.timeutil import utcnow
from portal.extensions import csrf, db
from portal.tenders import bidding
from portal.tenders.models import Bid, Lot, Tender

api_bp = Blueprint("tenders_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)

# The bid, evaluation and award pages live in a second views module on the same ``tenders``
# blueprint; importing it here registers its routes before the app registers the blueprint.
from portal.tenders import bid_views  # noqa: E402,F401


BID_REQUEST = {
    "type": "object",
    "required": ["price_fen", "staff_ids"],
    "properties": {
        "price_fen": {"type": "integer", "minimum": 1, "maximum": 10**15},
        "staff_ids": {"type": "array", "minItems": 1, "maxItems": 500,
                      "items": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}},
        "unit_prices_fen": {"type": "object", "maxProperties": 500,
                            "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 10**15}},
    },
    "additionalProperties": False,
}


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
@capability_required("tender.read")
def get_tender(tender_id):
    return jsonify(tender_json(_published_tender(tender_id), with_lots=True))


@api_bp.get("/tenders/<int:tender_id>/bids")
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
@capability_required("bid.submit")
def get_own_bid(lot_id):
    bid = bidding.own_bid(_lot(lot_id).id, current_user.contractor_id)
    if bid is None:
        raise NotFound("You have no bid on this lot.")
    return jsonify(bid_json(bid))


@api_bp.put("/lots/<int:lot_id>/bid")
@capability_required("bid.submit")
def put_bid(lot_id):
    lot = _lot(lot_id)
    data = json_body(BID_REQUEST)
    existed = bidding.own_bid(lot.id, current_user.contractor_id) is not None
    bid = bidding.submit_bid(lot, current_user, price_fen=data["price_fen"], staff_ids=data["staff_ids"],
                             unit_prices_fen=data.get("unit_prices_fen"), now=utcnow())
    return jsonify(bid_json(bid)), 200 if existed else 201


@api_bp.delete("/lots/<int:lot_id>/bid")
@capability_required("bid.submit")
def delete_bid(lot_id):
    bid = bidding.withdraw_bid(_lot(lot_id), current_user, now=utcnow())
    return jsonify(bid_json(bid))


@api_bp.post("/lots/<int:lot_id>/bid/proposal")
@capability_required("bid.submit")
def post_proposal(lot_id):
    lot = _lot(lot_id)
    bid = bidding.attach_proposal(lot, current_user, request.files.get("file"), now=utcnow())
    return jsonify(bid_json(bid))


def _register_openapi():
    from portal.api.openapi import PATHS, _json, _problem
    tender = {"type": "object", "properties": {
        "id": {"type": "integer"}, "number": {"type": "string"}, "title": {"type": "string"},
        "method": {"type": "string"}, "status": {"type": "string"}, "budget_fen": {"type": "integer"},
        "price_weight_percent": {"type": "integer"},
        "notice_published_at": {"type": ["string", "null"], "format": "date-time"},
        "bid_deadline": {"type": ["string", "null"], "format": "date-time"},
        "lots": {"type": "array", "items": {"type": "object"}}}}
    bid = {"type": "object", "properties": {
        "id": {"type": "integer"}, "lot_id": {"type": "integer"}, "tender_id": {"type": "integer"},
        "contractor": {"type": "object"}, "price_fen": {"type": "integer"},
        "unit_prices_fen": {"type": "object"}, "staff_ids": {"type": "array", "items": {"type": "integer"}},
        "has_proposal": {"type": "boolean"}, "opens_at": {"type": "string", "format": "date-time"},
        "withdrawn_at": {"type": ["string", "null"], "format": "date-time"},
        "valid": {"type": ["boolean", "null"]}, "invalid_reason": {"type": "string"}}}
    lot_param = [{"name": "lot_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    tender_param = [{"name": "tender_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    common = {"401": _problem("Not signed in"), "403": _problem("Role not allowed"),
              "404": _problem("No such object in this bureau (or not yours)")}
    PATHS.update({
        "/api/v1/tenders": {"get": {
            "summary": "Published tenders of the token's bureau", "tags": ["tenders"],
            "parameters": [{"name": "status", "in": "query", "required": False, "schema": {"type": "string"}},
                           {"name": "page", "in": "query", "required": False, "schema": {"type": "integer"}}],
            "responses": {"200": _json("A page of tenders", {"type": "object", "properties": {
                "items": {"type": "array", "items": tender}, "page": {"type": "integer"},
                "pages": {"type": "integer"}, "total": {"type": "integer"}}}), **common}}},
        "/api/v1/tenders/{tender_id}": {"get": {
            "summary": "A tender with its lots, service items and criteria", "tags": ["tenders"],
            "parameters": tender_param, "responses": {"200": _json("The tender", tender), **common}}},
        "/api/v1/tenders/{tender_id}/bids": {"get": {
            "summary": "Bids of a tender: sealed until the deadline (bureau roles get an empty list, a "
                       "contractor manager only its own bids)", "tags": ["bids"], "parameters": tender_param,
            "responses": {"200": _json("Bids the caller may read", {"type": "object", "properties": {
                "tender_id": {"type": "integer"}, "bid_deadline": {"type": ["string", "null"]},
                "items": {"type": "array", "items": bid}}}), **common}}},
        "/api/v1/lots/{lot_id}/bid": {
            "get": {"summary": "The contractor manager's own bid on a lot", "tags": ["bids"],
                    "parameters": lot_param, "responses": {"200": _json("The bid", bid), **common}},
            "put": {"summary": "Submit or change the own sealed bid before the deadline", "tags": ["bids"],
                    "parameters": lot_param,
                    "requestBody": {"required": True, "content": {"application/json": {"schema": BID_REQUEST}}},
                    "responses": {"200": _json("Changed", bid), "201": _json("Submitted", bid),
                                  "400": _problem("Malformed JSON"), "409": _problem("Changed concurrently"),
                                  "415": _problem("Not JSON"),
                                  "422": _problem("Invalid, too late, not allowed to bid"), **common}},
            "delete": {"summary": "Withdraw the own bid before the deadline", "tags": ["bids"],
                       "parameters": lot_param,
                       "responses": {"200": _json("Withdrawn", bid), "422": _problem("Too late or no bid"),
                                     **common}}},
        "/api/v1/lots/{lot_id}/bid/proposal": {"post": {
            "summary": "Attach the technical proposal (a PDF, judged by its content, at most 20 MB)",
            "tags": ["bids"], "parameters": lot_param,
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}}}}}},
            "responses": {"200": _json("The bid with its proposal", bid), "413": _problem("Too large"),
                          "422": _problem("Not a PDF, too late, or no bid yet"), **common}}},
    })


_register_openapi()
