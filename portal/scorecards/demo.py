"""The delivery history of A's previous care contract (tender GX-DEMO-000, made by
portal/contracts/history_demo.py) and its published quarterly scorecards (docs/DOMAIN.md §7), so
that the demo shows the previous year's and the last quarters' scores of A's work:

1. A's people assigned to it as to the current contract (the same workers a-worker1 and a-worker2,
   on its work list), both until its last day.
2. Per month about the expected share of its quota (≈ 17 visits a month, one quarter weaker): one
   clean visit a working day per worker at most, to the worker's people in turn, 60–120 minutes,
   checked in near the home, with a photo. About 330 visits in all, stored directly as verified
   Visit rows (with the client id and body hash of the upload each stands for, and one small JPEG
   as every visit's photo): through the real recording and verification (visits/recording.py,
   as visits/demo.py ``_record`` does) they cost about 30 s of seeding, for clean visits whose
   outcome is known — the recording is exercised by visits/demo.py's month.
3. Each month's spot-check sample (2 checks) drawn by gx-supervisor on the first working day after
   the month and decided: confirmed with satisfaction 4–5, one not confirmed in the weak quarter.
4. The contract completed on its last day.
5. The scorecard of every quarter of the period computed (scorecards.services.compute) and
   published by gx-officer on the first working day after the quarter.

Seeded after the statements (portal/demo.py). Every step looks before it creates, so a second run
creates nothing."""
import random
import uuid
from datetime import timedelta

from sqlalchemy import select, update

from portal.accounts.models import User
from portal.beneficiaries.demo import assign_round_robin
from portal.beneficiaries.models import Beneficiary
from portal.contracts import services as contract_services
from portal.contractors.models import StaffMember
from portal.contracts.history_demo import ITEM, contract_of_tender, previous_contract
from portal.contracts.models import Assignment, ContractWorker
from portal.core.geo import haversine_m
from portal.core.months import last_day, month_text, months_between
from portal.extensions import db
from portal.files.services import IMAGE_TYPES, store_upload
from portal.scorecards.services import compute, find, parse_quarter, publish, quarter_of
from portal.spotchecks.services import draw, find_sample, record_outcome
from portal.tenancy.scope import tenant_scope
from portal.tenancy.workdays import tenant_calendar
from portal.tenders.demo import AWARDED_NUMBER, local_at
from portal.visits.demo import NAMESPACE, NEAR_M, WORKERS, _local, _near, _people_of, tiny_jpeg
from portal.visits.models import Visit, VisitPhoto
from portal.visits.recording import body_hash

# Visits a month, per quarter of the contract from its first (Q1 of the previous year): about the
# expected share (quota × days / days of the period ≈ 17 a month); the third quarter is weaker.
MONTHLY_VISITS = ((16, 15, 17), (17, 18, 16), (11, 10, 12), (15, 16, 14), (17, 16, 17), (16, 17, 18), (15, 17, 16))
WEAK_QUARTER = 2  # its middle month's first spot check is not confirmed
SERVICES = ["daily_watch", "personal_care", "emotional_comfort", "humanistic_care"]
NOT_CONFIRMED = "老人表示当天无人上门服务，家属也未见服务人员。"


def _quarter_index(contract, month):
    return ((month.year - contract.starts_on.year) * 12 + month.month - contract.starts_on.month) // 3


def _assign(contract):
    """A's people on the previous contract with the same workers as on the current one, until its
    last day. Returns rows created."""
    current = contract_of_tender(AWARDED_NUMBER, ITEM)
    if current is None:
        return 0
    people = db.session.scalars(select(Beneficiary).join(Assignment, Assignment.beneficiary_id == Beneficiary.id)
                                .where(Assignment.contract_id == current.id).order_by(Assignment.id)).all()
    people = list(dict.fromkeys(people))
    created = assign_round_robin(contract, people, WORKERS)
    if created:
        for model in (Assignment, ContractWorker):
            db.session.execute(update(model).where(model.contract_id == contract.id, model.until_on.is_(None))
                               .values(until_on=contract.ends_on))
        db.session.flush()
    return created


def _plan(contract, people, calendar):
    """The planned visits of the whole period, in time order: a worker's in the morning, the other's
    in the afternoon; returns (plan, the generator that goes on placing them)."""
    rng = random.Random(f"demo-history:{contract.number}")  # nosec B311 # demo data, the same on every seeding
    plan, turns = [], {username: 0 for username in WORKERS}
    for month in months_between(contract.starts_on, contract.ends_on):
        first, last = max(month, contract.starts_on), min(last_day(month), contract.ends_on)
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        days = [d for d in days if calendar.is_working_day(d)]
        counts = MONTHLY_VISITS[_quarter_index(contract, month) % len(MONTHLY_VISITS)]
        count = counts[(month.month - 1) % 3] * ((last - first).days + 1) // ((last_day(month) - month).days + 1)
        count = min(count, 2 * len(days))
        for i in range(count):
            username = WORKERS[i % 2]
            mine = people[username]
            person = mine[turns[username] % len(mine)]
            turns[username] += 1
            plan.append({"user": username, "person": person, "day": days[i * len(days) // count],
                         "start": 9 * 60 + rng.randint(0, 90) + (i % 2) * 240, "minutes": rng.randint(60, 120),
                         "device": f"demo-{username}-phone", "services": list(SERVICES)})
    plan.sort(key=lambda v: (v["day"], v["start"], v["user"]))
    return plan, rng


def _visit_row(entry, contract, item_id, staff, rng):
    """A verified Visit of a planned entry as the recording would have stored it (client id and
    body hash of the upload it stands for), or None when a previous run stored it already."""
    person, member = entry["person"], staff[entry["user"]]
    client_id = str(uuid.uuid5(NAMESPACE, f"{entry['user']}:{entry['day'].isoformat()}:{entry['start']}:"
                                          f"{person.id}:history"))
    check_in = _local(entry["day"], entry["start"])
    check_out = check_in + timedelta(minutes=entry["minutes"])
    lat, lon = _near(rng, person.lat, person.lon, NEAR_M)
    out_lat, out_lon = _near(rng, person.lat, person.lon, NEAR_M)
    payload = {"client_id": client_id, "beneficiary_id": person.id, "service_item": ITEM,
               "device_id": entry["device"], "services": entry["services"],
               "check_in": {"at": check_in.isoformat(), "lat": lat, "lon": lon, "accuracy_m": 12},
               "check_out": {"at": check_out.isoformat(), "lat": out_lat, "lon": out_lon}}
    return Visit(client_id=client_id, body_hash=body_hash(payload), contract_id=contract.id,
                 service_item_id=item_id, beneficiary_id=person.id, staff_id=member.id,
                 worker_user_id=member.user_id, contractor_id=contract.contractor_id, device_id=entry["device"],
                 check_in_at=check_in, check_in_lat=lat, check_in_lon=lon, check_in_accuracy_m=12,
                 check_out_at=check_out, check_out_lat=out_lat, check_out_lon=out_lon,
                 services=entry["services"], source="app", recorded_live=True,
                 received_at=check_in + timedelta(minutes=1), checked_out_received_at=check_out + timedelta(minutes=1),
                 status="verified", verified_at=check_out + timedelta(minutes=6),
                 distance_from_home_m=round(haversine_m(person.lat, person.lon, lat, lon)))


def _visits(contract, calendar):
    """Store what is missing of the planned visits as verified visits with their photo; returns
    how many were created."""
    people = _people_of(contract)
    item_id = next((i.id for i in contract.items if i.code == ITEM), None)
    staff = {u: m for u, m in db.session.execute(
        select(User.username, StaffMember).join(StaffMember, StaffMember.user_id == User.id)
        .where(User.username.in_(WORKERS), StaffMember.contractor_id == contract.contractor_id)).all()}
    if not all(people.values()) or item_id is None or len(staff) < len(WORKERS):
        return 0
    plan, rng = _plan(contract, people, calendar)
    have = set(db.session.scalars(select(Visit.client_id).where(Visit.contract_id == contract.id)))
    new = [row for row in (_visit_row(entry, contract, item_id, staff, rng) for entry in plan)
           if row.client_id not in have]
    if not new:
        return 0
    db.session.add_all(new)
    # one small JPEG stands for every visit's photo (CARE-VISIT requires one)
    photo = store_upload(None, data=tiny_jpeg(), allowed=IMAGE_TYPES, uploaded_by_id=new[0].worker_user_id)
    db.session.flush()
    db.session.add_all([VisitPhoto(visit_id=visit.id, file_id=photo.id,
                                   uploaded_at=visit.received_at + timedelta(minutes=2)) for visit in new])
    db.session.flush()
    return len(new)


def _spot_checks(contract, tenant, calendar):
    """Each month's sample drawn and decided on the first working day after the month; returns rows
    created."""
    supervisor = db.session.scalars(select(User).where(User.username == "gx-supervisor")).first()
    if supervisor is None:
        return 0
    created = 0
    for month in months_between(contract.starts_on, contract.ends_on):
        if find_sample(contract.id, month) is not None:
            continue
        drawn = local_at(calendar.add_working_days(last_day(month), 1), 9)
        result = draw(contract, month, tenant=tenant, user=supervisor, now=drawn,
                      seed=f"demo:{contract.number}:{month_text(month)}")
        if not result.created:
            continue
        created += 1
        rng = random.Random(f"demo-history-checks:{month_text(month)}")  # nosec B311 # demo data, the same on every seeding
        weak = _quarter_index(contract, month) == WEAK_QUARTER and (month.month - 1) % 3 == 1
        for index, check in enumerate(result.sample.checks):
            moment = drawn + timedelta(minutes=10 * index + 5)
            if weak and index == 0:
                record_outcome(check, method="home_visit", outcome="not_confirmed", user=supervisor,
                               reason=NOT_CONFIRMED, now=moment)
            else:
                record_outcome(check, method="phone", outcome="confirmed", user=supervisor,
                               satisfaction=rng.choice((4, 5, 5)), now=moment)
            created += 2  # the check's try and its outcome
    return created


def _scorecards(contract, tenant, calendar):
    """Every quarter of the period scored and published on the first working day after it."""
    officer = db.session.scalars(select(User).where(User.username == "gx-officer")).first()
    if officer is None:
        return 0
    created, quarter = 0, quarter_of(contract.starts_on)
    while parse_quarter(quarter)[0] <= contract.ends_on:
        end = parse_quarter(quarter)[1]
        existing = find(contract.id, quarter)
        if existing is None or existing.published_at is None:
            day = calendar.add_working_days(end, 1)
            scorecard = compute(contract, quarter, tenant=tenant, now=local_at(day, 15))
            publish(scorecard, officer, now=local_at(day, 16))
            created += 2
        quarter = quarter_of(end + timedelta(days=1))
    return created


def seed_history(tenants):
    """The delivery history, spot checks, completion and scorecards of A's previous contract in
    ganxian, what is missing of them; returns rows created (0 on a second run)."""
    tenant = tenants["ganxian"]
    with tenant_scope(tenant.id):
        contract = previous_contract()
        if contract is None:
            return 0
        calendar = tenant_calendar()
        created = _assign(contract)
        created += _visits(contract, calendar)
        created += _spot_checks(contract, tenant, calendar)
        if contract.status == "active":
            contract_services.complete(contract, contract.ends_on, now=local_at(contract.ends_on, 17))
            created += 1
        created += _scorecards(contract, tenant, calendar)
        db.session.flush()
    return created
