"""JSON endpoints of visits (under /api/v1): recording visits from the phone
or the field web app, reading them by role, photos and corrections (docs/API.md). The rules
live in visits/recording.py; these views parse the request and shape the answer."""

from flask import jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from portal.api.body import ValidationFailed, json_body, unstorable_fields
from portal.core import query
from portal.core.auth import capability_required
from portal.core.crypto import mask_name
from portal.core.errors import DomainError
from portal.core.http import PROBLEM_TITLES
from portal.core.months import month_bounds
from portal.core.openapi import json_response, operation, problem
from portal.core.pagination import page_url, paginate
from portal.core.timeutil import to_local, utcnow
from portal.extensions import db
from portal.files.services import serve
from portal.visits import recording
from portal.visits.api_schemas import COMMON, ID, TIME, VISIT, VISIT_ID, WRITE, request_body
from portal.visits.blueprint import api_bp
from portal.visits.models import VISIT_STATUSES, Visit

MAX_BATCH = 500
PER_PAGE = 50
BATCH_SCHEMA = {"type": "object", "required": ["visits"], "properties": {
    "visits": {"type": "array", "maxItems": MAX_BATCH, "items": {"type": "object"}}}}

def _iso(moment):
    return to_local(moment).isoformat() if moment is not None else None


def visit_json(visit):
    """A visit as docs/API.md fixes it (masked name only), plus the contract, source and services."""
    body = {
        "id": visit.id, "client_id": visit.client_id, "status": visit.status,
        "exceptions": [{"id": e.id, "code": e.code, "message": e.message, "warning": e.warning, "status": e.status}
                       for e in visit.exceptions],
        "beneficiary": {"id": visit.beneficiary_id, "display_name": mask_name(visit.beneficiary.name)},
        "contract_id": visit.contract_id, "service_item": visit.service_item.code,
        "device_id": visit.device_id, "source": visit.source,
        "check_in": {"at": _iso(visit.check_in_at), "lat": visit.check_in_lat, "lon": visit.check_in_lon,
                     "accuracy_m": visit.check_in_accuracy_m},
        "check_out": None if visit.check_out_at is None else {
            "at": _iso(visit.check_out_at), "lat": visit.check_out_lat, "lon": visit.check_out_lon},
        "services": list(visit.services or []), "notes": visit.notes or "",
        "distance_from_home_m": visit.distance_from_home_m, "recorded_live": visit.recorded_live,
        "received_at": _iso(visit.received_at), "photos": [p.id for p in visit.photos],
    }
    latest = visit.standing_correction
    if latest is not None:  # the correction standing: in force (accepted) or waiting for a supervisor
        body["adjusted_check_in"] = _iso(latest.adjusted_check_in_at)
        body["adjusted_check_out"] = _iso(latest.adjusted_check_out_at)
        body["correction"] = {"id": latest.id, "reason_code": latest.reason_code, "note": latest.note,
                              "made_at": _iso(latest.made_at), "status": latest.status,
                              "decided_at": _iso(latest.decided_at)}
    return body


def stored_json(stored):
    """visit_json of a visit just stored by intake.py, from the values written (no ORM load)."""
    v = stored.values
    return {
        "id": v["id"], "client_id": v["client_id"], "status": v["status"],
        "exceptions": [{"id": e["id"], "code": e["code"], "message": e["message"], "warning": e["warning"],
                        "status": e["status"]} for e in stored.exceptions],
        "beneficiary": {"id": v["beneficiary_id"], "display_name": mask_name(stored.beneficiary_name)},
        "contract_id": v["contract_id"], "service_item": stored.service_item,
        "device_id": v["device_id"], "source": v["source"],
        "check_in": {"at": _iso(v["check_in_at"]), "lat": v["check_in_lat"], "lon": v["check_in_lon"],
                     "accuracy_m": v["check_in_accuracy_m"]},
        "check_out": None if v["check_out_at"] is None else {
            "at": _iso(v["check_out_at"]), "lat": v["check_out_lat"], "lon": v["check_out_lon"]},
        "services": list(v["services"]), "notes": v["notes"],
        "distance_from_home_m": v["distance_from_home_m"], "recorded_live": v["recorded_live"],
        "received_at": _iso(v["received_at"]), "photos": [],
    }


def _source():
    """The field web app says so in a header; everything else is the phone app."""
    return "web" if request.headers.get("X-Visit-Source", "").strip().lower() == "web" else "app"


def _saved(visit, created):
    response = jsonify(visit_json(visit))
    response.status_code = 201 if created else 200
    if created:
        response.headers["Location"] = url_for(".get_visit", visit_id=visit.id)
    return response


@api_bp.post("/visits")
@operation({
    "summary": "Record a visit (field worker); the client_id makes the upload idempotent", "tags": ["visits"],
    "description": "Send header X-Visit-Source: web from the field web app.",
    "requestBody": request_body(recording.VISIT_SCHEMA),
    "responses": {"201": json_response("Recorded", VISIT),
                  "200": json_response("The same client_id and body again", VISIT), **WRITE, "404": problem("The beneficiary is not assigned to the worker's contractor"),
                  "409": problem("The same client_id with a different body")}})
@capability_required("visit.record")
def create_visit():
    """Record one visit; the same client_id and body again answers 200 with the same visit. A new
    visit is answered from the values just written (recording.store_visit: a few Core statements)."""
    payload = json_body(recording.VISIT_SCHEMA)
    visit, created = recording.store_visit(payload, current_user, utcnow(), source=_source(), validated=True)
    if not created or visit.changed_since:
        return _saved(visit if not created else db.session.get(Visit, visit.values["id"]), created)
    response = jsonify(stored_json(visit))
    response.status_code = 201
    response.headers["Location"] = url_for(".get_visit", visit_id=visit.values["id"])
    return response


def _batch_items():
    """The ``visits`` list of a batch: the body is read as json_body does (415, 400), but the items
    are checked one by one, so a bad item does not refuse the whole batch."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(_("Send the body as application/json."))
    try:
        data = request.get_json(force=True, silent=False)
    except (BadRequest, RecursionError):
        raise BadRequest(_("The body is not valid JSON.")) from None
    if isinstance(data, dict) and isinstance(data.get("visits"), list) and len(data["visits"]) > MAX_BATCH:
        raise ValidationFailed(_("At most %(n)s visits per batch.", n=MAX_BATCH),
                               {"visits": [_("At most %(n)s visits per batch.", n=MAX_BATCH)]})
    recording.validate_schema(data, {**BATCH_SCHEMA, "properties": {"visits": {"type": "array"}}})
    return data["visits"]


def _problem_json(exc):
    body = {"type": "about:blank", "title": PROBLEM_TITLES.get(exc.status, "Error"), "status": exc.status,
            "detail": exc.message}
    if exc.errors:
        body["errors"] = exc.errors
    return body


@api_bp.post("/visits:batch")
@operation({
    "summary": "Record up to 500 visits; one result per item, in order", "tags": ["visits"],
    "requestBody": request_body({"type": "object", "required": ["visits"], "properties": {
        "visits": {"type": "array", "maxItems": 500, "items": recording.VISIT_SCHEMA}}}),
    "responses": {"200": json_response("A result per item", {"type": "object", "properties": {"results": {
        "type": "array", "items": {"type": "object", "required": ["index", "status"], "properties": {
            "index": ID, "status": {"type": "integer", "enum": [200, 201, 404, 409, 422]}, "visit": VISIT,
            "problem": {"$ref": "#/components/schemas/Problem"}}}}}}),
        **WRITE, "413": problem("Body too large")}})
@capability_required("visit.record")
def create_visits():
    """Record up to 500 visits, each in a savepoint of its own: the answer lists, in order, an
    HTTP-like status per item with the visit or the problem."""
    items, now, source, results = _batch_items(), utcnow(), _source(), []
    for index, item in enumerate(items):
        try:
            with db.session.begin_nested():
                unstorable = unstorable_fields(item)
                if unstorable:
                    raise ValidationFailed(_("The request body is not valid."), unstorable)
                visit, created = recording.record_visit(item, current_user, now, source=source)
            results.append({"index": index, "status": 201 if created else 200, "visit": visit_json(visit)})
        except DomainError as exc:
            results.append({"index": index, "status": exc.status, "problem": _problem_json(exc)})
    return jsonify({"results": results})


@api_bp.post("/visits/<int:visit_id>/check-out")
@operation({
    "summary": "Check out of one's own visit (the same check-out again changes nothing)", "tags": ["visits"],
    "parameters": [VISIT_ID], "requestBody": request_body(recording.CHECK_OUT_SCHEMA),
    "responses": {"200": json_response("The visit", VISIT), **WRITE, "404": problem("Not the caller's visit"),
                  "409": problem("A different check-out is already recorded")}})
@capability_required("visit.record")
def check_out_visit(visit_id):
    payload = json_body(recording.CHECK_OUT_SCHEMA)
    visit, _changed = recording.check_out(recording.own_visit(visit_id, current_user), payload, current_user,
                                          utcnow())
    return jsonify(visit_json(visit))


@api_bp.post("/visits/<int:visit_id>/photos")
@operation({
    "summary": "Add a photo: JPEG or PNG by content, at most 5 MB; location metadata is removed",
    "tags": ["visits"], "parameters": [VISIT_ID],
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}}}},
    "responses": {"201": json_response("Stored", {"type": "object", "properties": {
        "id": ID, "visit_id": ID, "uploaded_at": TIME, "content_type": {"type": "string"}, "size": ID,
        "visit": VISIT}}), "200": json_response("The same photo was already stored", {"type": "object"}),
        **COMMON, "404": problem("Not the caller's visit"), "413": problem("Larger than 5 MB"),
        "415": problem("Not a JPEG or PNG"), "422": problem("No file, or a damaged image")}})
@capability_required("visit.record")
def add_visit_photo(visit_id):
    """Multipart ``file``: a JPEG or PNG (by content) of at most 5 MB, stored without metadata."""
    visit = recording.own_visit(visit_id, current_user)
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType("Send the photo as multipart/form-data with a file field named 'file'.")
    photo, created = recording.add_photo(visit, request.files.get("file"), current_user, utcnow())
    response = jsonify({"id": photo.id, "visit_id": visit.id, "uploaded_at": _iso(photo.uploaded_at),
                        "content_type": photo.file.content_type, "size": photo.file.size,
                        "visit": visit_json(visit)})
    response.status_code = 201 if created else 200
    return response


@api_bp.get("/visits/<int:visit_id>/photos/<int:photo_id>")
@operation({
    "summary": "A photo of a visit (its worker, the contractor's manager, bureau roles)", "tags": ["visits"],
    "parameters": [VISIT_ID, {"name": "photo_id", "in": "path", "required": True, "schema": ID}],
    "responses": {"200": {"description": "The image", "content": {
        "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
        "image/png": {"schema": {"type": "string", "format": "binary"}}}},
        **COMMON, "404": problem("No such photo for the caller")}})
@capability_required("visit.read")
def get_visit_photo(visit_id, photo_id):
    """The photo itself, to the worker, the contractor's manager and the bureau only."""
    photo = recording.visit_photo(recording.visible_visit(visit_id, current_user), photo_id)
    return serve(photo.file, as_attachment=False)


@api_bp.get("/visits/<int:visit_id>")
@operation({
    "summary": "One visit (its worker, the contractor's manager, bureau roles)", "tags": ["visits"],
    "parameters": [VISIT_ID],
    "responses": {"200": json_response("The visit", VISIT), **COMMON, "404": problem("No such visit for the caller")}})
@capability_required("visit.read")
def get_visit(visit_id):
    return jsonify(visit_json(recording.visible_visit(visit_id, current_user)))


@api_bp.get("/visits")
@operation({
    "summary": "A page of 50 visits the caller may see, newest first", "tags": ["visits"],
    "parameters": [
        {"name": "month", "in": "query", "schema": {"type": "string", "pattern": "^\\d{4}-\\d{2}$"}},
        {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(VISIT_STATUSES)}},
        {"name": "contract_id", "in": "query", "schema": ID},
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
    "responses": {"200": json_response("A page of visits", {"type": "object", "properties": {
        "items": {"type": "array", "items": VISIT}, "page": ID, "per_page": ID, "total": ID,
        "next": {"type": ["string", "null"]}}}), **COMMON, "422": problem("Bad month or status")}})
@capability_required("visit.read")
def list_visits():
    """A page of 50 of the visits the caller may see, newest check-in first, filtered by month
    (Beijing time), status and contract; ``next`` links the following page."""
    stmt = recording.visits_visible_to(current_user)
    month, status = query.month_arg(), query.choice_arg("status", VISIT_STATUSES)
    contract_id = query.id_arg("contract_id")
    if month:
        start, end = month_bounds(month)
        stmt = stmt.where(Visit.check_in_at >= start, Visit.check_in_at < end)
    if status:
        stmt = stmt.where(Visit.status == status)
    if contract_id is not None:
        stmt = stmt.where(Visit.contract_id == contract_id)
    page = paginate(stmt.options(selectinload(Visit.beneficiary), selectinload(Visit.service_item),
                                 selectinload(Visit.exceptions), selectinload(Visit.photos),
                                 selectinload(Visit.corrections))
                    .order_by(Visit.check_in_at.desc(), Visit.id.desc()), per_page=PER_PAGE)
    return jsonify({"items": [visit_json(v) for v in page.items], "page": page.page, "per_page": page.per_page,
                    "total": page.total, "next": page_url(page.next_num) if page.has_next else None})


@api_bp.post("/visits/<int:visit_id>/corrections")
@operation({
    "summary": "Adjusted times with a reason code (supervisor, contractor manager); only shorter; a manager's "
               "correction waits for a supervisor's decision before it counts",
    "tags": ["visits"], "parameters": [VISIT_ID], "requestBody": request_body(recording.CORRECTION_SCHEMA),
    "responses": {"201": json_response("The visit with its adjusted times", VISIT), **WRITE,
                  "404": problem("No such visit for the caller")}})
@capability_required("visit.correct")
def correct_visit(visit_id):
    """Adjusted times with a reason code (supervisor, or the contractor's manager): only shorter."""
    payload = json_body(recording.CORRECTION_SCHEMA)
    visit = recording.visible_visit(visit_id, current_user)
    recording.correct_times(visit, reason_code=payload["reason_code"], user=current_user, now=utcnow(),
                            check_in_at=payload.get("check_in_at"), check_out_at=payload.get("check_out_at"),
                            note=payload.get("note") or "")
    response = jsonify(visit_json(visit))
    response.status_code = 201
    return response

