"""Acceptance (issue 20 part 2, docs/DOMAIN.md §7 "Acceptance"): the sample drawn reproducibly from
the people served and sized by the settings, the opinions' rules, the committee's decision and
each of its refusals, the publication without names or comments, and the final payment blocked
by a failed acceptance (or none) and let through by a passed one."""
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from tests import settlement_world as sw
from tests import support
from tests.beneficiary_world import number, register

ENDS = date(2026, 6, 30)
NAMES = ["赵一", "钱二", "孙三", "李四", "周五", "吴六", "郑七", "王八", "冯九", "陈十", "褚十一", "卫十二"]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def world(app, demo):
    """A contract ending on ENDS with twelve people served in May 2026 (one verified visit each)
    and one person whose only visit was rejected (not served)."""
    world = sw.care_contract(app, ends_on=ENDS)
    people = []
    for n, name in enumerate(NAMES, start=1):
        person = register(app, "ganxian", name, number(n, born="19400101"), phone=f"139797{n:05d}")
        sw.add_visits(app, {**world, "person": person}, "2026-05", 1, first_day=n)
        people.append(person)
    rejected = register(app, "ganxian", "不计入", number(99, born="19400101"))
    sw.add_visits(app, {**world, "person": rejected}, "2026-05", 1, status="rejected")
    return {**world, "people": people, "rejected": rejected}


def _settings(app, **values):
    from portal.tenancy.models import Tenant
    with app.app_context(), sw.scope(app):
        tenant = db.session.get(Tenant, support.World(app).tenant_id("ganxian"))
        tenant.settings = {**(tenant.settings or {}), **values}
        db.session.commit()


def _create(app, world, seed="seed-1", start=date(2026, 1, 1), end=ENDS):
    from portal.acceptance import services
    from portal.contracts.models import Contract
    from portal.tenancy.models import Tenant
    with app.app_context(), sw.scope(app):
        tenant = db.session.get(Tenant, support.World(app).tenant_id("ganxian"))
        row = services.create(db.session.get(Contract, world["contract"]), start, end, tenant=tenant,
                              user=sw.user("gx-officer"), seed=seed)
        db.session.commit()
        return row.id


def _ready(app, acceptance_id, opinion="satisfied", members=3, signed=True, upload=True, conclusion="合格"):
    """Every opinion recorded, the committee and the signed record as asked."""
    from portal.acceptance import decisions, services
    with app.app_context(), sw.scope(app):
        acceptance = services.get(acceptance_id)
        for row in acceptance.opinions:
            services.record_opinion(acceptance, row, respondent="self", method="phone", opinion=opinion,
                                    comment="邻居王某说服务人员迟到", asked_on=date(2026, 7, 1),
                                    user=sw.user("gx-officer"))
        decisions.set_committee(acceptance, [{"name": f"委员{n}", "affiliation": "民政局", "signed": signed}
                                             for n in range(members)], conclusion)
        if upload:
            from portal.files.services import store_upload
            acceptance.signed_file_id = store_upload(None, data=PDF, allowed=decisions.SIGNED_TYPES).id
        db.session.commit()


def _decide(app, acceptance_id, result="passed"):
    from portal.acceptance import decisions, services
    with app.app_context(), sw.scope(app):
        decisions.decide(services.get(acceptance_id, lock=True), result, sw.user("gx-supervisor"))
        db.session.commit()


def _set_failed(app, acceptance_id):
    """Mark an acceptance failed (so another of an overlapping period may be created)."""
    from portal.acceptance.models import Acceptance
    with app.app_context(), sw.scope(app):
        db.session.get(Acceptance, acceptance_id).status = "failed"
        db.session.commit()


def test_the_sample_is_sized_by_the_settings_and_redrawn_the_same_from_its_seed(app, world):
    from portal.acceptance import services
    from portal.acceptance.models import Acceptance
    from portal.tenancy.models import Tenant
    _settings(app, acceptance_sample_percent=10, acceptance_sample_min=5)
    first = _create(app, world, seed="abc")
    with app.app_context(), sw.scope(app):
        tenant = db.session.get(Tenant, support.World(app).tenant_id("ganxian"))
        row = db.session.get(Acceptance, first)
        assert row.sample_size == 5 and len(row.opinions) == 5  # max(5, ceil(10 % × 12)) = 5
        chosen = [o.beneficiary_id for o in row.opinions]
        assert world["rejected"] not in chosen and set(chosen) <= set(world["people"])
        assert services.redraw(row, tenant)["matches"] is True
        assert services.draw_people(world["people"], "abc", 5) == chosen
        assert services.draw_people(world["people"], "other", 5) != chosen
        assert services.acceptance_sample_size(12, tenant) == 5
    _set_failed(app, first)
    _settings(app, acceptance_sample_percent=40, acceptance_sample_min=2)
    second = _create(app, world, seed="abc", start=date(2026, 2, 1))
    with app.app_context(), sw.scope(app):
        assert db.session.get(Acceptance, second).sample_size == 5  # ceil(40 % × 12) = 5 > 2
    _set_failed(app, second)
    _settings(app, acceptance_sample_percent=10, acceptance_sample_min=50)
    third = _create(app, world, seed="abc", start=date(2026, 3, 1))
    with app.app_context(), sw.scope(app):
        assert db.session.get(Acceptance, third).sample_size == 12  # capped at N


def test_creating_outside_the_contract_period_or_twice_is_refused(app, world):
    from portal.core.errors import Conflict, DomainError
    with pytest.raises(DomainError) as outside:
        _create(app, world, end=ENDS + timedelta(days=1))
    assert "period_start" in outside.value.errors
    with pytest.raises(DomainError):
        _create(app, world, start=date(2026, 6, 1))  # nobody served in June
    _create(app, world)
    with pytest.raises(Conflict):
        _create(app, world)


def test_a_contract_serving_no_one_in_person_is_accepted_on_the_committee_s_record(app, world):
    """A station contract (paid per station-month) has no people served by visits: its acceptance
    has an empty sample and is decided by the committee, so its final payment can be let through."""
    from portal.contracts.models import Contract
    with app.app_context(), sw.scope(app):
        for item in db.session.get(Contract, world["contract"]).items:
            item.unit = "station_month"
        db.session.commit()
    acceptance_id = _create(app, world, start=date(2026, 6, 1))  # nobody served in June: no sample
    _ready(app, acceptance_id)
    _decide(app, acceptance_id)
    from portal.acceptance import services
    with app.app_context(), sw.scope(app):
        row = services.get(acceptance_id)
        assert row.sample_size == 0 and row.opinions == [] and row.status == "passed"


def test_opinions_are_validated(app, world):
    from portal.acceptance import services
    from portal.core.errors import DomainError
    acceptance_id = _create(app, world)
    with app.app_context(), sw.scope(app):
        acceptance = services.get(acceptance_id)
        row = acceptance.opinions[0]
        good = dict(respondent="guardian", method="home_visit", opinion="basic", comment="", user=sw.user("gx-officer"))
        for bad, field in ((dict(respondent="neighbour"), "respondent"), (dict(method="letter"), "method"),
                           (dict(opinion="great"), "opinion"), (dict(comment="x" * 2001), "comment")):
            with pytest.raises(DomainError) as refused:
                services.record_opinion(acceptance, row, **{**good, **bad, "asked_on": date(2026, 7, 1)})
            assert field in refused.value.errors
        for day in (date(2025, 12, 31), date.today() + timedelta(days=2), None):
            with pytest.raises(DomainError) as refused:
                services.record_opinion(acceptance, row, **good, asked_on=day)
            assert "asked_on" in refused.value.errors
        services.record_opinion(acceptance, row, **good, asked_on=date(2026, 1, 1))
        assert row.opinion == "basic"


@pytest.mark.parametrize("broken", ["opinion", "members_even", "members_two", "unsigned", "upload", "conclusion"])
def test_each_missing_condition_refuses_the_decision(app, world, broken):
    from portal.acceptance import services
    from portal.acceptance.models import Acceptance
    from portal.core.errors import DomainError
    acceptance_id = _create(app, world)
    _ready(app, acceptance_id, members={"members_even": 4, "members_two": 2}.get(broken, 3),
           signed=broken != "unsigned", upload=broken != "upload", conclusion="" if broken == "conclusion" else "合格")
    if broken == "opinion":
        with app.app_context(), sw.scope(app):
            services.get(acceptance_id).opinions[0].opinion = None
            db.session.commit()
    with pytest.raises(DomainError):
        _decide(app, acceptance_id)
    with app.app_context(), sw.scope(app):
        assert db.session.get(Acceptance, acceptance_id).status == "open"


def test_unreachable_counts_and_a_second_decision_is_a_conflict(app, world):
    from portal.acceptance.models import Acceptance
    from portal.core.errors import Conflict
    acceptance_id = _create(app, world)
    _ready(app, acceptance_id, opinion="unreachable")
    _decide(app, acceptance_id, "failed")
    with pytest.raises(Conflict):
        _decide(app, acceptance_id, "passed")
    with app.app_context(), sw.scope(app):
        assert db.session.get(Acceptance, acceptance_id).status == "failed"


def _final_statement(app, world):
    sw.finance_colleague(app)
    statement_id = sw.prepare(app, world, "2026-06", by="gx-officer")
    from portal.billing import workflow
    from portal.billing.models import Statement
    with app.app_context(), sw.scope(app):
        statement = db.session.get(Statement, statement_id)
        workflow.send_to_contractor(statement, sw.user("gx-officer"))
        workflow.confirm(statement, sw.user("a-manager"))
        db.session.commit()
    return statement_id


def _approve(app, statement_id):
    from portal.billing import workflow
    from portal.billing.models import Statement
    with app.app_context(), sw.scope(app):
        workflow.approve(db.session.get(Statement, statement_id), sw.user("gx-finance"))
        db.session.commit()


def test_a_failed_acceptance_blocks_the_final_payment_and_a_passed_one_lets_it_through(app, world, login):
    from portal.core.errors import DomainError
    sw.add_visits(app, world, "2026-06", 2)
    may = sw.approved(app, world, "2026-05")  # not the final month: no acceptance asked
    assert sw.statement_row(app, may)[0] == "approved"
    statement_id = _final_statement(app, world)
    with pytest.raises(DomainError) as none_yet:
        _approve(app, statement_id)
    assert "none has been decided" in none_yet.value.message or "尚" in none_yet.value.message
    acceptance_id = _create(app, world)
    _ready(app, acceptance_id)
    _decide(app, acceptance_id, "failed")
    with pytest.raises(DomainError) as failed:
        _approve(app, statement_id)
    assert "2026-01-01" in failed.value.message
    page = login("gx-finance").get(f"/billing/{statement_id}").get_data(as_text=True)
    assert 'id="final-payment-refusal"' in page
    with app.app_context(), sw.scope(app):
        from portal.contracts.models import Contract
        # a narrower pass decided later (June only) does not lift the failed January–June acceptance
        support.passed_acceptance(db.session.get(Contract, world["contract"]), period_start=date(2026, 6, 1))
        db.session.commit()
    with pytest.raises(DomainError) as narrow:
        _approve(app, statement_id)
    assert "2026-01-01" in narrow.value.message
    with app.app_context(), sw.scope(app):
        from portal.contracts.models import Contract
        # the failed acceptance run again (same period, attempt 2) and passed: the contract is covered
        support.passed_acceptance(db.session.get(Contract, world["contract"]), period_start=date(2026, 1, 1),
                                  attempt=2)
        db.session.commit()
    _approve(app, statement_id)
    assert sw.statement_row(app, statement_id)[0] == "approved"


def test_the_published_result_holds_counts_and_no_name_or_comment(app, world, login, client):
    from portal.acceptance import decisions, services
    from portal.disclosures.models import Disclosure
    acceptance_id = _create(app, world)
    _ready(app, acceptance_id)
    _decide(app, acceptance_id)
    officer = login("gx-officer")
    detail = f"/acceptance/{acceptance_id}"
    assert support.form_post(officer, f"{detail}/publish", {"publish-confirm": "y"}, token_url=detail).status_code == 303
    with app.app_context(), sw.scope(app):
        disclosure = db.session.scalar(select(Disclosure).where(Disclosure.kind == "acceptance_result"))
        assert set(disclosure.data) == {"contract_number", "contractor", "period_start", "period_end", "status",
                                        "decided_on", "counts", "sample_size", "members"}
        assert disclosure.data["counts"]["satisfied"] == 5 and disclosure.data["status"] == "passed"
        assert disclosure.due_on == services.get(acceptance_id).decided_on + timedelta(days=7)
        text = repr(disclosure.data) + disclosure.body + disclosure.title
        with pytest.raises(Exception):
            decisions.publish(services.get(acceptance_id), sw.user("gx-officer"))
        notice_id = disclosure.id
    for name in NAMES:
        assert name not in text
    assert "王某" not in text and "委员" not in text
    public = client.get("/public/ganxian/notices").get_data(as_text=True) + client.get(
        f"/public/ganxian/notices/{notice_id}").get_data(as_text=True)
    assert "王某" not in public and not any(name in public for name in NAMES)


def test_pages_roles_other_bureau_and_the_list_past_page_one(app, world, login):
    from portal.acceptance.models import Acceptance
    _set_failed(app, _create(app, world, start=date(2026, 2, 1)))
    acceptance_id = _create(app, world)
    officer, supervisor = login("gx-officer"), login("gx-supervisor")
    page = officer.get(f"/acceptance/{acceptance_id}").get_data(as_text=True)
    with app.app_context(), sw.scope(app):
        person = db.session.get(Acceptance, acceptance_id).opinions[0].beneficiary.name
    assert person in page and 'id="decide"' in page  # staff see the name
    assert officer.get("/acceptance/?per_page=1&page=2").status_code == 200
    second = officer.get("/acceptance/?per_page=1&page=2").get_data(as_text=True)
    assert second.count("data-acceptance=") == 1
    assert "data-acceptance" not in officer.get("/acceptance/?q=NOPE").get_data(as_text=True)
    assert officer.get(f"/acceptance/{acceptance_id}/print").status_code == 200
    assert officer.get("/acceptance/2147483647").status_code == 404
    assert officer.get("/acceptance/99999999999").status_code == 404
    assert login("zg-officer").get(f"/acceptance/{acceptance_id}").status_code == 404
    auditor = login("city-auditor", tenant="ganxian")
    seen = auditor.get(f"/acceptance/{acceptance_id}").get_data(as_text=True)
    assert 'id="decide"' not in seen and "/opinions/" not in seen
    assert login("a-manager").get("/acceptance/").status_code == 403
    assert login("gx-finance").get("/acceptance/new").status_code == 403
    detail = f"/acceptance/{acceptance_id}"
    assert support.form_post(auditor, f"{detail}/decide", {"decide-result": "passed", "decide-confirm": "y"},
                             token_url="/acceptance/").status_code == 403
    assert support.form_post(supervisor, f"{detail}/publish", {"publish-confirm": "y"},
                             token_url=detail).status_code == 403
    # the decision refused on the page says why; the signed record is judged by its content
    refused = support.form_post(officer, f"{detail}/decide", {"decide-result": "passed", "decide-confirm": "y"},
                                token_url=detail)
    assert refused.status_code == 422
    # the step is shown disabled with what is missing, once (no second list above it)
    refused_page = refused.get_data(as_text=True)
    assert 'id="decide" disabled' in refused_page and refused_page.count('id="decide-why"') == 1
    from flask_babel import force_locale, gettext
    with app.test_request_context(), force_locale("zh_CN"):
        missing = gettext("Upload the signed record of the committee.")
    assert refused_page.count(missing) == 1
    token = support.csrf_token_from(officer.get(detail).get_data(as_text=True))
    fake = officer.post(f"{detail}/signed", data={"csrf_token": token,
                                                  "signed-signed_record": (io.BytesIO(b"MZ not a pdf"), "x.pdf")},
                        content_type="multipart/form-data")
    assert fake.status_code == 422
    real = officer.post(f"{detail}/signed", data={"csrf_token": token,
                                                  "signed-signed_record": (io.BytesIO(PDF), "record.pdf")},
                        content_type="multipart/form-data")
    assert real.status_code == 303
    assert officer.get(f"{detail}/signed-record").status_code == 200
    with app.app_context(), sw.scope(app):
        row = db.session.get(Acceptance, acceptance_id)
        opinion_id = row.opinions[0].id
    prefix = f"o{opinion_id}"
    saved = support.form_post(officer, f"{detail}/opinions/{opinion_id}",
                              {f"{prefix}-respondent": "self", f"{prefix}-method": "phone",
                               f"{prefix}-opinion": "satisfied", f"{prefix}-asked_on": "2026-07-01",
                               f"{prefix}-comment": "私密意见"}, token_url=detail)
    assert saved.status_code == 303
    bad = support.form_post(officer, f"{detail}/opinions/{opinion_id}",
                            {f"{prefix}-respondent": "self", f"{prefix}-method": "phone",
                             f"{prefix}-opinion": "satisfied", f"{prefix}-asked_on": "2020-01-01"}, token_url=detail)
    assert bad.status_code == 422
    assert officer.post(f"{detail}/opinions/2147483647", data={"csrf_token": token}).status_code == 404
