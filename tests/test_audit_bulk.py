"""ORM bulk UPDATE and DELETE statements are audited row by row, like flushed changes."""
from datetime import date

from sqlalchemy import delete, select, update

from portal.audit.chain import verify_chain
from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.tenancy.models import CalendarOverride
from portal.tenancy.scope import tenant_scope


def test_bulk_update_and_delete_leave_one_audit_row_per_row(app, demo):
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        db.session.add_all([CalendarOverride(day=date(2026, 12, d), is_working=False, note="") for d in (1, 2)])
        db.session.commit()
        db.session.execute(update(CalendarOverride).where(CalendarOverride.day >= date(2026, 12, 1))
                           .values(note="调整"))
        db.session.execute(delete(CalendarOverride).where(CalendarOverride.day == date(2026, 12, 2)))
        db.session.commit()
        entries = db.session.execute(select(AuditEntry).where(AuditEntry.object_type == "CalendarOverride")
                                     .order_by(AuditEntry.seq)).scalars().all()
        actions = [e.action for e in entries]
        assert actions == ["insert", "insert", "update", "update", "delete"]
        assert entries[2].before == {"note": ""} and entries[2].after == {"note": "调整"}
        assert entries[4].before["day"] == "2026-12-02" and entries[4].tenant_id == gx
        assert verify_chain(db.session, gx).ok
