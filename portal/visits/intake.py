"""Storing a new visit in few statements (issue 15: the request path of POST /api/v1/visits).

``store_new`` is the writing half of ``recording.record_visit``: one Core statement (``_READ``)
reads what the visit needs — the beneficiary's assignments on contracts of the worker's
contractor, each with its contract and the service item of that code, the worker's roster
entries, the beneficiary's home, name and status history — then the
single-visit rules (rules.SINGLE, the functions every path runs) judge a plain
``setpass.VisitRow`` built from those values before anything is written, and one
``INSERT … ON CONFLICT (tenant_id, client_id) DO NOTHING RETURNING id`` stores the visit with its
provisional status and, with a check-out, its comparison mark. An exception a rule raises
follows in one INSERT. No ORM object is loaded or flushed: the rows are audited with
``record_rows`` (appended at commit with the transaction's other entries), and the comparison is
queued as ``verification.schedule_comparison`` does.

Core statements skip the session's tenant hook, so each names the bureau itself; on PostgreSQL
row-level security applies as well.
"""
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import (Boolean, Date, Float, Integer, String, and_, bindparam, cast, literal, null, select,
                        union_all)
from sqlalchemy.dialects import postgresql, sqlite

from portal.audit.recorder import record_rows
from portal.beneficiaries.models import Beneficiary, BeneficiaryStatus
from portal.contractors.models import StaffMember
from portal.contracts.models import Assignment, Contract, ServiceItem
from portal.core.errors import DomainError, NotFound
from portal.core.timeutil import to_local
from portal.extensions import db
from portal.i18n import record_locale
from portal.jobs.queue import enqueue_batched
from portal.tenancy.services import settings_for
from portal.visits import rules
from portal.visits.models import Visit, VisitException
from portal.visits.readahead import RosterEntry, book_of
from portal.visits.setpass import VISIT_COLUMNS, Home, VisitRow
from portal.visits.verification import record_unlisted_worker

_A, _C, _I, _S = Assignment.__table__, Contract.__table__, ServiceItem.__table__, StaffMember.__table__
_B, _H, _V, _E = Beneficiary.__table__, BeneficiaryStatus.__table__, Visit.__table__, VisitException.__table__

def _one_read():
    """One statement for what a new visit needs (a round trip each was a third of the request's):
    the beneficiary's assignments on contracts of the worker's contractor with the contract and the
    item of that code (kind 0), the worker's roster entries (kind 1), the beneficiary's home, name
    and status history (kind 2), as one UNION ALL of rows padded to one layout (_LAYOUT)."""
    def row(kind, **columns):
        return [literal(kind, Integer).label("kind")] + [
            (columns[name] if name in columns else cast(null(), kind_of)).label(name) for name, kind_of in _LAYOUT]
    assignments = (
        select(*row(0, i1=_A.c.id, d1=_A.c.from_on, d2=_A.c.until_on, i2=_S.c.user_id, i3=_C.c.id, t1=_C.c.status,
                    i4=_I.c.id, t2=_I.c.code, i5=_I.c.min_minutes, i6=_I.c.max_minutes, b1=_I.c.photo_required,
                    i7=_I.c.daily_limit_per_beneficiary))
        .select_from(_A)
        .join(_C, and_(_C.c.id == _A.c.contract_id, _C.c.tenant_id == _A.c.tenant_id))
        .join(_S, _S.c.id == _A.c.staff_id)
        .outerjoin(_I, and_(_I.c.contract_id == _C.c.id, _I.c.code == bindparam("code"),
                            _I.c.tenant_id == _A.c.tenant_id))
        .where(_A.c.beneficiary_id == bindparam("beneficiary"), _C.c.contractor_id == bindparam("contractor"),
               _A.c.tenant_id == bindparam("tenant")))
    roster = select(*row(1, i1=_S.c.id, i2=_S.c.user_id, i3=_S.c.contractor_id, t1=_S.c.name, d1=_S.c.joined_on,
                         d2=_S.c.left_on)).where(_S.c.user_id == bindparam("user"),
                                                 _S.c.contractor_id == bindparam("contractor"))
    person = (select(*row(2, i1=_H.c.id, t1=_B.c.name, f1=_B.c.lat, f2=_B.c.lon, d1=_H.c.effective_on,
                          t2=_H.c.status))
              .select_from(_B)
              .outerjoin(_H, and_(_H.c.beneficiary_id == _B.c.id, _H.c.tenant_id == _B.c.tenant_id))
              .where(_B.c.id == bindparam("beneficiary"), _B.c.tenant_id == bindparam("tenant")))
    union = union_all(assignments, roster, person).subquery()
    return select(union).order_by(union.c.kind, union.c.d1, union.c.i1)


_LAYOUT = (("i1", Integer), ("i2", Integer), ("i3", Integer), ("i4", Integer), ("i5", Integer), ("i6", Integer),
           ("i7", Integer), ("d1", Date), ("d2", Date), ("t1", String), ("t2", String), ("f1", Float),
           ("f2", Float), ("b1", Boolean))
_READ = _one_read()
# the columns of an assignment row (kind 0, in this order)
A_ID, A_FROM, A_UNTIL, A_WORKER, A_CONTRACT, A_STATUS, I_ID, I_CODE, I_MIN, I_MAX, I_PHOTO, I_LIMIT = range(12)


@dataclass
class Stored:
    """A visit just stored: its columns as written, the beneficiary's name, the item's code and
    the exceptions raised (dicts of their columns), in code order."""
    values: dict
    beneficiary_name: str
    service_item: str
    exceptions: list = field(default_factory=list)
    changed_since: bool = False  # judged again since it was written (the comparison ran inline)


def _refuse(field_name, message, status_class=DomainError):
    raise status_class(message, {field_name: [message]})


def _context(connection, user, beneficiary_id, code, tenant):
    """(assignment rows, roster entries, person rows (name, lat, lon, effective_on, status)) of a
    new visit: one statement (_READ)."""
    if not user.contractor_id:
        _refuse("beneficiary_id", _("No such beneficiary."), NotFound)
    assignments, roster, person = [], [], []
    for r in connection.execute(_READ, {"code": code, "beneficiary": beneficiary_id, "contractor": user.contractor_id,
                                        "tenant": tenant, "user": user.id}):
        if r.kind == 0:
            assignments.append((r.i1, r.d1, r.d2, r.i2, r.i3, r.t1, r.i4, r.t2, r.i5, r.i6, r.b1, r.i7))
        elif r.kind == 1:
            roster.append(RosterEntry((r.i1, r.i2, r.i3, r.t1, r.d1, r.d2)))
        else:
            person.append((r.t1, r.f1, r.f2, r.d1, r.t2))
    if not assignments:
        _refuse("beneficiary_id", _("No such beneficiary."), NotFound)
    if all(row[I_ID] is None for row in assignments):
        _refuse("service_item", _("This service item is not part of the contract under which you serve this person."))
    return assignments, roster, person


def _chosen(assignments, user, day):
    """The assignment (with its contract and item) a visit falls under: the worker's own, current
    that day, on an active contract, latest."""
    def preference(row):
        current = row[A_FROM] <= day and (row[A_UNTIL] is None or day <= row[A_UNTIL])
        return (row[A_WORKER] == user.id, current, row[A_STATUS] == "active", row[A_FROM], row[A_ID])
    return max((row for row in assignments if row[I_ID] is not None), key=preference)


def _book(beneficiary_id, contract_id, person, assignments):
    """The EligibilityBook of V06 for this person and contract, from the rows already read."""
    return book_of([beneficiary_id] if person else [],
                   [(beneficiary_id, row[3], row[4]) for row in person if row[3] is not None],
                   [(beneficiary_id, contract_id, row[A_FROM], row[A_UNTIL])
                    for row in assignments if row[A_CONTRACT] == contract_id])


def _staff_member(entries, day):
    """The worker's entry on their contractor's roster: the one current on ``day``, else the most
    recent. Kept even when the worker is off the active roster (verification raises V01)."""
    return max(entries, key=lambda m: (m.on_roster(day), m.joined_on, m.id), default=None)


def store_new(values, code, user, now):
    """Read, judge and insert the visit of ``values`` (its columns taken from the body: tenant,
    client id, hash, beneficiary, device, times, places, services, notes, source, receipt times)
    under the service item ``code``. Returns a Stored, or None when the client id is already taken in
    this bureau (nothing written then)."""
    tenant = values["tenant_id"]
    db.session.flush()  # what the caller changed through the ORM is seen by the Core reads below
    day = to_local(values["check_in_at"]).date()
    assignments, roster, person = _context(db.session.connection(), user, values["beneficiary_id"], code, tenant)
    chosen = _chosen(assignments, user, day)
    staff = _staff_member(roster, day)
    home = Home(person[0][1], person[0][2]) if person else None
    distance = rules.distance_from_home(home, values["check_in_lat"], values["check_in_lon"])
    values.update(contract_id=chosen[A_CONTRACT], service_item_id=chosen[I_ID], staff_id=staff.id if staff else None,
                  worker_user_id=user.id, contractor_id=user.contractor_id, status="pending", verified_at=None,
                  distance_from_home_m=None if distance is None else round(distance), penalised=False,
                  comparison_due=values["check_out_at"] is not None)
    row = VisitRow(tuple(values.get(c) for c in VISIT_COLUMNS) + (
        None, None, chosen[I_MIN], chosen[I_MAX], chosen[I_PHOTO], chosen[I_LIMIT], chosen[I_ID],
        home.lat if home else None, home.lon if home else None, values["beneficiary_id"] if home else None,
        staff.name if staff else None))
    row.roster, row.has_photo = roster, False
    row.eligibility = _book(values["beneficiary_id"], chosen[A_CONTRACT], person, assignments)
    findings = {}
    if values["check_out_at"] is not None:  # without one the rules wait (the check-out, the daily sweep)
        settings = settings_for(tenant)
        with record_locale():  # exception messages are records, in the bureau's language
            findings = {code: rule(row, settings, now) for code, rule in rules.SINGLE.items()}
        if any(f is not None and not f.warning for f in findings.values()):
            values["status"] = "exception"  # verification.settle_status, provisional
    exceptions = _insert(values, findings, now)
    if exceptions is None:
        return None
    if findings.get("V01") is not None:  # V01 also reports the violation (verification.single_findings)
        row.id = values["id"]
        with record_locale():
            record_unlisted_worker(row)
    stored = Stored(values, person[0][0] if person else "", chosen[I_CODE], exceptions)
    if values["comparison_due"]:  # verification.schedule_comparison, for a row
        enqueue_batched("supervision.compare_batch", values["id"], tenant_id=tenant)
        # without Redis that job has just run, inline (jobs.queue.enqueue_batched): the row may
        # have changed since it was written, and the answer is read back
        stored.changed_since = not current_app.config.get("REDIS_URL")
    return stored


_INSERTS = {}  # dialect name -> the visit's INSERT … ON CONFLICT DO NOTHING RETURNING id, built once


def _visit_insert(name):
    if name not in _INSERTS:
        dialect = postgresql if name == "postgresql" else sqlite
        _INSERTS[name] = (dialect.insert(_V).on_conflict_do_nothing(index_elements=["tenant_id", "client_id"])
                          .returning(_V.c.id))
    return _INSERTS[name]


_EXCEPTION_INSERT = _E.insert().returning(_E.c.id)


def _insert(values, findings, now):
    """Insert the visit (None when its client id is taken) and its exceptions; audit them."""
    connection, tenant = db.session.connection(), values["tenant_id"]
    visit_id = connection.execute(_visit_insert(connection.dialect.name), values).scalar()
    if visit_id is None:
        return None
    values["id"] = visit_id
    audit = [("insert", "Visit", visit_id, None, _snapshot(Visit, values), tenant)]
    exceptions = []
    for code in rules.SINGLE_RULES:
        finding = findings.get(code)
        if finding is None:
            continue
        record = {"tenant_id": tenant, "visit_id": visit_id, "code": code, "message": finding.message,
                  "details": finding.details, "warning": finding.warning, "status": "open", "raised_at": now,
                  "response_reason": "", "response_text": "", "evidence_file_id": None, "responded_by_id": None,
                  "responded_at": None, "decided_by_id": None, "decided_at": None, "decision_note": ""}
        record["id"] = connection.execute(_EXCEPTION_INSERT, record).scalar_one()
        audit.append(("insert", "VisitException", record["id"], None, _snapshot(VisitException, record), tenant))
        exceptions.append(record)
    record_rows(db.session, audit)
    return exceptions


def _snapshot(model, values):
    """The audit's "after" of an inserted row: every column, redacted ones hidden (as the flush's)."""
    redact = getattr(model, "__audit_redact__", ())
    return {c.key: "[redacted]" if c.key in redact else values.get(c.key) for c in model.__table__.columns}
