"""JSON endpoints of stations (under /api/v1, docs/API.md): the phone's check-in at a station and
the month's staffing compliance per station in the fixed shape. The rules live in checkins.py and
compliance.py; these views parse the request and shape the answer."""
from flask import jsonify
from flask_login import current_user

from portal.api.body import json_body
from portal.core import query
from portal.core.auth import capability_required
from portal.core.openapi import json_response, operation, problem
from portal.core.timeutil import utcnow
from portal.stations import checkins
from portal.stations.blueprint import api_bp
from portal.stations.compliance import stations_month
from portal.stations.models import CHECKIN_STATUSES, STATION_KINDS, Station
from portal.stations.stations import stations_visible_to
from portal.visits.api_schemas import COMMON, ID, WRITE, request_body

CHECKIN = {
    "type": "object",
    "required": ["id", "client_id", "station_id", "day", "distance_m", "status", "counted"],
    "properties": {
        "id": ID, "client_id": {"type": "string", "format": "uuid"}, "station_id": ID,
        "day": {"type": "string", "format": "date", "description": "The Beijing day of the check-in"},
        "distance_m": {"type": "integer", "description": "Metres from the station"},
        "status": {"type": "string", "enum": list(CHECKIN_STATUSES),
                   "description": "counted: within the station's geofence; flagged: outside it, not counted "
                                  "unless a supervisor accepts it"},
        "counted": {"type": "boolean", "description": "Whether the staff-day counts now"},
    },
}
STATION_MONTH = {
    "type": "object",
    "required": ["id", "name", "kind", "required_staff", "staff_days_required", "staff_days_present", "compliance"],
    "properties": {
        "id": ID, "name": {"type": "string"}, "kind": {"type": "string", "enum": list(STATION_KINDS)},
        "required_staff": {"type": "integer", "minimum": 1,
                           "description": "The staff required on the month's last counted day (a change takes effect "
                                          "from its day); the station's present value when no day is counted"},
        "staff_days_required": {"type": "integer", "description": "The sum of each counted day's requirement"}, "staff_days_present": {"type": "integer"},
        "compliance": {"type": ["number", "null"], "minimum": 0, "maximum": 1,
                       "description": "present / required, rounded to 4 places; null when nothing was required"},
    },
}


@api_bp.post("/station-checkins")
@operation({
    "summary": "Check in at a station one is posted to (field worker); the client_id makes the upload idempotent",
    "tags": ["stations"],
    "description": "Counted within the station's geofence (its own radius, else the bureau's); outside it, received "
                   "more than the bureau's late_upload_hours after its time, or from a device another worker checked "
                   "in with that day, the check-in is flagged and counts only once a supervisor accepts it. A day "
                   "of a month for which the station's contract already has a statement sent or later is refused "
                   "(422): that month's staffing deduction is fixed.",
    "requestBody": request_body(checkins.CHECKIN_SCHEMA),
    "responses": {"201": json_response("Recorded", CHECKIN),
                  "200": json_response("The same client_id and body again", CHECKIN), **WRITE,
                  "404": problem("No such station in the worker's bureau"),
                  "409": problem("The same client_id with a different body, or from another worker"),
                  "422": problem("Invalid body, a time in the future, not posted to the station that day, or a "
                                 "day of a month whose statement is already sent")}})
@capability_required("station.checkin")
def create_checkin():
    """Record one check-in; the same client_id and body again answers 200 with the same one."""
    payload = json_body({"type": "object"})  # the check-in's own schema is checked by record_checkin
    checkin, created = checkins.record_checkin(payload, current_user, utcnow())
    response = jsonify(checkins.checkin_json(checkin))
    response.status_code = 201 if created else 200
    return response


def compliance_number(fraction):
    """A compliance Fraction as the API gives it: a number rounded to 4 places, or None."""
    return None if fraction is None else round(float(fraction), 4)


@api_bp.get("/stations")
@operation({
    "summary": "The month's staffing compliance per station the caller may see (bureau readers every active "
               "station and every one closed after being staffed in the month, a staffing contractor's manager "
               "its own), all of them in one answer", "tags": ["stations"],
    "parameters": [{"name": "month", "in": "query", "required": True, "schema": query.MONTH_SCHEMA,
                    "description": "YYYY-MM; the current month is counted up to yesterday (today is not over)"}],
    "responses": {"200": json_response("The month per station", {
        "type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": STATION_MONTH}}}),
        **COMMON, "422": problem("No month, not YYYY-MM, or a year the working-day calendar does not know")}})
@capability_required("station.read")
def list_stations():
    """Every station the caller may see in the month (compliance.stations_month: the active ones and
    those closed after being staffed in the month) with the month's staff-days required and present
    (docs/DOMAIN.md §6: the bureau's working days, within the staffing contract's dates)."""
    month = query.month_arg(required=True)
    rows = stations_month(month, station_ids=stations_visible_to(current_user).with_only_columns(Station.id))
    return jsonify({"items": [
        {"id": row.station.id, "name": row.station.name, "kind": row.station.kind,
         "required_staff": row.required_staff, "staff_days_required": row.staff_days_required,
         "staff_days_present": row.staff_days_present, "compliance": compliance_number(row.compliance)}
        for row in rows]})
