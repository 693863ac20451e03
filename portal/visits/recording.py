"""Recording visits as the phone (or the field web app) sends them (docs/DOMAIN.md §6): idempotent
uploads by client id, check-out, photos with their metadata stripped, and corrections that never
overwrite what was recorded. Who may see which visit is decided here too (``visits_visible_to``).

Verification is not done here: whenever a visit gets its check-out (or a correction), the rules
run through ``verification.on_checked_out`` in the same transaction."""
import hashlib
import json
import math
import uuid
from datetime import datetime, timezone

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.accounts.permissions import reached
from portal.api.body import schema_errors
from portal.core import query
from portal.core.errors import Conflict, DomainError, NotFound
from portal.core.timeutil import parse_iso_datetime
from portal.extensions import db
from portal.files.imagemeta import BadImage, strip_metadata
from portal.files.models import StoredFile
from portal.files.services import IMAGE_TYPES, MB, sniff, store_upload
from portal.tenancy.scope import TenancyError, current_tenant_id
from portal.visits import intake
from portal.visits.models import Visit, VisitPhoto

CORRECTION_REASONS = ("left_early", "forgot_check_out", "checked_in_early", "device_clock", "other")
MAX_PHOTO_BYTES = 5 * MB
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc)

_POINT = {"at": {"type": "string", "minLength": 1, "maxLength": 64},
          "lat": {"type": "number"}, "lon": {"type": "number"}}
_SERVICES = {"type": ["array", "null"], "maxItems": 50, "items": {"type": "string", "minLength": 1, "maxLength": 64},
             "description": "The catalogue services done (visits.catalogue.CARE_SERVICES)"}
# A check-out may carry the services done, ticked at the end of the visit (the field web app), and
# a note: why the worker checked out anyway (before the item's minimum minutes, rule V03), added to
# the visit's notes for the supervisor.
CHECK_OUT_NOTE = {"type": ["string", "null"], "maxLength": 2000,
                  "description": "Why the worker checked out anyway (e.g. before the item's minimum minutes); "
                                 "added to the visit's notes"}
CHECK_OUT_SCHEMA = {"type": "object", "required": ["at", "lat", "lon"],
                    "properties": {**_POINT, "services": _SERVICES, "note": CHECK_OUT_NOTE}}
VISIT_SCHEMA = {
    "type": "object",
    "required": ["client_id", "beneficiary_id", "service_item", "device_id", "check_in"],
    "properties": {
        "client_id": {"type": "string", "minLength": 32, "maxLength": 36,
                      "description": "A UUID made by the phone; the same id is never stored twice"},
        "beneficiary_id": query.ID_SCHEMA,
        "service_item": {"type": "string", "minLength": 1, "maxLength": 32},
        "device_id": {"type": "string", "minLength": 1, "maxLength": 100},
        "check_in": {"type": "object", "required": ["at", "lat", "lon"],
                     "properties": {**_POINT, "accuracy_m": {"type": ["number", "null"], "minimum": 0}}},
        "check_out": {"type": ["object", "null"], "required": ["at", "lat", "lon"], "properties": _POINT},
        "services": _SERVICES,
        "notes": {"type": ["string", "null"], "maxLength": 2000,
                  "description": "The worker's notes, e.g. why they checked in anyway far from the home (V02)"},
    },
}
CORRECTION_SCHEMA = {
    "type": "object", "required": ["reason_code"],
    "properties": {"check_in_at": {"type": ["string", "null"], "maxLength": 64},
                   "check_out_at": {"type": ["string", "null"], "maxLength": 64},
                   "reason_code": {"type": "string", "enum": list(CORRECTION_REASONS)},
                   "note": {"type": ["string", "null"], "maxLength": 2000}},
}


class TooLarge(DomainError):
    status = 413


class WrongMediaType(DomainError):
    status = 415


def _refuse(field, message, status_class=DomainError):
    raise status_class(message, {field: [message]})


# --- reading the body ---------------------------------------------------------------------------

def checked_time(value, field):
    """ISO 8601 with an offset -> aware UTC datetime, between 2000 and 2100; else 422 on ``field``."""
    try:
        moment = parse_iso_datetime(value)
    except (ValueError, OverflowError, TypeError):
        _refuse(field, _("Give the time in ISO 8601 with an offset, e.g. 2026-11-29T09:30:00+08:00."))
    if not EARLIEST <= moment < LATEST:
        _refuse(field, _("The time is out of range."))
    return moment


def checked_point(point, field, *, accuracy=False):
    """(time, lat, lon[, accuracy]) of a check-in or check-out, with coordinates in range."""
    def name(key):
        return f"{field}.{key}" if field else key
    at = checked_time(point.get("at"), name("at"))
    coordinates = []
    for key, limit in (("lat", 90), ("lon", 180)):
        value = point.get(key)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) \
                or abs(value) > limit:
            _refuse(name(key), _("Give decimal degrees between -%(limit)s and %(limit)s.", limit=limit))
        coordinates.append(float(value))
    if not accuracy:
        return at, *coordinates
    value = point.get("accuracy_m")
    if value is not None and (not math.isfinite(value) or value < 0 or value > 1_000_000):
        _refuse(name("accuracy_m"), _("Give the accuracy in metres."))
    return at, *coordinates, value


def validate_schema(data, schema):
    """The field errors of ``data`` against a JSON Schema, as json_body reports them (for the
    items of a batch, which are read one by one)."""
    errors = schema_errors(data, schema)
    if errors:
        raise DomainError(_("The request body is not valid."), errors)


def body_hash(payload):
    """SHA-256 of the canonical JSON of the body: keys sorted, no spaces, UTF-8."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


# --- who sees which visit -----------------------------------------------------------------------

def visits_visible_to(user):
    """The select of visits ``user`` may read in the current bureau: a field worker their own, a
    contractor manager its organisation's, bureau roles all; anyone else none."""
    return reached(select(Visit), user, own=Visit.worker_user_id, organisation=Visit.contractor_id,
                   read_all="visit.read_all")


def visible_visit(visit_id, user):
    """The visit if ``user`` may read it, else NotFound (never 403)."""
    return query.one_visible(visits_visible_to(user), Visit.id, visit_id, _("No such visit."))


def own_visit(visit_id, user):
    """A visit the signed-in field worker recorded themselves, else NotFound."""
    visit = visible_visit(visit_id, user)
    if visit.worker_user_id != user.id:
        raise NotFound(_("No such visit."))
    return visit


# --- recording ----------------------------------------------------------------------------------

def replay(existing, author, user, digest, message):
    """A client id seen before, for every record the phones send with one (visits, assessments,
    surveys): ``existing`` is the stored record (None when it is gone again), ``author`` the name
    of its column of the user who sent it. The same author and body (``digest``) → ``(existing,
    False)``; otherwise a Conflict saying ``message`` on "client_id"."""
    if existing is None or getattr(existing, author) != user.id or existing.body_hash != digest:
        raise Conflict(message, {"client_id": [message]})
    return existing, False


def add_once(row, found_again):
    """Add the new record ``row`` in a savepoint: ``(row, True)``. When an upload racing this one
    stored the same client id (or the same home visit) first, the unique index refuses the row and
    ``found_again()`` answers instead (the stored record as a replay, or a Conflict)."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        return found_again()
    return row, True


def _replay(existing, user, digest):
    """A client id seen before: the same worker and body → the stored visit; otherwise 409."""
    return replay(existing, "worker_user_id", user, digest,
                  _("This client_id was already used for a different visit."))


def _by_client_id(client_id):
    """The visit stored in this bureau under ``client_id``, if any."""
    return db.session.execute(select(Visit).where(Visit.client_id == client_id)).scalar_one_or_none()


def record_visit(payload, user, now, *, source="app"):
    """Store one visit as sent by a field worker; returns ``(visit, created)`` (an ORM Visit)."""
    visit, created = store_visit(payload, user, now, source=source)
    return (db.session.get(Visit, visit.values["id"]) if created else visit), created


def store_visit(payload, user, now, *, source="app", validated=False):
    """Store one visit as sent by a field worker; returns ``(intake.Stored, True)`` for a new
    visit, ``(stored Visit, False)`` for the same upload again (``validated``: the body was
    already checked against VISIT_SCHEMA).

    The client id makes uploads idempotent: the same id with the same body (SHA-256 of its
    canonical JSON) returns the stored visit; with a different body, or from another worker, it is
    a Conflict — also when two uploads race on the unique (bureau, client id). The person must be
    assigned to a contract of the worker's contractor (else NotFound) and the service item belong
    to it; a body refused so whose client id is stored already answers as the same upload again.
    Future or inverted times are stored as sent: verification flags them (V08). With a check-out
    the single-visit rules judge the visit before it is stored (intake.py)."""
    if not isinstance(payload, dict):
        _refuse("body", _("Each visit must be a JSON object."))
    if not validated:
        validate_schema(payload, VISIT_SCHEMA)
    try:
        client_id = str(uuid.UUID(payload["client_id"]))
    except ValueError:
        _refuse("client_id", _("Give the client id as a UUID."))
    check_in_at, lat, lon, accuracy = checked_point(payload["check_in"], "check_in", accuracy=True)
    check_out = payload.get("check_out")
    out_at, out_lat, out_lon = checked_point(check_out, "check_out") if check_out else (None, None, None)
    digest = body_hash(payload)
    tenant = current_tenant_id()
    if tenant is None:
        raise TenancyError("Visit created outside a tenant scope")
    values = {"tenant_id": tenant, "client_id": client_id, "body_hash": digest,
              "beneficiary_id": payload["beneficiary_id"], "device_id": payload["device_id"],
              "check_in_at": check_in_at, "check_in_lat": lat, "check_in_lon": lon, "check_in_accuracy_m": accuracy,
              "check_out_at": out_at, "check_out_lat": out_lat, "check_out_lon": out_lon,
              "services": list(payload.get("services") or []), "notes": payload.get("notes") or "",
              "source": source, "recorded_live": True, "received_at": now,
              "checked_out_received_at": now if check_out else None}
    try:
        stored = intake.store_new(values, payload["service_item"], user, now)
    except DomainError:
        existing = _by_client_id(client_id)  # the same upload again, though refused now: the stored visit
        if existing is None:
            raise
        return _replay(existing, user, digest)
    if stored is None:  # the client id is taken (an earlier upload, or one racing this one that won)
        return _replay(_by_client_id(client_id), user, digest)  # (a Conflict when gone again by now)
    return stored, True


def _rules_rerun(visit, now):
    from portal.visits import verification
    db.session.flush()
    verification.on_checked_out(visit, now)


def check_out(visit, payload, user, now):
    """Record the check-out of the worker's own visit; returns ``(visit, changed)``. A visit has one
    check-out: sending the same one again changes nothing, a different one is a Conflict. A
    check-out before the check-in is stored as sent (verification flags it, V08). Its
    ``services``, when sent, are the services done: they become the visit's, unless the visit
    already carries other ones (a Conflict; the same ones in another order are the same). Its
    ``note`` (why the worker checked out anyway) is added to the visit's notes; the same check-out
    again adds nothing."""
    if visit.worker_user_id != user.id:
        raise NotFound(_("No such visit."))
    validate_schema(payload, CHECK_OUT_SCHEMA)
    at, lat, lon = checked_point(payload, "")
    services = payload.get("services")
    same_services = services is None or set(services) == set(visit.services or [])  # the order is the phone's
    if visit.check_out_at is not None:
        if (visit.check_out_at, visit.check_out_lat, visit.check_out_lon) == (at, lat, lon) and same_services:
            return visit, False
        raise Conflict(_("This visit already has a different check-out."))
    if not same_services:
        if visit.services:
            raise Conflict(_("This visit already carries other services."), {"services": [
                _("This visit already carries other services.")]})
        visit.services = list(services)
    visit.check_out_at, visit.check_out_lat, visit.check_out_lon = at, lat, lon
    visit.checked_out_received_at = now
    note = (payload.get("note") or "").strip()
    if note:  # why the worker checked out anyway: kept with the visit's notes for the supervisor
        visit.notes = f"{visit.notes}\n{note}" if visit.notes else note
    _rules_rerun(visit, now)
    return visit, True


# --- photos -------------------------------------------------------------------------------------

def checked_photo(file_storage):
    """(bytes, content type, SHA-256) of an uploaded photo, by the photo rules of visits (also
    those of assessments): JPEG or PNG judged by the bytes (else 415), at most 5 MB (else 413),
    EXIF/XMP/IPTC and PNG text chunks — the GPS position among them — removed."""
    if file_storage is None or not getattr(file_storage, "filename", None):
        _refuse("file", _("Choose a file to upload."))
    data = file_storage.stream.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        _refuse("file", _("The file is larger than %(mb)s MB.", mb=MAX_PHOTO_BYTES // MB), TooLarge)
    content_type = sniff(data[:16])
    if content_type not in IMAGE_TYPES:
        _refuse("file", _("Only JPEG and PNG photos are accepted, judged by their content."), WrongMediaType)
    try:
        data = strip_metadata(data, content_type)
    except BadImage:
        _refuse("file", _("The photo is damaged and cannot be read."))
    return data, content_type, hashlib.sha256(data).hexdigest()


def add_photo(visit, file_storage, user, now):
    """Attach a photo to the worker's own visit; returns ``(photo, created)``. JPEG or PNG judged by
    the bytes (else 415), at most 5 MB (else 413); EXIF/XMP/IPTC and PNG text chunks — the GPS
    position among them — are removed before the file is stored. The same photo sent again is
    not stored twice."""
    if visit.worker_user_id != user.id:
        raise NotFound(_("No such visit."))
    data, content_type, digest = checked_photo(file_storage)
    same = db.session.execute(select(VisitPhoto).join(StoredFile, StoredFile.id == VisitPhoto.file_id).where(
        VisitPhoto.visit_id == visit.id, StoredFile.sha256 == digest).limit(1)).scalar_one_or_none()
    if same is not None:
        return same, False
    stored = store_upload(None, data=data, allowed=IMAGE_TYPES, max_bytes=MAX_PHOTO_BYTES, uploaded_by_id=user.id)
    stored.original_name = f"visit-{visit.id}.{'png' if content_type == 'image/png' else 'jpg'}"
    photo = VisitPhoto(visit=visit, file_id=stored.id, uploaded_at=now)  # in visit.photos too, if loaded
    db.session.add(photo)
    db.session.flush()
    from portal.visits import verification
    if hasattr(verification, "on_photo_added"):
        verification.on_photo_added(visit, now)
    return photo, True


def visit_photo(visit, photo_id):
    """A photo of ``visit`` (whose reader was already checked), else NotFound."""
    photo = db.session.get(VisitPhoto, photo_id) if query.is_id(photo_id) else None
    if photo is None or photo.visit_id != visit.id:
        raise NotFound(_("No such photo."))
    return photo


def correct_times(visit, **kwargs):
    """Record adjusted times for a visit: see corrections.correct_times (a manager's correction
    waits for a supervisor's decision)."""
    from portal.visits import corrections
    return corrections.correct_times(visit, **kwargs)
