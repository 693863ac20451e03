"""Contracts, beneficiaries, work lists and assignments made for the registry and assignment tests
on top of the demo people (each helper opens its own app context and tenant scope and commits)."""
import uuid
from datetime import timedelta

from sqlalchemy import select

from portal.contractors.demo import id_number
from portal.core.timeutil import local_today
from tests import support
from tests.tender_world import add_opened_bid, make_tender

TODAY = local_today()  # the bureau's day (Beijing), as the services count it


def number(seq, region="362121", born="19450101"):
    """A valid resident ID number (three-digit ``seq``) with its check digit."""
    return id_number(f"{region}{born}{int(seq):03d}")


def contractor_of(app, username):
    from portal.accounts.models import User
    from portal.extensions import db
    with app.app_context():
        return db.session.execute(select(User.contractor_id).where(User.username == username)).scalar_one()


def staff_of(app, username):
    from portal.accounts.models import User
    from portal.contractors.models import StaffMember
    from portal.extensions import db
    with app.app_context():
        return db.session.execute(select(StaffMember.id).join(User, User.id == StaffMember.user_id)
                                  .where(User.username == username)).scalar_one()


def make_contract(app, code, manager_or_worker, *, status="active", starts_on=None, ends_on=None,
                  items=(("CARE-VISIT", "上门照料护理服务", "visit", 30, 240, True),)):
    """An active contract of the user's contractor in bureau ``code`` (from an award of a tender
    made for it), with its service items. Returns the contract id."""
    from portal.contracts.models import Contract, ServiceItem
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    from portal.tenders.models import Award, Tender
    contractor_id = contractor_of(app, manager_or_worker)
    tender = make_tender(app, code)
    bid_id = add_opened_bid(app, tender["lots"][0], contractor_id, 150_000_00, code=code)
    with app.app_context(), tenant_scope(support.World(app).tenant_id(code)):
        award = Award(lot_id=tender["lots"][0], bid_id=bid_id, contractor_id=contractor_id, amount_fen=150_000_00,
                      confirmed_on=TODAY - timedelta(days=200), challenge_until=TODAY - timedelta(days=190))
        db.session.add(award)
        db.session.flush()
        contract = Contract(number=f"HT-{uuid.uuid4().hex[:8]}", title="特困人员照料护理服务合同", award_id=award.id,
                            contractor_id=contractor_id, budget_line_id=db.session.get(Tender, tender["tender"]).budget_line_id,
                            amount_fen=150_000_00, starts_on=starts_on or TODAY - timedelta(days=180),
                            ends_on=ends_on or TODAY + timedelta(days=180), status=status)
        db.session.add(contract)
        db.session.flush()
        for item_code, name, unit, low, high, photo in items:
            db.session.add(ServiceItem(contract_id=contract.id, code=item_code, name=name, unit=unit,
                                       unit_price_fen=5000, quota=1000, min_minutes=low, max_minutes=high,
                                       photo_required=photo))
        db.session.commit()
        return contract.id


def register(app, code, name, id_number_, *, category="tekun", township="梅林镇", village="城郊村",
             address="城郊村下坝组15号", lat=25.861, lon=115.012, phone="13979700001", since=None):
    """A registered beneficiary (through the service). Returns its id."""
    from portal.beneficiaries import services
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    with app.app_context(), tenant_scope(support.World(app).tenant_id(code)):
        person = services.register({"name": name, "category": category, "township": township, "village": village,
                                    "address": address, "lat": lat, "lon": lon, "phone": phone},
                                   id_number=id_number_, active_since=since or TODAY - timedelta(days=365))
        db.session.commit()
        return person.id


def put_on_work_list(app, code, contract_id, username, from_on=None):
    from portal.contracts import assignments
    from portal.contracts.models import Contract
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    staff_id = staff_of(app, username)
    with app.app_context(), tenant_scope(support.World(app).tenant_id(code)):
        contract = db.session.get(Contract, contract_id)
        entry = assignments.add_worker(contract, staff_id, from_on or contract.starts_on)
        db.session.commit()
        return entry.id


def assign(app, code, contract_id, beneficiary_id, username, from_on=None, until_on=None):
    from portal.beneficiaries import assignments
    from portal.contracts.models import Contract
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    staff_id = staff_of(app, username)
    with app.app_context(), tenant_scope(support.World(app).tenant_id(code)):
        contract = db.session.get(Contract, contract_id)
        assignment = assignments.assign(contract, beneficiary_id, staff_id, from_on or contract.starts_on, until_on)
        db.session.commit()
        return assignment.id


def care_world(app):
    """A's active ganxian care contract with a-worker1 and a-worker2 on its work list, three people
    (two with a-worker1, one with a-worker2); B's active ganxian assessment contract with b-worker1
    and one person of its own. Returns the ids. Built once per run on the demo people, then
    restored (support.built_once)."""
    return support.built_once(app, "care_world", _build_care_world, on="demo")


def _build_care_world(app):
    a_contract = make_contract(app, "ganxian", "a-manager")
    b_contract = make_contract(app, "ganxian", "b-manager",
                               items=(("ADL-ASSESS", "自理能力评估", "assessment", None, None, False),))
    for worker in ("a-worker1", "a-worker2"):
        put_on_work_list(app, "ganxian", a_contract, worker)
    put_on_work_list(app, "ganxian", b_contract, "b-worker1")
    people = {name: register(app, "ganxian", name, number(i)) for i, name in
              enumerate(("刘桂英", "陈德福", "黄秀兰", "钟长生"), start=11)}
    assign(app, "ganxian", a_contract, people["刘桂英"], "a-worker1")
    assign(app, "ganxian", a_contract, people["陈德福"], "a-worker1")
    assign(app, "ganxian", a_contract, people["黄秀兰"], "a-worker2")
    assign(app, "ganxian", b_contract, people["钟长生"], "b-worker1")
    return {"a_contract": a_contract, "b_contract": b_contract, "people": people}
