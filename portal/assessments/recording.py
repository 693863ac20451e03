"""Recording self-care assessments as the phone (or the field web app) sends them (docs/DOMAIN.md
§6, docs/API.md ``POST /api/v1/assessments``): idempotent uploads by client id, the home visit
recorded with each, photos, who may see which assessment, and the contractor's submission.

An assessment is made during a home visit, so recording one also records that visit through
``portal.visits.recording`` (the service item of unit "assessment" of the contract under which the
worker's contractor serves the person; check-in = check-out = ``assessed_at``). The visit rules
(V01–V11: roster, geofence, eligibility …) judge it like any visit; settlement pays the visit once
its assessment is final."""
import uuid

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.permissions import reached
from portal.audit.recorder import record_event
from portal.contracts.assignments import assigned_item
from portal.core import query
from portal.core.errors import Conflict, DomainError, NotFound
from portal.core.timeutil import to_local
from portal.extensions import db
from portal.files.models import StoredFile
from portal.files.services import IMAGE_TYPES, store_upload
from portal.tenancy.scope import TenancyError, current_tenant_id
from portal.visits import recording as visits
from portal.visits.rules import CLOCK_SKEW
from portal.assessments import signals
from portal.assessments.models import (ASSESSMENT_UNIT, INDICATORS, WITHDRAWN_EVENT, Assessment, AssessmentPhoto,
                                       care_class, not_met_count)

MAX_PHOTO_BYTES = visits.MAX_PHOTO_BYTES
# The visit of an assessment has a client id of its own, derived from the assessment's, so that a
# replayed upload finds the same visit (visit_client_id).
VISIT_NAMESPACE = uuid.UUID("5f0c6f1e-8a51-4d6b-9a4e-17a55e55e417")

ASSESSMENT_SCHEMA = {
    "type": "object",
    "required": ["client_id", "beneficiary_id", "assessed_at", "lat", "lon", "indicators"],
    "properties": {
        "client_id": {"type": "string", "minLength": 32, "maxLength": 36,
                      "description": "A UUID made by the phone; the same id is never stored twice"},
        "beneficiary_id": query.ID_SCHEMA,
        "assessed_at": {"type": "string", "minLength": 1, "maxLength": 64,
                        "description": "ISO 8601 with an offset, e.g. 2026-11-29T09:30:00+08:00"},
        "lat": {"type": "number"}, "lon": {"type": "number"},
        "accuracy_m": {"type": ["number", "null"], "minimum": 0},
        "indicators": {
            "type": "object", "required": list(INDICATORS),
            "properties": {name: {"type": "boolean", "description": "true: the person can do it"}
                           for name in INDICATORS}},
        "notes": {"type": ["string", "null"], "maxLength": 4000},
        "device_id": {"type": ["string", "null"], "minLength": 1, "maxLength": 100},
    },
}


def _refuse(field, message, status_class=DomainError):
    raise status_class(message, {field: [message]})


def visit_client_id(client_id):
    """The client id of the home visit recorded with the assessment of ``client_id``."""
    return str(uuid.uuid5(VISIT_NAMESPACE, str(client_id)))


def _checked_indicators(indicators):
    """``{name: bool}`` over the six indicators; a missing or non-boolean one is a 422 naming each
    (the schema says so too; this also guards callers that skip the schema)."""
    errors = {}
    if not isinstance(indicators, dict):
        _refuse("indicators", _("Give the six indicators, each true or false."))
    for name in INDICATORS:
        if not isinstance(indicators.get(name), bool):
            errors[f"indicators.{name}"] = [_("Say whether the person can do this: true or false.")]
    if errors:
        raise DomainError(_("The request body is not valid."), errors)
    return {name: indicators[name] for name in INDICATORS}


# --- who sees which assessment ------------------------------------------------------------------

def assessments_visible_to(user):
    """The select of assessments ``user`` may read in the current bureau: a field worker their own,
    a contractor manager its organisation's, bureau readers all; anyone else none."""
    return reached(select(Assessment), user, own=Assessment.assessor_user_id,
                   organisation=Assessment.contractor_id, read_all="assessment.read_all")


def visible_assessment(assessment_id, user):
    """The assessment if ``user`` may read it, else NotFound (never 403)."""
    return query.one_visible(assessments_visible_to(user), Assessment.id, assessment_id, _("No such assessment."))


def own_assessment(assessment_id, user):
    """An assessment the signed-in assessor recorded themselves, else NotFound."""
    found = visible_assessment(assessment_id, user)
    if found.assessor_user_id != user.id:
        raise NotFound(_("No such assessment."))
    return found


# --- recording ----------------------------------------------------------------------------------

def _by_client_id(client_id):
    return db.session.execute(select(Assessment).where(Assessment.client_id == client_id)).scalar_one_or_none()


def _replay(existing, user, digest):
    """A client id seen before: the same assessor and body → the stored assessment; otherwise 409."""
    return visits.replay(existing, "assessor_user_id", user, digest,
                         _("This client_id was already used for a different assessment."))


def assessment_item(user, beneficiary_id, day):
    """The service item (of unit "assessment") under which ``user`` assesses the person
    (contracts.assignments.assigned_item: the assignment current on ``day`` preferred)."""
    return assigned_item(user, beneficiary_id, day, ASSESSMENT_UNIT)[0]


def _visit_payload(client_id, payload, item_code, lat, lon, accuracy, user_id):
    """The home visit's body. Without a device id the assessor's own stands in (never one shared
    by every assessor, which V10 would take for a shared phone)."""
    point = {"at": payload["assessed_at"], "lat": lat, "lon": lon}
    return {"client_id": visit_client_id(client_id), "beneficiary_id": payload["beneficiary_id"],
            "service_item": item_code, "device_id": payload.get("device_id") or f"assessment:{user_id}",
            "check_in": {**point, "accuracy_m": accuracy}, "check_out": point}


def record_assessment(payload, user, now, *, source="app"):
    """Store one assessment as sent by an assessor; returns ``(assessment, created)``.

    The client id makes uploads idempotent: the same id with the same body (SHA-256 of its
    canonical JSON) returns the stored assessment; with a different body, or from another
    assessor, it is a Conflict — also when two uploads race on the unique (bureau, client id). The
    person must be assigned to a contract of the assessor's contractor with an item of unit
    "assessment" (else NotFound). The home visit is recorded with it (see the module's doc), so
    the visit's distance from home and its exceptions are the assessment's too."""
    if not isinstance(payload, dict):
        _refuse("body", _("The assessment must be a JSON object."))
    visits.validate_schema(payload, ASSESSMENT_SCHEMA)
    try:
        client_id = str(uuid.UUID(payload["client_id"]))
    except ValueError:
        _refuse("client_id", _("Give the client id as a UUID."))
    indicators = _checked_indicators(payload["indicators"])
    at = visits.checked_time(payload["assessed_at"], "assessed_at")
    if at > now + CLOCK_SKEW:  # a class is never recorded ahead of the visit that found it
        _refuse("assessed_at", _("The assessment time is in the future; check the phone's clock."))
    _at, lat, lon, accuracy = visits.checked_point(
        {"at": payload["assessed_at"], "lat": payload["lat"], "lon": payload["lon"],
         "accuracy_m": payload.get("accuracy_m")}, "", accuracy=True)
    digest = visits.body_hash(payload)
    if current_tenant_id() is None:
        raise TenancyError("Assessment created outside a tenant scope")
    existing = _by_client_id(client_id)
    if existing is not None:
        return _replay(existing, user, digest)
    item = assessment_item(user, payload["beneficiary_id"], to_local(at).date())
    visit, visit_created = visits.record_visit(_visit_payload(client_id, payload, item.code, lat, lon, accuracy,
                                                               user.id),
                                               user, now, source=source)
    if visit_created and not visit.notes:
        # the worker's notes (with the reason for a check-in far from the home) on the home visit too,
        # for the supervisor deciding its V02; set after the visit's body hash, which stays as sent
        visit.notes = (payload.get("notes") or "").strip()
    earlier = db.session.execute(select(Assessment.id).where(
        Assessment.beneficiary_id == payload["beneficiary_id"], Assessment.status != "withdrawn").limit(1)).first()
    not_met = not_met_count(indicators)
    assessment = Assessment(
        client_id=client_id, body_hash=digest, kind="reassessment" if earlier else "initial",
        contract_id=visit.contract_id, contractor_id=user.contractor_id, beneficiary_id=payload["beneficiary_id"],
        assessor_user_id=user.id, staff_id=visit.staff_id, visit_id=visit.id, assessed_at=at, lat=lat, lon=lon,
        distance_from_home_m=visit.distance_from_home_m, indicators=indicators, not_met=not_met,
        care_class=care_class(not_met), notes=(payload.get("notes") or "").strip(), source=source,
        received_at=now, status="recorded")
    assessment, created = visits.add_once(assessment, lambda: _replay(_by_client_id(client_id), user, digest))
    if created:
        signals.assessment_recorded.send(assessment)
    return assessment, created


# --- photos -------------------------------------------------------------------------------------

def add_photo(assessment, file_storage, user, now):
    """Attach a photo to the assessor's own assessment; returns ``(photo, created)``. The visit
    photo rules (visits.checked_photo: JPEG or PNG by content, at most 5 MB, metadata removed);
    the same photo again is not stored twice.

    The evidence is frozen once the contractor submits the assessment (docs/DOMAIN.md §6): only a
    "recorded" one takes a new photo, anything later is a Conflict. The row is read afresh under an
    exclusive lock, so a submission committing meanwhile is seen, and an upload retried while the
    first is still being stored waits for it and finds its photo.
    A photo already stored is still answered (200) after the submission: a phone resending one
    whose answer it lost must not see a refusal of what the server has."""
    if assessment.assessor_user_id != user.id:
        raise NotFound(_("No such assessment."))
    data, content_type, digest = visits.checked_photo(file_storage)
    db.session.refresh(assessment, ["status"], with_for_update=True)
    same = db.session.execute(select(AssessmentPhoto).join(StoredFile, StoredFile.id == AssessmentPhoto.file_id)
                              .where(AssessmentPhoto.assessment_id == assessment.id, StoredFile.sha256 == digest)
                              .limit(1)).scalar_one_or_none()
    if same is not None:
        return same, False
    if assessment.status != "recorded":
        message = _("Photos can be added only until the assessment is submitted: its evidence is now frozen.")
        raise Conflict(message, {"file": [message]})
    stored = store_upload(None, data=data, allowed=IMAGE_TYPES, max_bytes=MAX_PHOTO_BYTES, uploaded_by_id=user.id)
    stored.original_name = f"assessment-{assessment.id}.{'png' if content_type == 'image/png' else 'jpg'}"
    photo = AssessmentPhoto(assessment=assessment, file_id=stored.id, uploaded_at=now)
    db.session.add(photo)
    db.session.flush()
    return photo, True


def assessment_photo(assessment, photo_id):
    """A photo of ``assessment`` (whose reader was already checked), else NotFound."""
    photo = db.session.get(AssessmentPhoto, photo_id) if query.is_id(photo_id) else None
    if photo is None or photo.assessment_id != assessment.id:
        raise NotFound(_("No such photo."))
    return photo


# --- submission by the contractor ---------------------------------------------------------------

def _own_contractors(assessment, user):
    """NotFound unless ``user`` is a manager of the assessment's contractor."""
    if not user.can("assessment.submit") or not user.contractor_id or assessment.contractor_id != user.contractor_id:
        raise NotFound(_("No such assessment."))


def submit(assessments, user, now):
    """The contractor's manager submits recorded assessments of their own contractor to the
    bureau (recorded → submitted); returns those submitted. One of another contractor is a
    NotFound, one no longer recorded a 422 naming it: nothing is submitted then."""
    chosen = list(assessments)
    for assessment in chosen:
        _own_contractors(assessment, user)
        if assessment.status != "recorded":
            message = _("Assessment %(id)s is not waiting to be submitted.", id=assessment.id)
            raise DomainError(message, {"assessments": [message]})
    for assessment in chosen:
        assessment.status, assessment.submitted_at, assessment.submitted_by_id = "submitted", now, user.id
    db.session.flush()
    if chosen:
        record_event(db.session, "assessments_submitted", tenant_id=current_tenant_id(), actor=user,
                     object_type="Assessment", object_id=",".join(str(a.id) for a in chosen)[:200],
                     after={"count": len(chosen)})
    return chosen


def withdraw(assessment, user, now, reason):
    """The contractor's manager takes back a mistaken assessment before its publicity (recorded or
    submitted → withdrawn); it is kept, never deleted. The reason is required."""
    _own_contractors(assessment, user)
    reason = (reason or "").strip()
    if not reason:
        _refuse("reason", _("Say why the assessment is withdrawn."))
    # read afresh and locked: an officer opening a round at the same moment is seen, never overwritten
    db.session.refresh(assessment, ["status", "publicity_id"], with_for_update=True)
    if assessment.status not in ("recorded", "submitted") or assessment.publicity_id is not None:
        _refuse("assessment", _("Only an assessment not yet in publicity can be withdrawn."))
    assessment.status = "withdrawn"
    db.session.flush()
    signals.assessment_withdrawn.send(assessment)
    record_event(db.session, WITHDRAWN_EVENT, tenant_id=current_tenant_id(), actor=user,
                 object_type="Assessment", object_id=str(assessment.id),
                 after={"reason": reason[:500], "at": now.isoformat()})
    return assessment
