"""JSON endpoints of assessments (under /api/v1, docs/API.md ``POST /api/v1/assessments``):
recording from the phone or the field web app, reading by role, photos. The rules live in
assessments/recording.py; these views parse the request and shape the answer."""
from flask import jsonify, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import UnsupportedMediaType

from portal.api.body import json_body
from portal.assessments import recording
from portal.assessments.blueprint import api_bp
from portal.assessments.models import ASSESSMENT_STATUSES, CARE_CLASSES, INDICATORS, Assessment
from portal.core import query
from portal.core.auth import capability_required
from portal.core.crypto import mask_name
from portal.core.months import month_bounds
from portal.core.openapi import json_response, operation, problem
from portal.core.pagination import page_url, paginate
from portal.core.timeutil import to_local, utcnow
from portal.files.services import serve
from portal.visits.api_schemas import COMMON, ID, TIME, WRITE, request_body

PER_PAGE = 50
_CLASS = {"type": "string", "enum": list(CARE_CLASSES)}
ASSESSMENT = {
    "type": "object",
    "required": ["id", "client_id", "not_met", "care_class", "status", "beneficiary", "indicators", "photos"],
    "properties": {
        "id": ID, "client_id": {"type": "string", "format": "uuid"},
        "not_met": {"type": "integer", "minimum": 0, "maximum": len(INDICATORS)},
        "care_class": _CLASS, "final_class": {"oneOf": [_CLASS, {"type": "null"}]},
        "status": {"type": "string", "enum": list(ASSESSMENT_STATUSES)},
        "kind": {"type": "string", "enum": ["initial", "reassessment"]},
        "beneficiary": {"type": "object", "required": ["id", "display_name"], "properties": {
            "id": ID, "display_name": {"type": "string", "description": "The masked name (张*丰)"}}},
        "contract_id": ID, "visit_id": {"type": ["integer", "null"]}, "assessed_at": TIME,
        "lat": {"type": "number"}, "lon": {"type": "number"},
        "distance_from_home_m": {"type": ["integer", "null"]},
        "indicators": {"type": "object", "properties": {name: {"type": "boolean"} for name in INDICATORS}},
        "notes": {"type": "string"}, "photos": {"type": "array", "items": ID}, "received_at": TIME,
    },
}
ASSESSMENT_ID = {"name": "assessment_id", "in": "path", "required": True, "schema": ID}


def _iso(moment):
    return to_local(moment).isoformat() if moment is not None else None


def assessment_json(assessment):
    """An assessment as docs/API.md fixes it: the masked name only, never the person's data."""
    return {
        "id": assessment.id, "client_id": assessment.client_id, "not_met": assessment.not_met,
        "care_class": assessment.care_class, "status": assessment.status, "final_class": assessment.final_class,
        "kind": assessment.kind,
        "beneficiary": {"id": assessment.beneficiary_id, "display_name": mask_name(assessment.beneficiary.name)},
        "contract_id": assessment.contract_id, "visit_id": assessment.visit_id,
        "assessed_at": _iso(assessment.assessed_at), "lat": assessment.lat, "lon": assessment.lon,
        "distance_from_home_m": assessment.distance_from_home_m,
        "indicators": {name: bool((assessment.indicators or {}).get(name)) for name in INDICATORS},
        "notes": assessment.notes or "", "photos": [p.id for p in assessment.photos],
        "received_at": _iso(assessment.received_at),
    }


def _source():
    """The field web app says so in a header (as for visits); everything else is the phone app."""
    return "web" if request.headers.get("X-Visit-Source", "").strip().lower() == "web" else "app"


@api_bp.post("/assessments")
@operation({
    "summary": "Record a self-care assessment at the person's home (assessor); the client_id makes the upload "
               "idempotent", "tags": ["assessments"],
    "description": "Records the home visit too (checked like any visit: roster, geofence, eligibility). "
                   "Send header X-Visit-Source: web from the field web app.",
    "requestBody": request_body(recording.ASSESSMENT_SCHEMA),
    "responses": {"201": json_response("Recorded", ASSESSMENT),
                  "200": json_response("The same client_id and body again", ASSESSMENT), **WRITE,
                  "404": problem("The person is not assigned to an assessment contract of the assessor's contractor"),
                  "409": problem("The same client_id with a different body, or from another assessor")}})
@capability_required("assessment.record")
def create_assessment():
    """Record one assessment; the same client_id and body again answers 200 with the same one."""
    payload = json_body(recording.ASSESSMENT_SCHEMA)
    assessment, created = recording.record_assessment(payload, current_user, utcnow(), source=_source())
    response = jsonify(assessment_json(assessment))
    response.status_code = 201 if created else 200
    if created:
        response.headers["Location"] = url_for(".get_assessment", assessment_id=assessment.id)
    return response


@api_bp.get("/assessments/<int:assessment_id>")
@operation({
    "summary": "One assessment (its assessor, the contractor's manager, bureau readers)", "tags": ["assessments"],
    "parameters": [ASSESSMENT_ID],
    "responses": {"200": json_response("The assessment", ASSESSMENT), **COMMON,
                  "404": problem("No such assessment for the caller")}})
@capability_required("assessment.read")
def get_assessment(assessment_id):
    return jsonify(assessment_json(recording.visible_assessment(assessment_id, current_user)))


@api_bp.get("/assessments")
@operation({
    "summary": "A page of 50 assessments the caller may see, newest first", "tags": ["assessments"],
    "parameters": [
        {"name": "month", "in": "query", "schema": {"type": "string", "pattern": "^\\d{4}-\\d{2}$"}},
        {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(ASSESSMENT_STATUSES)}},
        {"name": "beneficiary_id", "in": "query", "schema": ID},
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
    "responses": {"200": json_response("A page of assessments", {"type": "object", "properties": {
        "items": {"type": "array", "items": ASSESSMENT}, "page": ID, "per_page": ID, "total": ID,
        "next": {"type": ["string", "null"]}}}), **COMMON, "422": problem("Bad month, status or id")}})
@capability_required("assessment.read")
def list_assessments():
    """A page of 50 of the assessments the caller may see, newest first, filtered by month
    (Beijing time), status and person; ``next`` links the following page."""
    stmt = recording.assessments_visible_to(current_user)
    month, status = query.month_arg(), query.choice_arg("status", ASSESSMENT_STATUSES)
    beneficiary_id = query.id_arg("beneficiary_id")
    if month:
        start, end = month_bounds(month)
        stmt = stmt.where(Assessment.assessed_at >= start, Assessment.assessed_at < end)
    if status:
        stmt = stmt.where(Assessment.status == status)
    if beneficiary_id is not None:
        stmt = stmt.where(Assessment.beneficiary_id == beneficiary_id)
    page = paginate(stmt.options(selectinload(Assessment.beneficiary), selectinload(Assessment.photos))
                    .order_by(Assessment.assessed_at.desc(), Assessment.id.desc()), per_page=PER_PAGE)
    return jsonify({"items": [assessment_json(a) for a in page.items], "page": page.page,
                    "per_page": page.per_page, "total": page.total,
                    "next": page_url(page.next_num) if page.has_next else None})


@api_bp.post("/assessments/<int:assessment_id>/photos")
@operation({
    "summary": "Add a photo to one's own assessment until it is submitted: JPEG or PNG by content, at most 5 MB; "
               "location metadata is removed", "tags": ["assessments"], "parameters": [ASSESSMENT_ID],
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}}}},
    "responses": {"201": json_response("Stored", {"type": "object", "properties": {
        "id": ID, "assessment_id": ID, "uploaded_at": TIME, "content_type": {"type": "string"}, "size": ID}}),
        "200": json_response("The same photo was already stored", {"type": "object"}),
        **COMMON, "404": problem("Not the caller's assessment"),
        "409": problem("The assessment was submitted: its evidence is frozen"), "413": problem("Larger than 5 MB"),
        "415": problem("Not a JPEG or PNG"), "422": problem("No file, or a damaged image")}})
@capability_required("assessment.record")
def add_assessment_photo(assessment_id):
    """Multipart ``file``: a JPEG or PNG (by content) of at most 5 MB, stored without metadata,
    while the assessment is still "recorded" (recording.add_photo)."""
    assessment = recording.own_assessment(assessment_id, current_user)
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType("Send the photo as multipart/form-data with a file field named 'file'.")
    photo, created = recording.add_photo(assessment, request.files.get("file"), current_user, utcnow())
    response = jsonify({"id": photo.id, "assessment_id": assessment.id, "uploaded_at": _iso(photo.uploaded_at),
                        "content_type": photo.file.content_type, "size": photo.file.size})
    response.status_code = 201 if created else 200
    return response


@api_bp.get("/assessments/<int:assessment_id>/photos/<int:photo_id>")
@operation({
    "summary": "A photo of an assessment (its assessor, the contractor's manager, bureau readers)",
    "tags": ["assessments"],
    "parameters": [ASSESSMENT_ID, {"name": "photo_id", "in": "path", "required": True, "schema": ID}],
    "responses": {"200": {"description": "The image", "content": {
        "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
        "image/png": {"schema": {"type": "string", "format": "binary"}}}},
        **COMMON, "404": problem("No such photo for the caller")}})
@capability_required("assessment.read")
def get_assessment_photo(assessment_id, photo_id):
    """The photo itself, to the assessor, the contractor's manager and the bureau only."""
    photo = recording.assessment_photo(recording.visible_assessment(assessment_id, current_user), photo_id)
    return serve(photo.file, as_attachment=False)
