"""The demo registry (docs/API.md): 22 ganxian people around 25.86 N, 115.01 E, mostly 特困人员,
assigned to contractor A's care contract with a-worker1 and a-worker2 (who are put on its work
list), one in hospital and one deceased since last month (so that visit verification has V06
cases); four zhanggong people assigned to contractor C's contract with zg-worker1.

ID numbers carry the region code valid in the holder's birth year (python-stdnum checks it): the
elderly were born under the old Ganzhou prefecture codes (362121 赣县, 362101 赣州市), the young
under today's 3607xx codes (360721 赣县, 360702 章贡区). Every step looks before it creates."""
import math
from datetime import date, timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.beneficiaries.models import Beneficiary, BeneficiaryStatus
from portal.beneficiaries.services import new_beneficiary
from portal.contractors.demo import CONTRACTORS, id_number
from portal.contractors.models import Contractor, StaffMember
from portal.contracts.models import Assignment, Contract, ContractWorker, ServiceItem
from portal.core import crypto
from portal.core.timeutil import local_today
from portal.extensions import db
from portal.tenancy.scope import all_tenants, tenant_scope

# (name, region code, birth date YYYYMMDD, sequence (odd = male), category, township, village, address)
GANXIAN = [
    ("刘桂英", "362121", "19430312", "022", "tekun", "梅林镇", "城郊村", "城郊村下坝组15号"),
    ("陈德福", "362121", "19410806", "031", "tekun", "梅林镇", "城郊村", "城郊村新屋组3号"),
    ("黄秀兰", "362121", "19450117", "044", "tekun", "梅林镇", "大田村", "大田村上排组22号"),
    ("钟长生", "362121", "19390925", "015", "tekun", "梅林镇", "大田村", "大田村塘背组8号"),
    ("谢春花", "362121", "19480402", "062", "tekun", "梅林镇", "水南村", "水南村河背组11号"),
    ("曾庆华", "362121", "19440728", "073", "tekun", "梅林镇", "水南村", "水南村老街组6号"),
    ("赖金秀", "362121", "19460211", "084", "tekun", "王母渡镇", "王母渡村", "王母渡村圩上组19号"),
    ("邱福生", "362121", "19400530", "091", "tekun", "王母渡镇", "王母渡村", "王母渡村坪背组2号"),
    ("温玉梅", "362121", "19471019", "102", "tekun", "王母渡镇", "高坑村", "高坑村岭下组9号"),
    ("肖文清", "362121", "19421203", "117", "tekun", "王母渡镇", "高坑村", "高坑村石门组14号"),
    ("朱冬娣", "362121", "19490624", "128", "tekun", "储潭镇", "储潭村", "储潭村码头组5号"),
    ("罗有财", "362121", "19380315", "139", "tekun", "储潭镇", "储潭村", "储潭村中屋组17号"),
    ("廖满英", "362121", "19500909", "140", "tekun", "储潭镇", "贡江村", "贡江村河边组4号"),
    ("郭水根", "362121", "19451111", "153", "tekun", "储潭镇", "贡江村", "贡江村新村组21号"),
    ("杨细妹", "362121", "19520220", "164", "tekun", "梅林镇", "城郊村", "城郊村大屋组7号"),
    ("叶春林", "362121", "19430817", "175", "tekun", "王母渡镇", "王母渡村", "王母渡村河口组12号"),
    ("胡兰香", "362121", "19560103", "186", "dibao", "储潭镇", "储潭村", "储潭村上街组10号"),
    ("徐海明", "362121", "19580714", "197", "dibao", "梅林镇", "大田村", "大田村井头组3号"),
    ("李欣怡", "360721", "20130506", "208", "de_facto_orphan", "梅林镇", "水南村", "水南村河背组2号"),
    ("王子豪", "360721", "20120919", "219", "orphan", "王母渡镇", "高坑村", "高坑村岭下组1号"),
    ("蔡志强", "360721", "20010322", "231", "disabled", "储潭镇", "贡江村", "贡江村河边组9号"),
    ("邹丽娟", "360721", "19990810", "242", "disabled", "梅林镇", "城郊村", "城郊村下坝组20号"),
]
ZHANGGONG = [
    ("宋桂芳", "362101", "19440405", "322", "tekun", "南外街道", "南外社区", "南外社区文清路18号"),
    ("杜春生", "362101", "19410118", "331", "tekun", "沙石镇", "沙石村", "沙石村圩镇组6号"),
    ("范思琪", "360702", "20140227", "342", "de_facto_orphan", "水西镇", "水西村", "水西村新街组3号"),
    ("彭建华", "360702", "20000613", "351", "disabled", "沙河镇", "沙河村", "沙河村上屋组11号"),
]
GANXIAN_CENTRE, ZHANGGONG_CENTRE = (25.86, 115.01), (25.83, 114.93)
HOSPITALISED, DECEASED = "钟长生", "罗有财"  # in hospital since the 10th of last month; died on the 18th


def _home(centre, index):
    """A point about 0.6–4.3 km from the centre, spread around it."""
    distance_km = 0.6 + (index * 0.37) % 3.7
    angle = index * 2.399  # the golden angle, so the homes do not line up
    lat = centre[0] + distance_km / 111.0 * math.sin(angle)
    lon = centre[1] + distance_km / (111.0 * math.cos(math.radians(centre[0]))) * math.cos(angle)
    return round(lat, 6), round(lon, 6)


def _phone(index, tenant_code):
    return f"1397970{(1000 if tenant_code == 'ganxian' else 2000) + index:04d}"


def _last_month(today, day):
    first = today.replace(day=1)
    return (first - timedelta(days=1)).replace(day=day)


def _people(specs, centre, tenant_code, since):
    """Create the people of one bureau who are missing; returns (people by name, rows created)."""
    people, created = {}, 0
    for index, (name, region, born, sequence, category, township, village, address) in enumerate(specs):
        number = id_number(region + born + sequence)
        person = db.session.execute(select(Beneficiary).where(
            Beneficiary.id_number_hash.in_(crypto.keyed_hashes(number)))).scalar_one_or_none()
        if person is None:
            lat, lon = _home(centre, index)
            person = new_beneficiary({"name": name, "category": category, "township": township, "village": village,
                                      "address": address, "lat": lat, "lon": lon,
                                      "phone": _phone(index, tenant_code)}, number, since)
            db.session.add(person)
            db.session.flush()
            created += 2  # the person and their first status
        people[name] = person
    return people, created


def _status(person, status, day):
    """Record a dated change once (directly: seeding may date it as the demo needs)."""
    if any(e.effective_on == day for e in person.history):
        return 0
    person.history.append(BeneficiaryStatus(status=status, effective_on=day, note="演示数据"))
    latest = max(person.history, key=lambda e: e.effective_on)
    person.status, person.status_since = latest.status, latest.effective_on
    db.session.flush()
    return 1


def demo_contract(contractor_code, item_code=None):
    """The demo contract of a contractor in the current bureau (the latest, if several), or None."""
    spec = next(s for s in CONTRACTORS if s["key"] == contractor_code)
    with all_tenants():
        contractor_id = db.session.execute(select(Contractor.id).where(Contractor.credit_code == spec["code"])).scalar()
    stmt = select(Contract).where(Contract.contractor_id == contractor_id,
                                  Contract.status.not_in(("completed", "terminated")))
    if item_code:
        stmt = stmt.where(Contract.id.in_(select(ServiceItem.contract_id).where(ServiceItem.code == item_code)))
    return db.session.execute(stmt.order_by(Contract.id.desc()).limit(1)).scalar_one_or_none()


def _worker(username):
    return db.session.execute(select(StaffMember).join(User, User.id == StaffMember.user_id).where(
        User.username == username, StaffMember.left_on.is_(None))).scalar_one_or_none()


def assign_round_robin(contract, people, usernames):
    """Put the workers on the contract's work list and share the people among them, from the day
    the contract starts. Returns the rows created."""
    created = 0
    workers = [w for w in (_worker(u) for u in usernames) if w is not None]
    if contract is None or not workers:
        return 0
    start = contract.starts_on
    for worker in workers:
        listed = db.session.execute(select(ContractWorker.id).where(
            ContractWorker.contract_id == contract.id, ContractWorker.staff_id == worker.id)).first()
        if listed is None:
            db.session.add(ContractWorker(contract_id=contract.id, staff_id=worker.id,
                                          from_on=max(start, worker.joined_on)))
            created += 1
    for index, person in enumerate(people):
        assigned = db.session.execute(select(Assignment.id).where(
            Assignment.contract_id == contract.id, Assignment.beneficiary_id == person.id)).first()
        if assigned is None:
            worker = workers[index % len(workers)]
            db.session.add(Assignment(contract_id=contract.id, beneficiary_id=person.id, staff_id=worker.id,
                                      from_on=max(start, worker.joined_on)))
            created += 1
    db.session.flush()
    return created


def seed_beneficiaries(tenants):
    """Create what is missing of the demo registry and its assignments; ``tenants`` maps codes to
    Tenant rows. Call it after the demo contracts exist (assignments need them; a later run adds
    what an earlier one could not). Returns how many rows were created."""
    created = 0
    today = local_today()
    since = date(today.year - 2, 1, 1)
    with tenant_scope(tenants["ganxian"].id):
        people, n = _people(GANXIAN, GANXIAN_CENTRE, "ganxian", since)
        created += n
        created += _status(people[HOSPITALISED], "hospitalised", _last_month(today, 10))
        created += _status(people[DECEASED], "deceased", _last_month(today, 18))
        created += assign_round_robin(demo_contract("A", "CARE-VISIT"), list(people.values()),
                                      ("a-worker1", "a-worker2"))
    with tenant_scope(tenants["zhanggong"].id):
        people, n = _people(ZHANGGONG, ZHANGGONG_CENTRE, "zhanggong", since)
        created += n
        created += assign_round_robin(demo_contract("C"), list(people.values()), ("zg-worker1",))
    return created
