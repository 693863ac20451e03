"""Set-based verification: the rules on many visits at once, written in a few statements.

``judge_rows(rows, now)`` runs the rules (rules.py, the same functions as the per-visit path) on
plain rows read by setpass.py, plans each visit's exceptions with ``rules.plan`` and its status
with ``verification.settle_status``, then writes what changed: new and refreshed exceptions with
one ``INSERT … ON CONFLICT (visit_id, code) DO UPDATE … WHERE status = 'open'`` (a decision taken
meanwhile is never overwritten), stale open ones with one ``DELETE``, then each visit's status
settled from the exceptions in force and written with one ``UPDATE`` per chunk (on PostgreSQL a
compare-and-set: see ``Writes``), and one audit entry per changed row appended in one block.

- ``compare_batch(visit_ids, now)``: the comparison job for an upload batch — the comparative rules
  (V04, V05, V07, V10) on the visits and on every visit they affect, and their final status.
- ``reverify_month(month, now, dry_run)``: every rule on every visit of a month, day by day (a
  threshold changed): decided exceptions stay decided. Returns what changed.
"""
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import bindparam, case, delete, literal_column, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from portal.audit.recorder import record_rows
from portal.core.months import month_days
from portal.extensions import db
from portal.i18n import record_locale
from portal.jobs.queue import enqueue_batched
from portal.visits import readahead, rules, setpass, verification
from portal.visits.models import Visit, VisitException, VisitPhoto
from portal.visits.neighbourhoods import day_bounds

SHOWN = ("message", "details", "warning")


class Record:
    """A VisitException as a plain object (what rules.plan and settle_status read)."""

    __slots__ = ("id", "visit_id", "code", "status", "message", "details", "warning")

    def __init__(self, **values):
        for name in self.__slots__:
            setattr(self, name, values.get(name))


@dataclass
class Outcome:
    """What a run changed (or, dry, would change)."""
    judged: int = 0
    raised: Counter = field(default_factory=Counter)
    refreshed: Counter = field(default_factory=Counter)
    cleared: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)   # (before, after) → visits

    def add(self, other):
        self.judged += other.judged
        for mine, theirs in ((self.raised, other.raised), (self.refreshed, other.refreshed),
                             (self.cleared, other.cleared), (self.statuses, other.statuses)):
            mine.update(theirs)

    @property
    def changed(self):
        return bool(self.raised or self.refreshed or self.cleared or self.statuses)


# --- entry points -------------------------------------------------------------------------------

def compare_batch(visit_ids, now):
    """The comparison job's work for any number of visits (idempotent); their ``comparison_due``
    mark is cleared."""
    db.session.flush()
    rows = list(setpass.rows_by_ids(visit_ids).values())
    if not rows:
        return Outcome()
    return judge_rows(setpass.neighbours_of(rows), now, single=False)


def reverify_month(month, now, dry_run=False):
    """Every rule on every visit checked in during ``month`` (Beijing days), one day at a time: the
    single-visit rules where they apply (verification.single_rules_apply), the comparative ones on all."""
    db.session.flush()
    outcome = Outcome()
    first, last = month_days(month)
    for offset in range((last - first).days + 1):
        start, stop = day_bounds(first + timedelta(days=offset))
        rows = setpass.load_rows(Visit.check_in_at >= start, Visit.check_in_at < stop)
        if rows:
            outcome.add(judge_rows(rows, now, single=True, dry_run=dry_run))
    return outcome


# --- judging ------------------------------------------------------------------------------------

def judge_rows(rows, now, *, single, dry_run=False):
    """The rules on ``rows`` (setpass.VisitRow, all judged), then their exceptions and status:
    the comparative rules on every row, the single-visit rules (``single``) on those they apply to."""
    _attach_exceptions(rows)
    if single:
        _read_ahead(rows)
    comparison = setpass.SetPass(rows)
    outcome, writes = Outcome(judged=len(rows)), Writes(now)
    with record_locale():  # messages are records, in the bureau's language (forced once, not per visit)
        for row in rows:
            _judge(row, comparison, single and verification.single_rules_apply(row, now), now, writes, outcome)
    if not dry_run:
        writes.write()
    return outcome


def _judge(row, comparison, single, now, writes, outcome):
    """One visit: its findings, the plan for its exceptions, its status (what a dry run reports;
    ``Writes.write`` settles it again from the exceptions in force after the writes)."""
    writes.track(row)
    codes = (rules.SINGLE_RULES if single else ()) + rules.COMPARATIVE_RULES
    findings = verification.single_findings(row, comparison.settings(row), now) if single else {}
    findings.update(verification.comparative_findings_reported(row, comparison))
    for step in rules.plan({e.code: e for e in row.exceptions}, codes, findings):
        writes.take(row, step, outcome)
    before = row.status
    verification.settle_status(row, now, final=True)
    row.comparison_due = False
    if row.status != before:
        outcome.statuses[(before, row.status)] += 1


def _attach_exceptions(rows):
    """Each row's exceptions as they are in the database now (Records)."""
    found = setpass.exceptions_of([r.id for r in rows])
    for row in rows:
        row.exceptions = [Record(**{k: e[k] for k in Record.__slots__}) for e in found.get(row.id, [])]


def _read_ahead(rows):
    """What V01, V06 and V11 would each ask the database, for all the rows in three reads."""
    roster = readahead.rosters({r.worker_user_id for r in rows}, {r.contractor_id for r in rows})
    book = readahead.eligibility_book({r.beneficiary_id for r in rows}, {r.contract_id for r in rows})
    photos = set()
    for chunk in setpass.chunks(sorted(r.id for r in rows)):
        photos.update(db.session.scalars(select(VisitPhoto.visit_id).where(
            setpass.among(VisitPhoto.visit_id, chunk)).distinct()))
    for row in rows:
        row.roster = roster.get((row.worker_user_id, row.contractor_id), [])
        row.eligibility, row.has_photo = book, row.id in photos


# --- writing ------------------------------------------------------------------------------------

# A compare-and-set: a visit whose status or comparison mark changed since the pass read it is
# not written (Writes._judge_again_later); the visits written come back.
_UPDATE_UNNESTED = text(
    "UPDATE visit SET status = u.status, verified_at = u.verified_at, distance_from_home_m = u.distance, "
    "comparison_due = u.due "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:statuses AS varchar[]), CAST(:verified AS timestamptz[]), "
    "CAST(:distances AS integer[]), CAST(:due AS boolean[]), CAST(:read_statuses AS varchar[]), "
    "CAST(:read_due AS boolean[])) AS u(id, status, verified_at, distance, due, read_status, read_due) "
    "WHERE visit.id = u.id AND visit.tenant_id = :tenant AND visit.status = u.read_status "
    "AND visit.comparison_due = u.read_due RETURNING visit.id")


class Writes:
    """The changes of one judging pass, written in a few statements with one audit block. What
    the audit records is what the statements did: a guarded write that a person's decision
    taken meanwhile refused is not recorded. Every visit's status is settled again from the
    exceptions in force after the writes; on PostgreSQL a visit someone else changed since the
    pass read it is not written but marked and queued for another comparison (compare-and-set)."""

    VISIT = ("status", "verified_at", "distance_from_home_m", "comparison_due")

    def __init__(self, now):
        self.now = now
        self.upserts, self.removed, self.tracked, self.audit = [], [], {}, []

    def track(self, row):
        self.tracked[row.id] = (row, {n: getattr(row, n) for n in self.VISIT})

    def take(self, row, step, outcome):
        kind = step[0]
        if kind == "remove":
            record = step[1]
            row.exceptions.remove(record)
            self.removed.append((row, record))
            outcome.cleared[record.code] += 1
            return
        if kind == "raise":
            code, finding = step[1], step[2]
            record = Record(visit_id=row.id, code=code, status="open")
            row.exceptions.append(record)
            outcome.raised[code] += 1
        else:
            record, finding = step[1], step[2]
            outcome.refreshed[record.code] += 1
        before = {k: getattr(record, k) for k in SHOWN}
        rules.refresh(record, finding)
        self.upserts.append((row, record, before if kind == "refresh" else None))

    def write(self):
        if self.removed:
            self._delete()
        if self.upserts:
            self._upsert()
        self._settle_again()
        changed = [row for row, before in self.tracked.values()
                   if any(getattr(row, n) != before[n] for n in self.VISIT)]
        if changed:
            self._update_visits(changed)
        if self.audit:
            record_rows(db.session, self.audit)
        db.session.expire_all()  # ORM copies of these visits and exceptions are stale now

    def _delete(self):
        table = VisitException.__table__
        ids = [record.id for _row, record in self.removed]
        deleted = set()
        for chunk in setpass.chunks(ids):
            deleted.update(db.session.scalars(delete(table).where(
                setpass.among(table.c.id, chunk), table.c.status == "open",
                setpass.of_this_bureau(table)).returning(table.c.id)))
        for row, record in self.removed:
            if record.id in deleted:  # (else a person acted on it meanwhile: it stays, unrecorded here)
                self.audit.append(("delete", "VisitException", record.id,
                                   {k: getattr(record, k) for k in Record.__slots__}, None, row.tenant_id))

    def _settle_again(self):
        """Each visit's status from the exceptions in force now, this pass's writes included and
        a person's decisions taken meanwhile too (read once for all the visits of the pass)."""
        rows = [row for row, _before in self.tracked.values()]
        _attach_exceptions(rows)
        for row in rows:
            verification.settle_status(row, self.now, final=True)

    def _update_visits(self, rows):
        """Statuses, verification times, distances and the comparison mark, one UPDATE per chunk.
        On PostgreSQL a compare-and-set: a visit changed since the pass read it is not written
        (``_judge_again_later``) nor recorded; on SQLite (one writer) a rejection stands."""
        if setpass.on_postgresql():  # one UPDATE … FROM unnest(arrays)
            written = set()
            for chunk in setpass.chunks(rows):
                written.update(db.session.scalars(_UPDATE_UNNESTED, {
                    "tenant": setpass.current_tenant_id(), "ids": [r.id for r in chunk],
                    "statuses": [r.status for r in chunk], "verified": [r.verified_at for r in chunk],
                    "distances": [r.distance_from_home_m for r in chunk], "due": [r.comparison_due for r in chunk],
                    "read_statuses": [self.tracked[r.id][1]["status"] for r in chunk],
                    "read_due": [self.tracked[r.id][1]["comparison_due"] for r in chunk]}))
            moved = [row for row in rows if row.id not in written]
            if moved:
                self._judge_again_later(moved)
            rows = [row for row in rows if row.id in written]
        else:
            table = Visit.__table__  # SQLite: the driver's executemany of one prepared UPDATE (one writer)
            db.session.execute(
                update(table).where(table.c.id == bindparam("row_id"), setpass.of_this_bureau(table))
                .values(status=case((table.c.status == "rejected", table.c.status), else_=bindparam("new_status")),
                        verified_at=case((table.c.status == "rejected", table.c.verified_at),
                                         else_=bindparam("new_verified_at")),
                        distance_from_home_m=bindparam("new_distance"), comparison_due=bindparam("new_due")),
                [{"row_id": r.id, "new_status": r.status, "new_verified_at": r.verified_at,
                  "new_distance": r.distance_from_home_m, "new_due": r.comparison_due} for r in rows])
        for row in rows:
            old = self.tracked[row.id][1]
            changed = [n for n in self.VISIT if getattr(row, n) != old[n]]
            if changed:
                self.audit.append(("update", "Visit", row.id, {n: old[n] for n in changed},
                                   {n: getattr(row, n) for n in changed}, row.tenant_id))

    def _judge_again_later(self, rows):
        """Visits changed by someone else since this pass read them (a check-out, a correction, a
        decision, a rejection): this pass leaves their status alone and marks them for another
        comparison, queued now (and found by the hourly sweep should that be lost)."""
        table = Visit.__table__
        ids = [row.id for row in rows]
        db.session.execute(update(table).where(setpass.among(table.c.id, ids), setpass.of_this_bureau(table))
                           .values(comparison_due=True))
        for row in rows:
            old = self.tracked[row.id][1]
            row.status, row.verified_at, row.comparison_due = old["status"], old["verified_at"], True
            enqueue_batched("supervision.compare_batch", row.id, tenant_id=row.tenant_id)

    def _upsert(self):
        table = VisitException.__table__
        postgres = setpass.on_postgresql()
        dialect = postgresql if postgres else sqlite
        stmt = dialect.insert(table)
        returned = [table.c.id, table.c.visit_id, table.c.code]
        if postgres:  # a row inserted has no previous version (xmax 0); an updated one has
            returned.append(literal_column("(xmax = 0)").label("inserted"))
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.visit_id, table.c.code],
            set_={k: stmt.excluded[k] for k in SHOWN},
            where=table.c.status == "open").returning(*returned)
        values = [{"tenant_id": row.tenant_id, "visit_id": row.id, "code": record.code, "message": record.message,
                   "details": record.details, "warning": record.warning, "status": "open",
                   "raised_at": self.now, "response_reason": "", "response_text": "", "decision_note": ""}
                  for row, record, _before in self.upserts]
        done = {}
        for chunk in setpass.chunks(values):
            for found in db.session.execute(stmt, chunk):
                done[(found.visit_id, found.code)] = (found.id, found.inserted if postgres else None)
        for row, record, before in self.upserts:
            if (row.id, record.code) not in done:
                continue  # decided meanwhile: left as it is (and the status settled from it)
            record.id, inserted = done[(row.id, record.code)]
            if inserted is None:  # SQLite: one writer, so what was read is what was there
                inserted = before is None
            after = {k: getattr(record, k) for k in SHOWN}
            if inserted:
                self.audit.append(("insert", "VisitException", record.id,
                                   None, {**after, "visit_id": row.id, "code": record.code, "status": "open"},
                                   row.tenant_id))
            else:
                before = before or {}
                changed = [k for k in SHOWN if before.get(k) != after[k]]
                self.audit.append(("update", "VisitException", record.id, {k: before.get(k) for k in changed},
                                   {k: after[k] for k in changed}, row.tenant_id))
