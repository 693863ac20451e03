"""The contractors of the demo world (docs/API.md): A, a social-work agency, and B, a company,
both approved in ganxian; C approved in zhanggong; their managers, field workers on their rosters
and a few months of employment evidence. Every step looks before it creates."""
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
    today = local_today()
    months = _months_before(today, EVIDENCE_MONTHS)
    joined = months[0].replace(year=months[0].year - 1)
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


def _roster_entry(contractor, user, name, number, phone, qualification, joined, months):
    created = 0
    digest = crypto.keyed_hash(number)
    member = db.session.execute(select(StaffMember).where(
        StaffMember.id_number_hash == digest, StaffMember.left_on.is_(None))).scalar_one_or_none()
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
