"""Open data (docs/DOMAIN.md §9, docs/API.md "Open data"): OCDS releases made at publication,
release and record packages valid against the official 1.1.5 schemas and codelists (carried in
portal/opendata/schema/, checked offline), and nothing private in any of it. Paging, caching and
the streamed bulk package: test_opendata_packages.py."""
import re
from datetime import date, timedelta

from sqlalchemy import select, text

from portal.core.timeutil import utcnow
from tests import support, tender_world
from tests.ocds_schema import record_package_errors, release_package_errors
from tests.opendata_world import API, pages, publish_intentions, scope, seed_full


# --- the demo world, validated -----------------------------------------------------------------

def test_every_package_of_the_demo_world_is_valid_ocds_and_private(app, client):
    seed_full(app)
    for code in ("ganxian", "zhanggong"):
        found = pages(client, code)
        for package in found:
            assert release_package_errors(package) == []
        releases = [r for package in found for r in package["releases"]]
        bulk = client.get(f"{API}/{code}/ocds/bulk")
        assert bulk.status_code == 200 and bulk.mimetype == "application/json"
        assert bulk.is_streamed
        package = bulk.get_json()
        assert release_package_errors(package) == []
        assert sorted(r["id"] for r in package["releases"]) == sorted(r["id"] for r in releases)
        records = {}
        for ocid in sorted({r["ocid"] for r in releases}):
            response = client.get(f"{API}/{code}/ocds/records/{ocid}")
            assert response.status_code == 200
            records[ocid] = response.get_json()
            assert record_package_errors(records[ocid]) == [], ocid
        texts = [bulk.get_data(as_text=True)] + [client.get(f"{API}/{code}/ocds/records/{o}").get_data(as_text=True)
                                                 for o in records]
        _assert_nothing_private(app, code, "\n".join(texts))

    # ganxian: the awarded tender's process from intention to contracts under one ocid
    releases = [r for p in pages(client, "ganxian") for r in p["releases"]]
    by_tags = {}
    for release in releases:
        by_tags.setdefault(release["tag"][0], []).append(release)
    assert {"planning", "tender", "award", "contract"} <= set(by_tags)
    prefix = releases[0]["ocid"].rsplit("-", 1)[0]
    assert re.fullmatch(r"ocds-[a-z0-9]{6}-ganxian", prefix)
    awarded = [r for r in by_tags["award"] if r["tender"]["id"] == "GX-DEMO-001"]
    assert len({r["ocid"] for r in awarded}) == 1
    ocid = awarded[0]["ocid"]
    # ... and, once last month's acceptance of A's care contract is published (acceptance/demo.py),
    # an implementation release
    assert {r["tag"][0] for r in releases if r["ocid"] == ocid} == {"planning", "tender", "award", "contract",
                                                                     "implementation"}
    compiled = client.get(f"{API}/ganxian/ocds/records/{ocid}").get_json()["records"][0]["compiledRelease"]
    assert compiled["tender"]["id"] == "GX-DEMO-001" and compiled["tender"]["status"] == "complete"
    assert compiled["tender"]["procurementMethod"] == "open"
    assert compiled["tender"]["procurementMethodDetails"] == "公开招标"
    winners = {a["suppliers"][0]["name"]: a["value"] for a in compiled["awards"]}
    assert winners == {"赣州市阳光社会工作服务中心": {"amount": 1_080_000, "currency": "CNY"},
                       "赣州康宁养老服务有限公司": {"amount": 270_000, "currency": "CNY"}}
    suppliers = [p for p in compiled["parties"] if "supplier" in p["roles"]]
    assert len(suppliers) == 2 and all(p["identifier"]["scheme"] == "CN-USCC" for p in suppliers)
    buyer = next(p for p in compiled["parties"] if p["id"] == compiled["buyer"]["id"])
    assert {"buyer", "procuringEntity"} <= set(buyer["roles"])
    assert len(compiled["contracts"]) == 2
    assert all("严禁服务转包" in c["description"] for c in compiled["contracts"])
    assert {c["awardID"] for c in compiled["contracts"]} == {a["id"] for a in compiled["awards"]}
    # amounts are decimal yuan with two places, exactly
    assert '"amount":1080000.00,"currency":"CNY"' in client.get(f"{API}/ganxian/ocds/bulk").get_data(as_text=True)
    # GX-DEMO-003: the first award cancelled after an upheld challenge, the next-ranked bidder's active
    corrected = [r for r in by_tags["award"] if r["tender"]["id"] == "GX-DEMO-003"]
    assert sorted(r["tag"] for r in corrected) == [["award"], ["award", "awardCancellation"]]
    record = client.get(f"{API}/ganxian/ocds/records/{corrected[0]['ocid']}").get_json()["records"][0]
    statuses = {a["suppliers"][0]["name"]: a["status"] for a in record["compiledRelease"]["awards"]}
    assert sorted(statuses.values()) == ["active", "cancelled"] and len(statuses) == 2
    # the open tender: a tender release, and nothing of its sealed bid
    open_release = next(r for r in by_tags["tender"] if r["tender"]["id"] == "GX-DEMO-004")
    assert open_release["tender"]["status"] == "active" and "awards" not in open_release
    assert "numberOfTenderers" not in open_release["tender"] and "tenderers" not in open_release["tender"]
    # zhanggong's single-source tender is "direct"
    zg = [r for p in pages(client, "zhanggong") for r in p["releases"] if r.get("tender", {}).get("procurementMethod")]
    assert zg and all(r["tender"]["procurementMethod"] == "direct" for r in zg)


def _assert_nothing_private(app, code, published):
    """No beneficiary name, ID number, phone, address or coordinates, no worker's ID number or
    phone, no contractor phone, and no price of a bid whose deadline has not passed."""
    from portal.beneficiaries.models import Beneficiary
    from portal.contractors.models import Contractor, StaffMember
    from portal.core.crypto import decrypt
    from portal.extensions import db
    from portal.tenders.models import Tender
    secrets = []
    with app.app_context():
        with scope(app, code):
            people = db.session.execute(select(Beneficiary)).scalars().all()
            for person in people:
                secrets += [person.name, decrypt(person.id_number_encrypted), person.phone, person.address]
                secrets += [f"{person.lat}", f"{person.lon}"] if person.lat is not None else []
            still_sealed = db.session.execute(select(Tender.id).where(Tender.bid_deadline > utcnow())).scalars().all()
        with support.as_platform(app):
            for member in db.session.execute(select(StaffMember)).scalars():
                secrets += [decrypt(member.id_number_encrypted), member.phone]
            secrets += [c.contact_phone for c in db.session.execute(select(Contractor)).scalars()]
    sealed = []
    if still_sealed:
        with support.owner_connection(app) as conn:  # past the seal and row-level security, to know the prices
            sealed = conn.execute(text(
                "SELECT bid.price_fen FROM bid JOIN lot ON bid.lot_id = lot.id WHERE lot.tender_id IN ("
                + ",".join(str(int(i)) for i in still_sealed) + ")")).scalars().all()
    assert people and (sealed or code == "zhanggong")
    leaked = [s for s in secrets if s and len(s) >= 4 and s in published]
    assert leaked == []
    for price in sealed:
        assert f"{price // 100}.{price % 100:02d}" not in published and str(price) not in published


# --- releases made as things are published -----------------------------------------------------

def test_an_award_appears_as_an_award_release_on_the_next_fetch(app, demo, client):
    from portal.extensions import db
    from portal.tenders import awards
    from portal.tenders.models import Lot
    world = tender_world.three_scored_bids(app)
    before = client.get(f"{API}/ganxian/ocds/releases?page=1")
    assert before.status_code == 200 and before.get_json()["releases"] == []
    with app.app_context(), scope(app):
        awards.confirm_award(db.session.get(Lot, world["lot"]), utcnow())
        db.session.commit()
    after = client.get(f"{API}/ganxian/ocds/releases?page=1", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    package = after.get_json()
    assert release_package_errors(package) == []
    release = package["releases"][0]
    assert release["tag"] == ["award"]
    [award] = release["awards"]
    assert award["value"] == {"amount": 100_000, "currency": "CNY"} and award["status"] == "active"
    assert award["suppliers"][0]["name"] == "乙养老服务公司"
    supplier = next(p for p in release["parties"] if p["id"] == award["suppliers"][0]["id"])
    assert supplier["roles"] == ["supplier"] and supplier["identifier"]["scheme"] == "CN-USCC"
    assert release["tender"]["status"] == "complete"
    # only the award result: no losing bid's price, no bid documents
    text = after.get_data(as_text=True)
    assert "90000.00" not in text and "120000.00" not in text


def test_a_paid_statement_becomes_an_implementation_release_with_a_transaction(app, client):
    from portal.billing.models import Statement
    from portal.contracts.models import Contract
    from portal.extensions import db
    from portal.opendata.releases import record_payment
    seed_full(app)
    with app.app_context(), scope(app):
        contract = db.session.execute(select(Contract).order_by(Contract.id)).scalars().first()
        statement = Statement(contract_id=contract.id, month="2026-10", number="JS-2026-10-001", status="paid",
                              gross_fen=1_234_600, deductions_fen=1_000, net_fen=1_233_567,
                              paid_on=date(2026, 11, 10), paid_at=utcnow(), payment_reference="银行回单 0001")
        db.session.add(statement)
        db.session.flush()
        first = record_payment(statement)
        assert record_payment(statement).id == first.id  # a retried job changes nothing
        contract_number, supplier, release_id = contract.number, contract.contractor.name, first.release_id
        db.session.commit()
    package = client.get(f"{API}/ganxian/ocds/releases").get_json()
    assert release_package_errors(package) == []
    # the demo's own payments (A's previous contract) are releases too: this one by its id
    release = next(r for r in package["releases"] if r["id"] == release_id)
    assert release["tag"] == ["implementation"]
    [entry] = release["contracts"]
    assert entry["id"] == contract_number
    [transaction] = entry["implementation"]["transactions"]
    assert transaction["value"] == {"amount": 12_335.67, "currency": "CNY"}
    assert transaction["date"] == "2026-11-10T00:00:00+08:00"
    assert transaction["payer"]["id"] == release["buyer"]["id"] and transaction["payee"]["name"] == supplier
    assert '"amount":12335.67' in client.get(f"{API}/ganxian/ocds/releases").get_data(as_text=True)
    record = client.get(f"{API}/ganxian/ocds/records/{release['ocid']}").get_json()
    assert record_package_errors(record) == []
    compiled = record["records"][0]["compiledRelease"]
    merged = next(c for c in compiled["contracts"] if c["id"] == contract_number)
    assert merged["implementation"]["transactions"][0]["id"] == "JS-2026-10-001"
    assert "严禁服务转包" in merged["description"]  # the contract release's terms survive the merge


def test_a_contract_amendment_is_a_contract_amendment_release(app, client):
    from portal.contracts import services
    from portal.contracts.models import Contract
    from portal.extensions import db
    seed_full(app)
    with app.app_context(), scope(app):
        contract = db.session.execute(select(Contract).order_by(Contract.id)).scalars().first()
        item = contract.items[0]  # about 5 % more of its first service, at its unit price
        units = contract.amount_fen // 20 // item.unit_price_fen
        services.add_amendment(contract, rationale="additional_quantity", description="增加上门服务",
                               added_fen=units * item.unit_price_fen, new_ends_on=None,
                               signed_on=max(contract.signed_on, date.today() - timedelta(days=1)), user=None,
                               added_quotas={item.code: units})
        services.publish_due_notices(utcnow())
        number, total = contract.number, contract.total_fen
        db.session.commit()
    [release] = [r for r in client.get(f"{API}/ganxian/ocds/releases").get_json()["releases"]
                 if "contractAmendment" in r["tag"]]
    assert release["tag"] == ["contractAmendment"]
    [entry] = release["contracts"]
    assert entry["id"] == number and entry["value"]["amount"] * 100 == total
    [amendment] = entry["amendments"]
    assert amendment["description"] == "增加上门服务" and amendment["releaseID"] == release["id"]
    assert amendment["amendsReleaseID"]
    record = client.get(f"{API}/ganxian/ocds/records/{release['ocid']}").get_json()
    assert record_package_errors(record) == []


def test_a_clarification_that_moves_the_deadline_is_a_tender_amendment(app, demo, client):
    from portal.tenancy.workdays import tenant_calendar
    from portal.extensions import db
    from portal.tenders.models import Tender
    made = tender_world.make_tender(app, deadline=utcnow() + timedelta(days=5))
    with app.app_context(), scope(app):
        tender = db.session.get(Tender, made["tender"])
        tender.clarify("服务人数由 200 人调整为 220 人。", True, utcnow(), tenant_calendar())
        tender.clarify("答疑：投标人可以联合体形式投标吗？不可以。", False, utcnow(), tenant_calendar())
        db.session.commit()
    package = client.get(f"{API}/ganxian/ocds/releases").get_json()
    assert release_package_errors(package) == []
    update, amendment = package["releases"]
    assert amendment["tag"] == ["tenderAmendment"] and update["tag"] == ["tenderUpdate"]
    assert amendment["tender"]["amendments"][0]["description"] == "服务人数由 200 人调整为 220 人。"
    assert amendment["tender"]["tenderPeriod"]["endDate"] > (utcnow() + timedelta(days=14)).isoformat()[:10]
    assert update["tender"]["documents"][0]["documentType"] == "clarifications"


def test_a_tender_whose_every_lot_failed_is_cancelled_as_unsuccessful(app, demo, client):
    from portal.extensions import db
    from portal.tenders import evaluation
    from portal.tenders.models import Tender
    made = tender_world.make_tender(app, deadline=utcnow())
    with app.app_context(), scope(app):
        evaluation.open_bids(db.session.get(Tender, made["tender"]), utcnow())  # no bids: the lot fails
        db.session.commit()
    package = client.get(f"{API}/ganxian/ocds/releases").get_json()
    assert release_package_errors(package) == []
    [release] = package["releases"]
    assert release["tag"] == ["tenderCancellation"] and release["tender"]["status"] == "unsuccessful"
    assert release["tender"]["documents"][0]["documentType"] == "cancellationDetails"


def test_an_intention_opens_a_planning_process_that_its_tender_continues(app, demo, client):
    from portal.extensions import db
    from portal.tenancy.models import Tenant
    from portal.tenders.models import PurchaseIntention, Tender
    from portal.opendata.ocids import tender_ocid
    publish_intentions(app, 1)
    [planning] = client.get(f"{API}/ganxian/ocds/releases").get_json()["releases"]
    assert planning["tag"] == ["planning"] and re.search(r"-p\d+$", planning["ocid"])
    assert planning["planning"]["budget"]["amount"] == {"amount": 10_000, "currency": "CNY"}
    made = tender_world.make_tender(app)
    with app.app_context(), scope(app):
        tenant = db.session.get(Tenant, tender_world.tenant_id(app, "ganxian"))
        tender = db.session.get(Tender, made["tender"])
        tender.intention_id = db.session.execute(select(PurchaseIntention.id)).scalar_one()
        assert tender_ocid(tender, tenant) == planning["ocid"]
        # a new prefix applies to new processes; a process keeps the ocid it has
        tenant.settings = {**tenant.settings, "ocid_prefix": "ocds-abc123"}
        assert tender_ocid(tender, tenant) == planning["ocid"]
        tender.intention_id = None
        assert tender_ocid(tender, tenant) == f"ocds-abc123-t{tender.id}"
        db.session.rollback()
