"""A small world for settlement tests on top of the demo people (``demo`` fixture): an active care
contract of contractor A with one service item, a beneficiary, verified visits inserted directly
in a chosen month, spot checks, violations, and statements moved through the real workflow.
Each helper opens its own app context and tenant scope and commits. Importable by any billing
test (pages, export, budget view)."""
import itertools
import uuid
from datetime import date, datetime, time, timedelta

from sqlalchemy import insert, select

from portal.core.timeutil import LOCAL_TZ
from tests import support
from tests.beneficiary_world import make_contract, number, register

PRICE = 8_000          # fen per visit
MULTIPLIER = 2
# distinct ID numbers for the people of one test (a bureau refuses to register a number twice)
_SEQUENCE = itertools.count(1)
PENALTY = 50_000       # fen per subcontracting violation


def scope(app, code="ganxian"):
    from portal.tenancy.scope import tenant_scope
    return tenant_scope(support.World(app).tenant_id(code))


def user(username):
    from portal.accounts.models import User
    from portal.extensions import db
    return db.session.execute(select(User).where(User.username == username)).scalar_one()


@support.once_per_run(on="demo")
def care_contract(app, *, manager="a-manager", code="ganxian", price=PRICE, quota=1000, monthly_cap=None,
                  multiplier=MULTIPLIER, penalty=PENALTY, starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31),
                  status="active"):
    """An active contract of ``manager``'s contractor with item CARE-VISIT at ``price`` fen, the
    given quota and monthly cap. Returns {"contract", "item", "person"} ids. Built once per run and
    set of arguments on the demo people, then restored."""
    from portal.contracts.models import Contract, ServiceItem
    from portal.extensions import db
    contract_id = make_contract(app, code, manager, status=status, starts_on=starts_on, ends_on=ends_on)
    person_id = register(app, code, "张三丰", number(next(_SEQUENCE) % 1000))
    with app.app_context(), scope(app, code):
        contract = db.session.get(Contract, contract_id)
        contract.spot_check_penalty_multiplier, contract.violation_penalty_fen = multiplier, penalty
        item = db.session.execute(select(ServiceItem).where(ServiceItem.contract_id == contract_id)).scalar_one()
        item.unit_price_fen, item.quota, item.monthly_cap = price, quota, monthly_cap
        db.session.commit()
        return {"contract": contract_id, "item": item.id, "person": person_id}


def add_visits(app, world, month, count, *, status="verified", worker="a-worker1", code="ganxian", hour=9,
               first_day=1):
    """``count`` visits of the world's contract checked in during ``month`` (Beijing time), several a
    day from ``first_day`` at ``hour`` on, one minute apart, bulk-inserted. Returns their ids in
    check-in order."""
    from portal.extensions import db
    from portal.visits.models import Visit
    year, month_number = int(month[:4]), int(month[5:7])
    with app.app_context(), scope(app, code):
        worker_user = user(worker)
        tenant_id = support.World(app).tenant_id(code)
        rows = []
        for i in range(count):
            day = date(year, month_number, first_day + (i // 100) % 20)
            check_in = datetime.combine(day, time(hour), tzinfo=LOCAL_TZ) + timedelta(minutes=i % 100 * 3)
            rows.append({"tenant_id": tenant_id, "client_id": str(uuid.uuid4()), "body_hash": "0" * 64,
                         "contract_id": world["contract"], "service_item_id": world["item"],
                         "beneficiary_id": world["person"], "staff_id": None, "worker_user_id": worker_user.id,
                         "contractor_id": worker_user.contractor_id, "device_id": "test-phone",
                         "check_in_at": check_in, "check_in_lat": 25.861, "check_in_lon": 115.012,
                         "check_out_at": check_in + timedelta(minutes=60), "check_out_lat": 25.861,
                         "check_out_lon": 115.012, "services": [], "notes": "", "source": "app",
                         "recorded_live": True, "received_at": check_in, "status": status,
                         "verified_at": check_in if status == "verified" else None, "penalised": False})
        db.session.connection().execute(insert(Visit.__table__), rows)
        ids = db.session.execute(select(Visit.id).where(Visit.client_id.in_([r["client_id"] for r in rows]))
                                 .order_by(Visit.check_in_at, Visit.id)).scalars().all()
        db.session.commit()
        return ids


def not_confirmed(app, world, visit_ids, month, code="ganxian"):
    """Spot checks of ``month`` that did not confirm ``visit_ids`` (the visits are rejected and
    penalised, as the spot-check service does)."""
    from portal.core.timeutil import utcnow
    from portal.extensions import db
    from portal.spotchecks.models import SpotCheck, SpotCheckSample
    from portal.visits.models import Visit
    with app.app_context(), scope(app, code):
        sample = db.session.execute(select(SpotCheckSample).where(
            SpotCheckSample.contract_id == world["contract"], SpotCheckSample.month == month)).scalar_one_or_none()
        if sample is None:
            sample = SpotCheckSample(contract_id=world["contract"], month=month, seed=uuid.uuid4().hex,
                                     rate_permille=50, population=100)
            db.session.add(sample)
            db.session.flush()
        for visit_id in visit_ids:
            db.session.add(SpotCheck(sample_id=sample.id, visit_id=visit_id, method="phone", outcome="not_confirmed",
                                     completed_at=utcnow()))
            visit = db.session.get(Visit, visit_id)
            visit.status, visit.penalised = "rejected", True
        db.session.commit()


def violation(app, world, occurred_on, *, status="confirmed", code="ganxian"):
    """A subcontracting violation of the world's contract. Returns its id."""
    from portal.extensions import db
    from portal.violations.models import Violation
    with app.app_context(), scope(app, code):
        row = Violation(kind="unlisted_worker", contract_id=world["contract"], occurred_on=occurred_on,
                        status=status, dedupe_key=f"test:{uuid.uuid4().hex}", summary="test")
        db.session.add(row)
        db.session.commit()
        return row.id


def finance_colleague(app, username="gx-finance2", code="ganxian"):
    """A second finance reviewer of the bureau (four eyes). Returns the username."""
    from portal.accounts.models import User
    from portal.extensions import db
    with app.app_context():
        if db.session.execute(select(User).where(User.username == username)).scalar_one_or_none() is None:
            person = User(username=username, display_name="财务复核二", role="finance",
                          tenant_id=support.World(app).tenant_id(code))
            person.set_password(support.PASSWORD)
            db.session.add(person)
            db.session.commit()
    return username


def prepare(app, world, month, by=None, code="ganxian"):
    """prepare_statement for the world's contract; returns the statement id."""
    from portal.billing.settlement import prepare_statement
    from portal.contracts.models import Contract
    from portal.extensions import db
    with app.app_context(), scope(app, code):
        statement = prepare_statement(db.session.get(Contract, world["contract"]), month,
                                      by=user(by) if by else None)
        db.session.commit()
        return statement.id


def approved(app, world, month, *, preparer="gx-officer", manager="a-manager", approver="gx-finance",
             code="ganxian"):
    """The month's statement prepared, sent by ``preparer``, confirmed by ``manager`` and approved
    by ``approver``. Returns its id."""
    from portal.billing import workflow
    from portal.billing.models import Statement
    from portal.extensions import db
    statement_id = prepare(app, world, month, by=preparer, code=code)
    with app.app_context(), scope(app, code):
        statement = db.session.get(Statement, statement_id)
        workflow.send_to_contractor(statement, user(preparer))
        workflow.confirm(statement, user(manager))
        workflow.approve(statement, user(approver))
        db.session.commit()
    return statement_id


def accepted(app, world, code="ganxian"):
    """A passed acceptance of the world's contract covering its last day: its final month's
    statement may be approved (support.passed_acceptance)."""
    from portal.contracts.models import Contract
    from portal.extensions import db
    with app.app_context(), scope(app, code):
        support.passed_acceptance(db.session.get(Contract, world["contract"]))
        db.session.commit()


def statement_row(app, statement_id, code="ganxian"):
    """(status, gross, deductions, net) of a statement."""
    from portal.billing.models import Statement
    from portal.extensions import db
    with app.app_context(), scope(app, code):
        s = db.session.get(Statement, statement_id)
        return s.status, s.gross_fen, s.deductions_fen, s.net_fen


def entry_rows(app, statement_id, role=None, code="ganxian"):
    """What stands behind the statement's lines, wherever it is kept (the lines' ids until approval,
    entry rows since): [(line id, role, visit id, violation id)] in the order of the lines, with
    ``role`` only those."""
    from portal.billing import entries
    from portal.billing.models import Statement
    from portal.extensions import db
    with app.app_context(), scope(app, code):
        kept = entries.rows(db.session.get(Statement, statement_id))
        stmt = select(kept.c.line_id, kept.c.role, kept.c.visit_id, kept.c.violation_id).order_by(
            kept.c.line_id, kept.c.seq_a, kept.c.seq_b)
        if role is not None:
            stmt = stmt.where(kept.c.role == role)
        return [tuple(row) for row in db.session.execute(stmt)]


def entry_visits(app, statement_id, role, code="ganxian"):
    """The visit ids behind the statement's lines in ``role``, in the order of the lines."""
    return [visit_id for _line, _role, visit_id, _violation in entry_rows(app, statement_id, role, code)
            if visit_id is not None]
