"""The contractors of the demo world (docs/API.md): A, a social-work agency, and B, a company,
both approved in ganxian; C approved in zhanggong; their managers, field workers on their rosters
and a few months of employment evidence; with the demo's history, B's station social workers
(seed_station_roster). Every step looks before it creates."""
from datetime import date

from sqlalchemy import select
from stdnum.cn import ric, uscc

from portal.accounts.models import User
from portal.contractors.models import Contractor, ContractorRegistration, StaffEmployment, StaffMember
from portal.core import crypto
from portal.core.timeutil import local_today, utcnow
from portal.extensions import db
from portal.tenancy.scope import all_tenants


def credit_code(first17):
    """A unified social credit code with its check digit (python-stdnum computes it)."""
    return first17 + uscc.calc_check_digit(first17)


def id_number(first17):
    """A resident ID number with its check digit (stdnum's function ignores the last character)."""
    return first17 + ric.calc_check_digit(first17 + "0")


# Region codes 3607xx (Ganzhou) valid in the holders' birth years (stdnum checks both).
CONTRACTORS = [
    {"key": "A", "name": "赣州市阳光社会工作服务中心", "code": credit_code("52360721MJ0000012"),
     "kind": "social_work_agency", "legal_representative": "李明", "phone": "0797-4412345",
     "address": "江西省赣州市赣县区梅林镇章水路8号", "approved_in": ["ganxian"],
     "manager": ("a-manager", "阳光社工中心负责人"),
     "workers": [("a-worker1", "陈晓红", id_number("36072120000315042"), "13907970001", "助理社会工作师"),
                 ("a-worker2", "刘建国", id_number("36072119990708213"), "13907970002", "社会工作师")]},
    {"key": "B", "name": "赣州康宁养老服务有限公司", "code": credit_code("91360721MA3500003"),
     "kind": "company", "legal_representative": "王芳", "phone": "0797-4423456",
     "address": "江西省赣州市赣县区城南大道66号", "approved_in": ["ganxian"],
     "manager": ("b-manager", "康宁养老服务负责人"),
     "workers": [("b-worker1", "黄丽萍", id_number("36073120011122064"), "13907970003", "养老护理员")]},
    {"key": "D", "name": "赣州市同心社会工作服务中心", "code": credit_code("52360721MJ0000034"),
     "kind": "social_work_agency", "legal_representative": "孙丽", "phone": "0797-4434567",
     "address": "江西省赣州市赣县区长征大道120号", "approved_in": ["ganxian"],
     "manager": ("d-manager", "同心社工中心负责人"),
     "workers": [("d-worker1", "邱志远", id_number("36072119990214051"), "13907970005", "社会工作者")]},
    {"key": "E", "name": "赣州市和美社会工作服务中心", "code": credit_code("52360721MJ0000056"),
     "kind": "social_work_agency", "legal_representative": "周静", "phone": "0797-4445678",
     "address": "江西省赣州市赣县区赣新大道18号", "approved_in": ["ganxian"],
     "manager": ("e-manager", "和美社工中心负责人"),
     "workers": [("e-worker1", "曾海燕", id_number("36072119980815024"), "13907970006", "社会工作者")]},
    {"key": "C", "name": "赣州市章贡区仁爱社会工作服务社", "code": credit_code("52360702MJ0000023"),
     "kind": "social_work_agency", "legal_representative": "赵强", "phone": "0797-8234567",
     "address": "江西省赣州市章贡区红旗大道21号", "approved_in": ["zhanggong"],
     "manager": None,
     "workers": [("zg-worker1", "钟伟", id_number("36070219980520031"), "13907970004", "社会工作者")]},
]
EVIDENCE_MONTHS = 3

# B's social workers for the stations of GX-DEMO-003 (stations/demo.py posts them): (name, ID number
# without its check digit, qualification). Accounts b-sw01 … b-sw30 (社工), in this order: each
# checks in at the station with the field app. Born before 1999 under the old prefecture code
# 362121 (赣县), from 1999 under 360721.
STATION_WORKERS = [
    ("罗晓燕", "36212119870312042", "社会工作师"), ("钟志华", "36212119900521033", "社会工作师"),
    ("谢丽娟", "36212119930817024", "社会工作师"), ("刘家豪", "36212119950203015", "助理社会工作师"),
    ("黄雅琴", "36212119961109046", "社会工作师"), ("曾文斌", "36212119920614057", "社会工作师"),
    ("赖小芳", "36212119970225068", "助理社会工作师"), ("邱俊杰", "36212119941030079", "社会工作师"),
    ("温秀琴", "36212119910408082", "社会工作师"), ("肖永康", "36212119960719093", "助理社会工作师"),
    ("朱慧敏", "36072119990311104", "助理社会工作师"), ("廖建军", "36212119890922115", "社会工作师"),
    ("郭婷婷", "36072120000116126", "助理社会工作师"), ("杨明亮", "36212119980527137", "助理社会工作师"),
    ("胡佳怡", "36072120010804148", "助理社会工作师"), ("徐国庆", "36212119931001159", "社会工作师"),
    ("蔡思雨", "36072119990623162", "助理社会工作师"), ("邹伟", "36212119950412173", "社会工作师"),
    ("叶红梅", "36212119920130184", "社会工作师"), ("李振宇", "36072120000905195", "助理社会工作师"),
    ("王晓丽", "36212119970318206", "助理社会工作师"), ("陈志刚", "36212119880707217", "社会工作师"),
    ("张美玲", "36072120020214228", "助理社会工作师"), ("周浩然", "36072119991126239", "助理社会工作师"),
    ("吴雪芬", "36212119940508242", "社会工作师"), ("卢文华", "36212119900819253", "社会工作师"),
    ("宋丽平", "36212119961212264", "助理社会工作师"), ("池海波", "36212119930304275", "社会工作师"),
    ("彭雨欣", "36072120010627286", "助理社会工作师"), ("何建平", "36212119910915297", "社会工作师"),
]


def _months_before(day, count):
    months, year, month = [], day.year, day.month
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        months.append(date(year, month, 1))
    return sorted(months)


def _user(username, display_name, role, password, contractor_id):
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is not None:
        return user, 0
    user = User(username=username, display_name=display_name, role=role, contractor_id=contractor_id)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user, 1


def seed_contractors(password, tenants):
    """Create what is missing of the demo contractors; ``tenants`` maps codes to Tenant rows.
    Returns how many rows were created."""
    created = 0
    joined, months = _evidence_period()
    with all_tenants():
        officer = db.session.execute(select(User).where(User.role == "officer")).scalars().first()
        for spec in CONTRACTORS:
            contractor = db.session.execute(
                select(Contractor).where(Contractor.credit_code == spec["code"])).scalar_one_or_none()
            if contractor is None:
                contractor = Contractor(name=spec["name"], credit_code=spec["code"], kind=spec["kind"],
                                        legal_representative=spec["legal_representative"],
                                        contact_phone=spec["phone"], address=spec["address"])
                db.session.add(contractor)
                db.session.flush()
                created += 1
            for code in spec["approved_in"]:
                tenant = tenants[code]
                exists = db.session.execute(select(ContractorRegistration.id).where(
                    ContractorRegistration.tenant_id == tenant.id,
                    ContractorRegistration.contractor_id == contractor.id)).first()
                if exists is None:
                    db.session.add(ContractorRegistration(
                        tenant_id=tenant.id, contractor_id=contractor.id, status="approved",
                        decided_by_id=officer.id if officer and officer.tenant_id == tenant.id else None,
                        decided_at=utcnow()))
                    created += 1
            if spec["manager"]:
                _, n = _user(*spec["manager"], "contractor_manager", password, contractor.id)
                created += n
            for username, name, number, phone, qualification in spec["workers"]:
                user, n = _user(username, name, "field_worker", password, contractor.id)
                created += n
                created += _roster_entry(contractor, user, name, number, phone, qualification, joined, months)
        db.session.flush()
    return created


def _evidence_period():
    """(the day the demo's staff joined, the months of employment evidence they have). They joined
    by Jan 1 two years back at the latest: A's workers served A's contract of the previous year
    from its tender on (contracts/history_demo.py, scorecards/demo.py)."""
    today = local_today()
    months = _months_before(today, EVIDENCE_MONTHS)
    return min(months[0].replace(year=months[0].year - 1), date(today.year - 2, 1, 1)), months


def station_usernames():
    """The usernames of B's station workers, in STATION_WORKERS order."""
    return [f"b-sw{n:02d}" for n in range(1, len(STATION_WORKERS) + 1)]


def seed_station_roster(password):
    """B's station social workers on B's roster, each with a field-worker account and the months of
    employment evidence the others have. Returns how many rows were created."""
    spec = next(s for s in CONTRACTORS if s["key"] == "B")
    created = 0
    joined, months = _evidence_period()
    with all_tenants():
        contractor = db.session.execute(
            select(Contractor).where(Contractor.credit_code == spec["code"])).scalar_one_or_none()
        if contractor is None:
            return 0
        for index, (username, (name, first17, qualification)) in enumerate(zip(station_usernames(), STATION_WORKERS)):
            user, n = _user(username, name, "field_worker", password, contractor.id)
            created += n
            created += _roster_entry(contractor, user, name, id_number(first17), f"1390797{1101 + index:04d}",
                                     qualification, joined, months)
        db.session.flush()
    return created


def _roster_entry(contractor, user, name, number, phone, qualification, joined, months):
    created = 0
    digest = crypto.keyed_hash(number)
    member = db.session.execute(select(StaffMember).where(
        StaffMember.id_number_hash.in_(crypto.keyed_hashes(number)), StaffMember.left_on.is_(None))).scalar_one_or_none()
    if member is None:
        member = StaffMember(contractor_id=contractor.id, name=name, id_number_encrypted=crypto.encrypt(number),
                             id_number_hash=digest, id_number_masked=crypto.mask_id_number(number),
                             phone=phone, qualification=qualification, joined_on=joined, user_id=user.id)
        db.session.add(member)
        db.session.flush()
        created += 1
    have = set(db.session.execute(select(StaffEmployment.month).where(StaffEmployment.staff_id == member.id)).scalars())
    for month in months:
        if month not in have:
            db.session.add(StaffEmployment(staff_id=member.id, month=month, labour_contract=True,
                                           insured_by_credit_code=contractor.credit_code))
            created += 1
    return created
