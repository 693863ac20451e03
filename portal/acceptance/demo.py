"""The demo's acceptance (履约验收, issue 20 part 2): A's care contract (CARE-VISIT) for last month,
whose visits were verified (visits/demo.py). The sample is drawn with a fixed seed from the people
served; every sampled person is asked a few days after the month (one through a guardian, one at
home, the last unreachable), the committee of three signs, gx-supervisor records the result
(passed) and gx-officer publishes it. The comments name nobody. The same for the final acceptance
of A's previous contract (GX-DEMO-000, its whole period: what lets its final month be paid).

Everything goes through the services; an acceptance of the contract already there is left alone,
so a second run changes nothing."""
import io
from datetime import timedelta

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.acceptance import decisions, services
from portal.acceptance.models import Acceptance
from portal.accounts.models import User
from portal.beneficiaries.demo import demo_contract
from portal.core.months import month_days, previous_month
from portal.core.timeutil import local_today
from portal.extensions import db
from portal.tenancy.scope import tenant_scope

SEED = "demo-acceptance-care-visit"
FINAL_SEED = "demo-acceptance-gx-demo-000"
# (respondent, method, opinion, comment), in turn over the sample; the last sampled person unreachable
ANSWERS = (("self", "phone", "satisfied", "服务人员很耐心，每次都按约定时间上门。"),
           ("guardian", "home_visit", "satisfied", "家属反映老人近来精神比以前好。"),
           ("self", "home_visit", "basic", "希望上门时间能再固定一些。"),
           ("self", "phone", "satisfied", ""))
UNREACHABLE = ("self", "phone", "unreachable", "三次拨打均无人接听。")
MEMBERS = [{"name": "黄志明", "affiliation": "赣县区民政局", "signed": True},
           {"name": "钟秀英", "affiliation": "赣南医学院护理学院", "signed": True},
           {"name": "李卫东", "affiliation": "赣县区梅林镇人民政府", "signed": True}]
CONCLUSION = "抽样征询服务对象意见，满意和基本满意占比较高，服务记录与核验结果一致，同意验收合格。"
FINAL_CONCLUSION = ("合同期满终验：抽样征询服务对象及监护人意见，满意和基本满意占比较高；全期服务记录、抽查核验与季度考核结果一致，"
                    "同意验收合格，可支付尾款。")
SIGNED_PDF = b"%PDF-1.4\n% demo acceptance record, signed\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _run(contract, start, end, tenant, users, seed, conclusion):
    """An acceptance of ``contract`` for ``start`` – ``end`` through the services: the sample asked a
    few days after the period (the last one unreachable), the committee signed, passed by
    gx-supervisor, published by gx-officer. Returns rows created."""
    today, supervisor = local_today(), users["gx-supervisor"]
    row = services.create(contract, start, end, tenant=tenant, user=supervisor, seed=seed)
    opinions = list(row.opinions)
    for position, opinion in enumerate(opinions):
        respondent, method, said, comment = (UNREACHABLE if position == len(opinions) - 1 and len(opinions) > 1
                                             else ANSWERS[position % len(ANSWERS)])
        services.record_opinion(row, opinion, respondent=respondent, method=method, opinion=said,
                                comment=comment, asked_on=min(today, end + timedelta(days=1 + position % 3)),
                                user=supervisor)
    decisions.set_committee(row, MEMBERS, conclusion)
    decisions.attach_signed_record(row, FileStorage(io.BytesIO(SIGNED_PDF), filename="验收记录（签字）.pdf"),
                                   supervisor)
    decisions.decide(row, "passed", supervisor)
    decisions.publish(row, users["gx-officer"])
    db.session.flush()
    return 3 + len(opinions)


def _users():
    return {u.username: u for u in db.session.scalars(select(User).where(
        User.username.in_(("gx-officer", "gx-supervisor"))))}


def seed_acceptance(tenants):
    """Create the demo acceptance if it is missing; returns rows created (roughly)."""
    with tenant_scope(tenants["ganxian"].id):
        contract = demo_contract("A", "CARE-VISIT")
        if contract is None or db.session.scalar(
                select(Acceptance.id).where(Acceptance.contract_id == contract.id)) is not None:
            return 0
        start, end = month_days(previous_month(local_today()))
        start = max(start, contract.starts_on)
        users = _users()
        if not services.people_served(contract.id, start, end) or len(users) < 2:
            return 0
        return _run(contract, start, end, tenants["ganxian"], users, SEED, CONCLUSION)


def seed_final_acceptance(tenants):
    """The final acceptance of A's previous contract (GX-DEMO-000): its whole period, passed and
    published, so that its final month can be paid (acceptance/results.py final_payment_refusal).
    Created when the contract has no acceptance yet; returns rows created."""
    from portal.contracts.history_demo import previous_contract
    with tenant_scope(tenants["ganxian"].id):
        contract, users = previous_contract(), _users()
        if contract is None or len(users) < 2 or db.session.scalar(
                select(Acceptance.id).where(Acceptance.contract_id == contract.id)) is not None:
            return 0
        if not services.people_served(contract.id, contract.starts_on, contract.ends_on):
            return 0
        return _run(contract, contract.starts_on, contract.ends_on, tenants["ganxian"], users, FINAL_SEED,
                    FINAL_CONCLUSION)
