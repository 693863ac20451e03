"""Survey contracts and families for the schedule and statistics tests (docs/DOMAIN.md §6), with
surveys written as rows — the columns the recording and the sign-off leave — so that each test
sets exactly the days, outcomes and amounts it checks. Contractor A's and B's survey contracts in
ganxian (item HH-SURVEY, unit household_survey), a-worker1 and b-worker1 on their work lists, and
families in two townships. Each helper opens its own app context and tenant scope and commits."""
import uuid
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import select

from portal.core.timeutil import local_today
from tests import support
from tests.beneficiary_world import assign, make_contract, number, put_on_work_list, register

SURVEY_ITEMS = (("HH-SURVEY", "家庭经济状况调查", "household_survey", None, None, False),)
# name → (township, contractor): A's families in 梅林镇 and one in 王母渡镇, B's in 梅林镇
FAMILIES = {"张秀英": ("梅林镇", "a"), "李建国": ("梅林镇", "a"), "王桂兰": ("王母渡镇", "a"),
            "赵德明": ("梅林镇", "b"), "孙玉珍": ("王母渡镇", "b")}
UNASSIGNED = "周文华"  # registered, on no survey contract
BEIJING = timezone(timedelta(hours=8))
TODAY = local_today()  # the bureau's day (Beijing), as the services count it


def gx(app):
    return support.World(app).tenant_id("ganxian")


def scope(app):
    from portal.tenancy.scope import tenant_scope
    return tenant_scope(gx(app))


def at(day, hour=10):
    """``day`` at ``hour`` in Beijing, as an aware UTC datetime."""
    return datetime.combine(day, time(hour), tzinfo=BEIJING).astimezone(timezone.utc)


def rows_world(app):
    """{"contracts": {"a": id, "b": id}, "people": {name: id}}. Built once per run on the demo people."""
    return support.built_once(app, "survey_rows_world", _build, on="demo")


def _build(app):
    contracts = {"a": make_contract(app, "ganxian", "a-manager", items=SURVEY_ITEMS),
                 "b": make_contract(app, "ganxian", "b-manager", items=SURVEY_ITEMS)}
    workers = {"a": "a-worker1", "b": "b-worker1"}
    for key, worker in workers.items():
        put_on_work_list(app, "ganxian", contracts[key], worker)
    people = {}
    for index, (name, (township, key)) in enumerate(FAMILIES.items(), start=61):
        people[name] = register(app, "ganxian", name, number(index), category="dibao", township=township,
                                village="新村")
        assign(app, "ganxian", contracts[key], people[name], workers[key])
    people[UNASSIGNED] = register(app, "ganxian", UNASSIGNED, number(70), category="dibao", township="梅林镇")
    return {"contracts": contracts, "people": people}


def set_schedule(app, months, **settings):
    """The bureau's ``resurvey_months`` (and any other settings given)."""
    from portal.extensions import db
    from portal.tenancy.models import Tenant
    from portal.tenancy.services import change_settings
    with app.app_context(), scope(app):
        change_settings(db.session.get(Tenant, gx(app)), {"resurvey_months": months, **settings})
        db.session.commit()


def add_survey(app, world, name, day, *, outcome="eligible", category="dibao", status="signed_off", per_capita=50000,
               standard=80000, next_due_on=None, hour=10, kind="review", schedule=False):
    """A survey row of ``name``'s family made on ``day`` (Beijing), as recorded and signed off;
    ``next_due_on`` as given, or as the schedule computes it when ``schedule``. Returns its id."""
    from portal.accounts.models import User
    from portal.contracts.models import Contract
    from portal.extensions import db
    from portal.surveys.models import HouseholdSurvey
    from portal.surveys.schedule import next_due_on as scheduled
    key = FAMILIES[name][1]
    with app.app_context(), scope(app):
        contract = db.session.get(Contract, world["contracts"][key])
        surveyor = db.session.execute(select(User).where(User.username == f"{key}-worker1")).scalar_one()
        row = HouseholdSurvey(
            client_id=str(uuid.uuid4()), body_hash="0" * 64, kind=kind, category=category, area="urban",
            contract_id=contract.id, contractor_id=contract.contractor_id, beneficiary_id=world["people"][name],
            surveyor_user_id=surveyor.id, surveyed_at=at(day, hour), lat=25.861, lon=115.012, members_count=2,
            annual_income_fen=per_capita * 24, per_capita_income_fen=per_capita, standard_fen=standard,
            marginal_limit_fen=standard * 150 // 100, outcome=outcome, reasons=[], status=status,
            signed_off_at=at(day + timedelta(days=2)) if status == "signed_off" else None, next_due_on=next_due_on)
        db.session.add(row)
        db.session.flush()
        if schedule:
            row.next_due_on = scheduled(row)
        db.session.commit()
        return row.id


def user(username):
    from portal.accounts.models import User
    from portal.extensions import db
    return db.session.execute(select(User).where(User.username == username)).scalar_one()
