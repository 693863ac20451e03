"""Where the visits and violations behind each line of a statement are kept (docs/DOMAIN.md §8).

Until approval (a draft, and a sent, confirmed or disputed statement) they are kept in the line
itself: ``statement_line.entry_ids``, one JSON object per line, {role: [visit ids]} for the roles
"paid", "penalty", "clawback" and "capped", and {"violations": [violation ids]} (penalised) — one
row written per line however many visits the month holds, in the order of the computation. Approval
(workflow.approve) re-checks them, writes them as StatementEntry rows with ``approved_visit_id`` /
``approved_violation_id`` filled in — one INSERT … SELECT, so that the unique constraints on those
columns keep every visit (per role) and every violation to one approved statement — and clears the
lines' ids. An approved or paid statement's entries are those rows, fixed for ever.

``rows(statement)`` reads either place with the same columns, so the pages, the Excel export and the
API list a statement's visits the same way whatever its status.

The column is left out of the mapper (models.py): the ORM, and with it the row-by-row audit trail,
never carries a month of visit ids; the "statement_computed" event records their count. Like the
bulk entry writes before it, these Core statements carry their tenant filter explicitly (row-level
security still applies on PostgreSQL)."""
from sqlalchemy import Integer, String, bindparam, insert, literal, null, select, text, update

from portal.billing.models import FROZEN_STATUSES, StatementEntry, StatementLine
from portal.extensions import db

VISIT_ROLES = ("paid", "penalty", "clawback", "capped")
VIOLATIONS = "violations"  # key of the penalised violations; their entries' role is "penalty"
KEYS = VISIT_ROLES + (VIOLATIONS,)  # the order of a line's entries

_ROLES_PG = ", ".join(f"('{key}', {position})" for position, key in enumerate(KEYS, start=1))
_ROLES_SQLITE = " UNION ALL ".join(f"SELECT '{key}' AS role, {position} AS position"
                                   for position, key in enumerate(KEYS, start=1))
_COLUMNS = ("CASE WHEN k.role = 'violations' THEN 'penalty' ELSE k.role END AS role, "
            "CASE WHEN k.role = 'violations' THEN NULL ELSE CAST(e.value AS INTEGER) END AS visit_id, "
            "CASE WHEN k.role = 'violations' THEN CAST(e.value AS INTEGER) END AS violation_id, ")
_WHERE = "WHERE l.statement_id = :statement_id AND l.tenant_id = :tenant_id AND l.entry_ids IS NOT NULL"
# Every piece of these statements is a constant of this module; the values are bound parameters.
_EXPAND = {
    "postgresql": (f"SELECT l.id AS line_id, {_COLUMNS} k.position AS seq_a, e.ordinality AS seq_b "  # nosec B608 # constants (above)
                   f"FROM statement_line l CROSS JOIN (VALUES {_ROLES_PG}) AS k(role, position) "
                   "CROSS JOIN LATERAL json_array_elements_text(l.entry_ids -> k.role) WITH ORDINALITY "
                   f"AS e(value, ordinality) {_WHERE}"),
    "sqlite": (f"SELECT l.id AS line_id, {_COLUMNS} k.position AS seq_a, CAST(e.key AS INTEGER) AS seq_b "  # nosec B608 # constants (above)
               f"FROM statement_line l JOIN ({_ROLES_SQLITE}) AS k "
               f"JOIN json_each(l.entry_ids, '$.' || k.role) AS e {_WHERE}"),
}


def pack(plan):
    """{key: ids} of a line plan (plans.LinePlan), in the order of the computation; None when
    nothing stands behind the line."""
    packed = {}
    selected = plan.selected()  # the very ids the digest was computed from
    for key, ids in ((plan.entry_role, selected["visits"]), ("capped", selected["capped"])):
        if ids:
            packed.setdefault(key, []).extend(ids)
    for role, visit_id, violation_id in plan.entries:
        if visit_id is not None:
            packed.setdefault(role, []).append(visit_id)
        if violation_id is not None:
            packed.setdefault(VIOLATIONS, []).append(violation_id)
    unknown = set(packed) - set(KEYS)
    if unknown:
        raise ValueError(f"unknown entry roles {sorted(unknown)}")
    return packed or None


def count(packed):
    return sum(len(ids) for ids in (packed or {}).values())


def keep(statement, written):
    """Store the ids of each (line, packed) of a draft in the line: one UPDATE for all lines."""
    lines = StatementLine.__table__
    rows = [{"line": line.id, "ids": packed} for line, packed in written if packed]
    if rows:
        db.session.connection().execute(
            update(lines).where(lines.c.id == bindparam("line"), lines.c.tenant_id == statement.tenant_id)
            .values(entry_ids=bindparam("ids")), rows)


def _draft_rows(statement):
    """The draft's entries expanded from its lines' ids: line_id, role, visit_id, violation_id,
    and (seq_a, seq_b), their order within the line."""
    dialect = db.session.get_bind().dialect.name
    return (text(_EXPAND[dialect]).bindparams(statement_id=statement.id, tenant_id=statement.tenant_id)
            .columns(line_id=Integer, role=String, visit_id=Integer, violation_id=Integer, seq_a=Integer,
                     seq_b=Integer)
            .subquery("drafted"))


def rows(statement):
    """A subquery of the statement's entries, wherever they are kept: line_id, role, visit_id,
    violation_id, and (seq_a, seq_b), their order within the line."""
    if statement.status in FROZEN_STATUSES:
        return (select(StatementEntry.line_id, StatementEntry.role, StatementEntry.visit_id,
                       StatementEntry.violation_id, StatementEntry.id.label("seq_a"), literal(0).label("seq_b"))
                .where(StatementEntry.statement_id == statement.id).subquery("approved"))
    return _draft_rows(statement)


def write_approved(statement):
    """Turn a statement's drafted ids into its entry rows, approved (one INSERT … SELECT, in the
    order of the lines), and clear the lines' ids. The caller has re-checked them; the unique
    constraints refuse a visit or violation another approved statement holds (IntegrityError)."""
    drafted = _draft_rows(statement)
    entries, lines = StatementEntry.__table__, StatementLine.__table__
    connection = db.session.connection()
    connection.execute(insert(entries).from_select(
        ["tenant_id", "statement_id", "line_id", "role", "visit_id", "violation_id", "approved_visit_id",
         "approved_violation_id"],
        select(literal(statement.tenant_id), literal(statement.id), drafted.c.line_id, drafted.c.role,
               drafted.c.visit_id, drafted.c.violation_id, drafted.c.visit_id, drafted.c.violation_id)
        .order_by(drafted.c.line_id, drafted.c.seq_a, drafted.c.seq_b)))
    connection.execute(update(lines).where(lines.c.statement_id == statement.id,
                                           lines.c.tenant_id == statement.tenant_id,
                                           lines.c.entry_ids.is_not(None)).values(entry_ids=null()))
