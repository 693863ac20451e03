"""The file per person (每人一档, docs/DOMAIN.md §2.1, §6): every assessment, re-check, objection,
status change, change report and publicity round in time order with who and when, printable;
the bureau sees all, the contractor holding an assignment sees the masked name and its own
assessments' details only, anyone else 404; the current class sets the care standard shown on the
file and on the registry page; a change report makes a re-assessment due in 10 working days,
listed as due or overdue and closed by the person's next assessment; the registry opens one by
itself when a person goes to hospital or moves."""
import io
import uuid
from datetime import date, datetime, time, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.core.errors import DomainError
from portal.extensions import db
from portal.tenancy.scope import tenant_scope
from tests import support
from tests.beneficiary_world import TODAY, assign, care_world, number, register

ALL_MET = {"eating": True, "dressing": True, "bed_transfer": True, "toileting": True, "indoor_walking": True,
           "bathing": True}


@pytest.fixture
def english(app):
    """Messages of services called directly come in English (the default language is Chinese)."""
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        yield


def _gx(app):
    return support.World(app).tenant_id("ganxian")


def _at(day, hour=10):
    return datetime.combine(day, time(hour), tzinfo=timezone(timedelta(hours=8))).astimezone(timezone.utc)


def _user(username):
    from portal.accounts.models import User
    return db.session.execute(select(User).where(User.username == username)).scalar_one()


def _indicators(not_met):
    names = list(ALL_MET)
    return {name: i >= not_met for i, name in enumerate(names)}


def add_assessment(app, person_id, contract_id, assessor, day, *, not_met=1, status="recorded", final_class=None,
                   notes="", publicity_id=None):
    """An assessment row as the recording service would leave it (the service is not needed here)."""
    from portal.assessments.models import Assessment, care_class
    from portal.contracts.models import Contract
    with app.app_context(), tenant_scope(_gx(app)):
        contract = db.session.get(Contract, contract_id)
        row = Assessment(client_id=str(uuid.uuid4()), body_hash="0" * 64, contract_id=contract_id,
                         contractor_id=contract.contractor_id, beneficiary_id=person_id,
                         assessor_user_id=_user(assessor).id, assessed_at=_at(day), lat=25.861, lon=115.012,
                         indicators=_indicators(not_met), not_met=not_met, care_class=care_class(not_met),
                         notes=notes, status=status, publicity_id=publicity_id,
                         final_class=final_class or (care_class(not_met) if status == "final" else None),
                         final_at=_at(day + timedelta(days=20)) if status == "final" else None)
        db.session.add(row)
        db.session.commit()
        return row.id


def _care_standard(app, values):
    from portal.tenancy.models import Tenant
    from portal.tenancy.services import change_settings
    with app.app_context(), tenant_scope(_gx(app)):
        change_settings(db.session.get(Tenant, _gx(app)), {"care_standard_fen": values})
        db.session.commit()


def _page(client, url):
    response = client.get(url)
    return response.status_code, response.get_data(as_text=True)


# --- the file: order, contents, privacy --------------------------------------------------------

@pytest.fixture
def history(app, demo):
    """钟长生 (B's person) with a full history: registered a year ago; an assessment by b-worker1
    (partial) in a publicity round with an objection and a re-check that found another class; a
    stay in hospital reported; then a re-assessment. Plus an assessment by contractor A."""
    from portal.assessments.models import AssessmentObjection, AssessmentPublicity, AssessmentRecheck, ChangeReport
    world = care_world(app)
    person = world["people"]["钟长生"]
    first_day = TODAY - timedelta(days=60)
    with app.app_context(), tenant_scope(_gx(app)):
        officer, supervisor = _user("gx-officer"), _user("gx-supervisor")
        publicity = AssessmentPublicity(number="GS-TEST-1", contract_id=world["b_contract"],
                                        starts_on=first_day + timedelta(days=3), ends_on=first_day + timedelta(days=9),
                                        opened_by_id=officer.id, opened_at=_at(first_day + timedelta(days=3), 9),
                                        seed="s", rate_permille=100, drawn_at=_at(first_day + timedelta(days=12)))
        db.session.add(publicity)
        db.session.commit()
        publicity_id = publicity.id
    first = add_assessment(app, person, world["b_contract"], "b-worker1", first_day, not_met=2, status="final",
                           final_class="complete", notes="B的评估备注", publicity_id=publicity_id)
    other = add_assessment(app, person, world["a_contract"], "a-worker1", first_day + timedelta(days=1), not_met=0,
                           notes="A的评估备注")
    with app.app_context(), tenant_scope(_gx(app)):
        supervisor = _user("gx-supervisor")
        db.session.add(AssessmentObjection(tracking_number="YY-TEST-1", publicity_id=publicity_id, assessment_id=first,
                                           text="邻居说他不能自己洗澡", contact="13900001111",
                                           received_at=_at(first_day + timedelta(days=5)), status="upheld",
                                           answer="已安排复检", answered_at=_at(first_day + timedelta(days=6)),
                                           answered_by_id=supervisor.id))
        db.session.add(AssessmentRecheck(assessment_id=first, publicity_id=publicity_id, reason="objection",
                                         assessor_user_id=_user("b-worker1").id, indicators=_indicators(5), not_met=5,
                                         care_class="complete", discrepancy=True, notes="复检备注",
                                         rechecked_at=_at(first_day + timedelta(days=14)),
                                         recorded_by_id=supervisor.id))
        db.session.add(ChangeReport(beneficiary_id=person, kind="hospitalised", reported_on=first_day + timedelta(days=30),
                                    due_on=first_day + timedelta(days=44), note="住院备注",
                                    reported_by_id=_user("gx-officer").id))
        db.session.commit()
    second = add_assessment(app, person, world["b_contract"], "b-worker1", first_day + timedelta(days=40), not_met=4)
    return {**world, "person": person, "first": first, "other": other, "second": second}


def test_the_file_lists_everything_in_time_order_with_who_and_when(app, history, english):
    from portal.assessments import people
    from portal.beneficiaries.models import Beneficiary
    with app.app_context(), tenant_scope(_gx(app)):
        person = db.session.get(Beneficiary, history["person"])
        entries = people.entries(person, _user("gx-supervisor"))
        kinds = [(e.kind, getattr(e.row, "id", None)) for e in entries]
        assert [k for k, _ in kinds] == ["status", "assessment", "assessment", "publicity", "objection", "answer",
                                         "recheck", "change", "assessment"]
        assert [i for k, i in kinds if k == "assessment"] == [history["first"], history["other"], history["second"]]
        assert [e.at for e in entries] == sorted(e.at for e in entries)
        # who: the assessor; nobody of the bureau received the objection (the public's online form),
        # the bureau staff who answered it; who reported the change
        assert [entries[i].who for i in (1, 4, 5, 7)] == [_user("b-worker1").display_name or "b-worker1", "",
                                                         _user("gx-supervisor").display_name or "gx-supervisor",
                                                         _user("gx-officer").display_name or "gx-officer"]


def test_the_bureau_sees_the_whole_file_and_never_the_objectors_contact(app, history, login):
    client = login("gx-supervisor")
    client.set_cookie("lang", "en")
    status, html = _page(client, f"/assessments/people/{history['person']}")
    assert status == 200
    assert "钟长生" in html
    for text in ("B的评估备注", "A的评估备注", "邻居说他不能自己洗澡", "已安排复检", "复检备注", "住院备注",
                 "GS-TEST-1", "YY-TEST-1", "Discrepancy: a different class", "Getting in and out of bed unaided: Not met"):
        assert text in html, text
    assert "13900001111" not in html
    # the class the re-check found is the final one; the file shows both
    assert "Final class: Fully unable to care for oneself" in html
    assert html.index("B的评估备注") < html.index("A的评估备注") < html.index("复检备注") < html.index("住院备注")
    status, printed = _page(client, f"/assessments/people/{history['person']}/print")
    assert status == 200 and "B的评估备注" in printed and "site-nav" not in printed and "13900001111" not in printed


def test_the_assessing_contractor_sees_the_masked_name_and_its_own_details_only(app, history, login):
    for username in ("b-manager", "b-worker1"):
        client = login(username, tenant="ganxian")
        status, html = _page(client, f"/assessments/people/{history['person']}")
        assert status == 200, username
        assert "钟*生" in html and "钟长生" not in html
        assert "B的评估备注" in html and "复检备注" in html and "已安排复检" in html
        # contractor A's assessment is listed without its details; the objection's text, the
        # registry's and the bureau's notes stay with the bureau
        for hidden in ("A的评估备注", "邻居说他不能自己洗澡", "13900001111", "住院备注"):
            assert hidden not in html, (username, hidden)


def test_a_recheck_drawn_but_not_done_is_shown_to_the_bureau_only(app, history, login):
    """The contractor must not learn before the bureau's home visit which assessments are re-checked."""
    from portal.assessments.models import AssessmentPublicity, AssessmentRecheck
    with app.app_context(), tenant_scope(_gx(app)):
        publicity = db.session.scalar(select(AssessmentPublicity).where(AssessmentPublicity.number == "GS-TEST-1"))
        db.session.add(AssessmentRecheck(assessment_id=history["second"], publicity_id=publicity.id, reason="sample"))
        db.session.commit()
    drawn = f"Re-check of assessment #{history['second']}"
    done = f"Re-check of assessment #{history['first']}"
    for username, tenant, shown in (("gx-supervisor", None, True), ("b-manager", "ganxian", False),
                                    ("b-worker1", "ganxian", False)):
        client = login(username, tenant=tenant) if tenant else login(username)
        client.set_cookie("lang", "en")
        status, html = _page(client, f"/assessments/people/{history['person']}")
        assert status == 200 and done in html, username
        assert (drawn in html) is shown, username


def test_anyone_else_gets_404(app, history, login):
    person = history["person"]
    # contractor A has an assignment for other people, not for 钟长生 (its assessment row does not open the file)
    assert login("a-manager", tenant="ganxian").get(f"/assessments/people/{person}").status_code == 404
    assert login("a-worker1", tenant="ganxian").get(f"/assessments/people/{person}/print").status_code == 404
    # another bureau's officer: the person is not in their bureau
    assert login("zg-officer").get(f"/assessments/people/{person}").status_code == 404
    # B sees none of A's people
    assert login("b-manager", tenant="ganxian").get(f"/assessments/people/{history['people']['刘桂英']}").status_code == 404
    # no such person
    assert login("gx-officer").get("/assessments/people/2147483647").status_code == 404


def test_an_assignment_of_the_contractor_opens_the_file_to_it(app, history, login):
    """Once B is assigned 刘桂英 (A's person too), B's manager sees her file."""
    from portal.beneficiaries.models import Beneficiary
    person = history["people"]["刘桂英"]
    assert login("b-manager", tenant="ganxian").get(f"/assessments/people/{person}").status_code == 404
    assign(app, "ganxian", history["b_contract"], person, "b-worker1")
    status, html = _page(login("b-manager", tenant="ganxian"), f"/assessments/people/{person}")
    assert status == 200 and "刘*英" in html
    with app.app_context(), tenant_scope(_gx(app)):
        assert db.session.get(Beneficiary, person).name not in html


# --- current class and care standard -----------------------------------------------------------

@pytest.mark.parametrize("not_met,label,fen,shown", [
    (0, "Able to care for oneself", 12_345, "123.45"),
    (2, "Partly unable to care for oneself", 67_890, "678.90"),
    (5, "Fully unable to care for oneself", 123_456, "1,234.56"),
])
def test_the_current_class_sets_the_care_standard_from_the_setting(app, demo, login, not_met, label, fen, shown):
    from portal.assessments.models import care_class
    world = care_world(app)
    person = world["people"]["钟长生"]
    standards = {"self_care": 1_00, "partial": 2_00, "complete": 3_00}
    standards[care_class(not_met)] = fen
    _care_standard(app, standards)
    # an older final assessment of another class, and a newer one not final yet: neither counts
    add_assessment(app, person, world["b_contract"], "b-worker1", TODAY - timedelta(days=300), not_met=6 - not_met,
                   status="final")
    add_assessment(app, person, world["b_contract"], "b-worker1", TODAY - timedelta(days=100), not_met=not_met,
                   status="final")
    add_assessment(app, person, world["b_contract"], "b-worker1", TODAY - timedelta(days=5), not_met=(not_met + 3) % 7)
    client = login("gx-officer")
    client.set_cookie("lang", "en")
    for url in (f"/assessments/people/{person}", f"/beneficiaries/{person}"):
        status, html = _page(client, url)
        assert status == 200, url
        assert label in html, url
        assert f"{shown} yuan a month" in html, url
    assert f"/assessments/people/{person}" in _page(client, f"/beneficiaries/{person}")[1]


def test_a_care_standard_the_bureau_has_not_set_says_so(app, demo, login):
    world = care_world(app)
    person = world["people"]["钟长生"]
    _care_standard(app, {"self_care": 0, "partial": 0, "complete": 0})
    add_assessment(app, person, world["b_contract"], "b-worker1", TODAY - timedelta(days=40), not_met=5, status="final")
    client = login("gx-officer")
    client.set_cookie("lang", "en")
    for url in (f"/assessments/people/{person}", f"/beneficiaries/{person}"):
        html = _page(client, url)[1]
        assert "Not set by the bureau" in html and "0.00 yuan a month" not in html, url


def test_a_final_class_that_differs_from_the_assessors_counts(app, demo, english):
    """The re-check's class, kept as the final class, is the current class."""
    from portal.assessments import people
    world = care_world(app)
    person = world["people"]["钟长生"]
    add_assessment(app, person, world["b_contract"], "b-worker1", TODAY - timedelta(days=30), not_met=1,
                   status="final", final_class="complete")
    _care_standard(app, {"self_care": 0, "partial": 50_000, "complete": 90_000})
    with app.app_context(), tenant_scope(_gx(app)):
        assert people.current_class(person) == "complete"
        assert people.care_standard_fen(_gx(app), people.current_class(person)) == 90_000


def test_without_a_final_assessment_there_is_no_class_and_no_standard(app, demo, login):
    world = care_world(app)
    person = world["people"]["钟长生"]
    add_assessment(app, person, world["b_contract"], "b-worker1", TODAY - timedelta(days=3), not_met=2)
    client = login("gx-officer")
    client.set_cookie("lang", "en")
    html = _page(client, f"/beneficiaries/{person}")[1]
    assert "Not yet finally assessed" in html and "yuan a month" not in html


def test_the_registry_page_links_the_file_for_whoever_may_open_it(app, demo, login):
    """A's manager (who holds her assignment) and the bureau's finance reader both get the link."""
    world = care_world(app)
    person = world["people"]["刘桂英"]
    client = login("a-manager", tenant="ganxian")
    status, html = _page(client, f"/beneficiaries/{person}")
    assert status == 200 and f"/assessments/people/{person}" in html  # A holds her assignment
    html = _page(login("gx-finance"), f"/beneficiaries/{person}")[1]
    assert f"/assessments/people/{person}" in html


# --- change reports: due day, the form, the automatic report, closing -------------------------

def test_the_due_day_counts_ten_working_days_across_weekends_and_holidays(app, demo, english):
    from portal.assessments.changes import due_day
    with app.app_context(), tenant_scope(_gx(app)):
        # Thu 2026-12-24 → Fri 25, Mon 28 … Thu 31 (5), 元旦 1–3 January off, Mon 4 … Fri 8 (10)
        assert due_day(date(2026, 12, 24)) == date(2027, 1, 8)
        # Mon 2027-02-01 → 2, 3, 4; 春节 5–12 off; 15–19; the make-up Saturday 20th; Monday 22nd
        assert due_day(date(2027, 2, 1)) == date(2027, 2, 22)
        # a plain fortnight: Monday → the Monday two weeks on
        assert due_day(date(2027, 3, 1)) == date(2027, 3, 15)
        with pytest.raises(DomainError) as refused:
            due_day(date(2027, 12, 20))  # runs into 2028, which no calendar knows
        assert "2028" in refused.value.message and list(refused.value.errors) == ["reported_on"]


def test_reporting_a_change_on_the_file_makes_a_reassessment_due(app, demo, login):
    from portal.assessments.models import ChangeReport
    world = care_world(app)
    person = world["people"]["钟长生"]
    client = login("b-manager", tenant="ganxian")
    client.set_cookie("lang", "en")
    day = TODAY - timedelta(days=2)
    response = support.form_post(client, f"/assessments/people/{person}/changes",
                                 {"kind": "condition_changed", "reported_on": day.isoformat(), "note": "跌倒"},
                                 token_url=f"/assessments/people/{person}")
    assert response.status_code == 302
    assert "跌倒" in _page(client, f"/assessments/people/{person}")[1]  # its own note, read again
    with app.app_context(), tenant_scope(_gx(app)):
        report = db.session.execute(select(ChangeReport)).scalar_one()
        assert (report.kind, report.reported_on, report.closed_at) == ("condition_changed", day, None)
        assert report.due_on == support.fixture_calendar().add_working_days(day, 10)
        assert report.reported_by_id == _user("b-manager").id
    # a day ahead, or a kind that does not exist: a message, nothing written
    for data in ({"kind": "moved", "reported_on": (TODAY + timedelta(days=1)).isoformat()},
                 {"kind": "married", "reported_on": TODAY.isoformat()}):
        response = support.form_post(client, f"/assessments/people/{person}/changes", data,
                                     token_url=f"/assessments/people/{person}")
        assert response.status_code == 422
    # not someone else's person: A's manager may not report for B's person
    response = support.form_post(login("a-manager", tenant="ganxian"), f"/assessments/people/{person}/changes",
                                 {"kind": "moved", "reported_on": TODAY.isoformat()},
                                 token_url=f"/assessments/people/{world['people']['刘桂英']}")
    assert response.status_code == 404
    # a field worker does not report
    response = support.form_post(login("b-worker1", tenant="ganxian"), f"/assessments/people/{person}/changes",
                                 {"kind": "moved", "reported_on": TODAY.isoformat()},
                                 token_url=f"/assessments/people/{person}")
    assert response.status_code == 403
    with app.app_context(), tenant_scope(_gx(app)):
        assert len(db.session.execute(select(ChangeReport)).scalars().all()) == 1


def _calendar_without_next_year(monkeypatch):
    """The bureau's calendar as if next year's schedule had not been imported: counting into it fails."""
    from portal.assessments import changes
    from portal.core.workdays import UnknownCalendarYear

    class Unknown:
        def add_working_days(self, start, n):
            raise UnknownCalendarYear(start.year + 1)

    monkeypatch.setattr(changes, "tenant_calendar", lambda: Unknown())


def test_a_year_the_calendar_does_not_know_is_a_form_message(app, demo, login, monkeypatch):
    _calendar_without_next_year(monkeypatch)
    world = care_world(app)
    person = world["people"]["钟长生"]
    client = login("gx-officer")
    client.set_cookie("lang", "en")
    response = support.form_post(client, f"/assessments/people/{person}/changes",
                                 {"kind": "moved", "reported_on": TODAY.isoformat()},
                                 token_url=f"/assessments/people/{person}")
    assert response.status_code == 422
    assert f"No working-day calendar is known for {TODAY.year + 1}" in response.get_data(as_text=True)


def test_going_to_hospital_or_moving_opens_a_report_by_itself(app, demo, login):
    from portal.assessments.models import ChangeReport
    world = care_world(app)
    person = world["people"]["钟长生"]
    client = login("gx-officer")

    def change(status, day):
        return support.form_post(client, f"/beneficiaries/{person}/status",
                                 {"status": status, "effective_on": day.isoformat(), "note": ""},
                                 token_url=f"/beneficiaries/{person}")

    def reports():
        with app.app_context(), tenant_scope(_gx(app)):
            return [(r.kind, r.reported_on, r.due_on, r.reported_by_id)
                    for r in db.session.execute(select(ChangeReport).order_by(ChangeReport.id)).scalars()]

    assert change("hospitalised", TODAY - timedelta(days=20)).status_code == 302
    officer = support.World(app).user_id("gx-officer")
    first_day = TODAY - timedelta(days=20)
    assert reports() == [("hospitalised", first_day, support.fixture_calendar().add_working_days(first_day, 10), officer)]
    assert change("active", TODAY - timedelta(days=10)).status_code == 302  # back home: nothing new
    assert change("hospitalised", TODAY - timedelta(days=5)).status_code == 302  # one of that kind is open
    assert len(reports()) == 1
    assert change("moved", TODAY - timedelta(days=1)).status_code == 302
    assert [r[0] for r in reports()] == ["hospitalised", "moved"]
    # a stay back-dated before a later change is history: it calls for nothing now
    person = world["people"]["陈德福"]
    assert change("moved", TODAY - timedelta(days=10)).status_code == 302
    assert change("hospitalised", TODAY - timedelta(days=30)).status_code == 302
    assert [r[0] for r in reports()] == ["hospitalised", "moved", "moved"]


def test_a_status_change_is_recorded_even_when_the_calendar_cannot_count_its_due_day(app, demo, login, monkeypatch):
    from portal.assessments.models import ChangeReport
    from portal.beneficiaries.models import Beneficiary
    _calendar_without_next_year(monkeypatch)
    world = care_world(app)
    person = world["people"]["钟长生"]
    client = login("gx-officer")
    day = TODAY - timedelta(days=3)
    response = support.form_post(client, f"/beneficiaries/{person}/status",
                                 {"status": "hospitalised", "effective_on": day.isoformat(), "note": ""},
                                 token_url=f"/beneficiaries/{person}")
    assert response.status_code == 302
    with app.app_context(), tenant_scope(_gx(app)):
        assert db.session.get(Beneficiary, person).status == "hospitalised"
        assert db.session.execute(select(ChangeReport)).scalars().all() == []


def test_the_next_assessment_on_or_after_the_report_day_closes_it(app, demo, english):
    from portal.assessments.changes import report_change
    from portal.assessments.models import Assessment, ChangeReport
    from portal.assessments.signals import assessment_recorded
    from portal.beneficiaries.models import Beneficiary
    world = care_world(app)
    person = world["people"]["钟长生"]
    day = TODAY - timedelta(days=10)
    with app.app_context(), tenant_scope(_gx(app)):
        report_change(db.session.get(Beneficiary, person), "condition_changed", day)
        db.session.commit()
    before = add_assessment(app, person, world["b_contract"], "b-worker1", day - timedelta(days=1))
    after = add_assessment(app, person, world["b_contract"], "b-worker1", day)
    with app.app_context(), tenant_scope(_gx(app)):
        assessment_recorded.send(db.session.get(Assessment, before))
        report = db.session.execute(select(ChangeReport)).scalar_one()
        assert report.closed_at is None  # made before the change: it answers nothing
        assessment_recorded.send(db.session.get(Assessment, after))
        assert (report.assessment_id, report.closed_at is not None) == (after, True)
        db.session.commit()


# --- the due list --------------------------------------------------------------------------------

@pytest.fixture
def due(app, demo):
    """Four reports: B's person overdue; A's person open and not yet due; A's person closed; a
    person of another township, assigned to A, overdue."""
    from portal.assessments.models import ChangeReport
    world = care_world(app)
    far = register(app, "ganxian", "欧阳明", number(41), township="王母渡镇", village="高坑村")
    assign(app, "ganxian", world["a_contract"], far, "a-worker2")
    people = world["people"]
    with app.app_context(), tenant_scope(_gx(app)):
        rows = {
            "overdue": ChangeReport(beneficiary_id=people["钟长生"], kind="moved", reported_on=TODAY - timedelta(days=30),
                                    due_on=TODAY - timedelta(days=16)),
            "open": ChangeReport(beneficiary_id=people["刘桂英"], kind="hospitalised", reported_on=TODAY,
                                 due_on=TODAY + timedelta(days=14)),
            "closed": ChangeReport(beneficiary_id=people["陈德福"], kind="condition_changed",
                                   reported_on=TODAY - timedelta(days=40), due_on=TODAY - timedelta(days=26),
                                   closed_at=_at(TODAY - timedelta(days=30))),
            "far": ChangeReport(beneficiary_id=far, kind="moved", reported_on=TODAY - timedelta(days=20),
                                due_on=TODAY - timedelta(days=6)),
        }
        db.session.add_all(rows.values())
        db.session.commit()
        return {**world, "far": far, "reports": {k: r.id for k, r in rows.items()}}


def _listed(app, due, username, **filters):
    """The keys of ``due["reports"]`` in the order the user's due list gives them."""
    from portal.assessments import changes
    names = {i: k for k, i in due["reports"].items()}
    with app.app_context(), tenant_scope(_gx(app)):
        return [names[r.id] for r in db.session.scalars(changes.due_query(_user(username), **filters))]


def test_the_due_list_filters_due_overdue_closed_and_township(app, due):
    assert _listed(app, due, "gx-officer") == ["overdue", "far", "open"]  # open ones, soonest due first
    assert _listed(app, due, "gx-officer", state="overdue") == ["overdue", "far"]
    assert _listed(app, due, "gx-officer", state="closed") == ["closed"]
    assert _listed(app, due, "gx-officer", state="all") == ["closed", "overdue", "far", "open"]
    assert _listed(app, due, "gx-officer", state="open", township="王母渡镇") == ["far"]
    assert _listed(app, due, "gx-officer", state="overdue", township="梅林镇") == ["overdue"]
    # a contractor's manager: its own assigned people only
    assert _listed(app, due, "b-manager", state="all") == ["overdue"]
    assert _listed(app, due, "a-manager", state="all") == ["closed", "far", "open"]


def test_the_due_list_pages_for_bureau_readers_and_managers_with_masked_names(app, due, login):
    people = due["people"]
    client = login("gx-supervisor")
    status, html = _page(client, "/assessments/reassessments?state=overdue")
    assert status == 200 and "钟长生" in html and "欧阳明" in html and "刘桂英" not in html
    assert f"/assessments/people/{people['钟长生']}" in html
    status, html = _page(login("a-manager", tenant="ganxian"), "/assessments/reassessments?state=all")
    assert status == 200
    assert "刘*英" in html and "欧*明" in html and "陈*福" in html
    assert "刘桂英" not in html and "钟" not in html
    status, html = _page(login("b-manager", tenant="ganxian"), "/assessments/reassessments?township=王母渡镇")
    assert status == 200 and "欧" not in html and "钟*生" not in html  # B has nobody there
    assert login("b-worker1", tenant="ganxian").get("/assessments/reassessments").status_code == 403
    assert login("zg-officer").get("/assessments/reassessments").get_data(as_text=True).count("钟") == 0


def test_the_due_list_exports_masked_names_to_excel(app, due, login):
    response = login("gx-officer").get("/assessments/reassessments.xlsx?state=all")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))[1:]
    assert sorted(r[0] for r in rows) == sorted(["钟*生", "刘*英", "陈*福", "欧*明"])
    overdue = {r[0]: r[6] for r in rows}
    assert overdue["钟*生"] == "是" and overdue["欧*明"] == "是" and not overdue["刘*英"] and not overdue["陈*福"]
    assessor = {r[0]: r[9] for r in rows}  # A's care contract has no assessment item; the closed one needs none
    assert not assessor["钟*生"] and assessor["欧*明"] == assessor["刘*英"] == "无评估员" and not assessor["陈*福"]
    rows = list(load_workbook(io.BytesIO(login("b-manager", tenant="ganxian").get("/assessments/reassessments.xlsx?state=all").data))
                .active.iter_rows(values_only=True))[1:]
    assert [r[0] for r in rows] == ["钟*生"]


def test_an_assessment_recorded_through_the_service_closes_the_report_and_shows_in_the_file(app, login):
    """End to end: a report on the registry's stay in hospital, then b-worker1 records the
    re-assessment at home through recording.record_assessment; the report is closed by it and
    the file lists both."""
    from portal.assessments.models import ChangeReport
    from tests import assessment_world as aw
    world = aw.assessment_world(app)
    person = world["people"]["刘桂英"]
    client = login("gx-officer")
    day = TODAY - timedelta(days=3)
    assert support.form_post(client, f"/beneficiaries/{person}/status",
                             {"status": "hospitalised", "effective_on": day.isoformat(), "note": ""},
                             token_url=f"/beneficiaries/{person}").status_code == 302
    assessment_id = aw.record(app, world, "刘桂英", not_met=3)
    with app.app_context(), aw.scope(app):
        report = db.session.execute(select(ChangeReport).where(ChangeReport.beneficiary_id == person,
                                                               ChangeReport.kind == "hospitalised")).scalar_one()
        assert report.assessment_id == assessment_id and report.closed_at is not None
    client.set_cookie("lang", "en")
    html = _page(client, f"/assessments/people/{person}")[1]
    assert f"answered by assessment #{assessment_id}" in html and "入户评估，老人状态平稳" in html
    assert report.id not in _listed_ids(app, "gx-officer")  # answered: no longer due
    assert report.id in _listed_ids(app, "gx-officer", state="closed")


def test_a_withdrawn_assessment_opens_its_report_again_and_a_future_one_is_refused(app, login):
    from portal.accounts.models import User
    from portal.assessments import recording
    from portal.assessments.changes import report_change
    from portal.assessments.models import Assessment, ChangeReport
    from portal.beneficiaries.models import Beneficiary
    from portal.core.timeutil import utcnow
    from tests import assessment_world as aw
    world = aw.assessment_world(app)
    person = world["people"]["刘桂英"]
    with app.app_context(), aw.scope(app):
        for earlier in db.session.execute(select(ChangeReport).where(ChangeReport.beneficiary_id == person)).scalars():
            earlier.closed_at = utcnow()  # the demo's own report of this person is not the one watched
        report_id = report_change(db.session.get(Beneficiary, person), "condition_changed", TODAY - timedelta(days=2)).id
        db.session.commit()
    from portal.core.errors import DomainError
    with pytest.raises(DomainError) as refused:  # a wrong clock: refused, and it closes nothing
        aw.record(app, world, "刘桂英", at=utcnow() + timedelta(days=2))
    assert list(refused.value.errors) == ["assessed_at"]
    with app.app_context(), aw.scope(app):
        report = db.session.get(ChangeReport, report_id)
        assert report.closed_at is None  # a wrong clock answers nothing
    assessment_id = aw.record(app, world, "刘桂英", not_met=2)
    with app.app_context(), aw.scope(app):
        report = db.session.get(ChangeReport, report_id)
        assert report.assessment_id == assessment_id and report.closed_at is not None
        manager = db.session.execute(select(User).where(User.username == "b-manager")).scalar_one()
        recording.withdraw(db.session.get(Assessment, assessment_id), manager, utcnow(), "录错了对象")
        db.session.commit()
        report = db.session.get(ChangeReport, report_id)
        assert (report.assessment_id, report.closed_at) == (None, None)  # due again


def test_a_withdrawn_assessment_leaves_its_report_to_a_later_one_still_standing(app, login):
    from portal.accounts.models import User
    from portal.assessments import recording
    from portal.assessments.changes import report_change
    from portal.assessments.models import Assessment, ChangeReport
    from portal.beneficiaries.models import Beneficiary
    from portal.core.timeutil import utcnow
    from tests import assessment_world as aw
    world = aw.assessment_world(app)
    person = world["people"]["刘桂英"]
    with app.app_context(), aw.scope(app):
        for earlier in db.session.execute(select(ChangeReport).where(ChangeReport.beneficiary_id == person)).scalars():
            earlier.closed_at = utcnow()
        report_id = report_change(db.session.get(Beneficiary, person), "condition_changed", TODAY - timedelta(days=2)).id
        db.session.commit()
    first = aw.record(app, world, "刘桂英", not_met=2, at=utcnow() - timedelta(hours=5))
    second = aw.record(app, world, "刘桂英", not_met=3, at=utcnow() - timedelta(hours=1))
    with app.app_context(), aw.scope(app):
        assert db.session.get(ChangeReport, report_id).assessment_id == first
        manager = db.session.execute(select(User).where(User.username == "b-manager")).scalar_one()
        recording.withdraw(db.session.get(Assessment, first), manager, utcnow(), "录错了")
        db.session.commit()
        report = db.session.get(ChangeReport, report_id)
        assert report.assessment_id == second and report.closed_at is not None  # still answered


def _listed_ids(app, username, **filters):
    from portal.assessments import changes
    with app.app_context(), tenant_scope(_gx(app)):
        return [r.id for r in db.session.scalars(changes.due_query(_user(username), **filters))]


def test_the_demo_has_an_overdue_and_a_due_reassessment_and_seeds_them_once(app):
    from portal.assessments.changes import is_overdue
    from portal.assessments.models import ChangeReport
    from portal.demo import seed
    support.seed_demo(app, history=True)
    with app.app_context(), tenant_scope(_gx(app)):
        reports = db.session.execute(select(ChangeReport).order_by(ChangeReport.id)).scalars().all()
        assert {r.kind for r in reports} == {"hospitalised", "condition_changed"}
        hospital = next(r for r in reports if r.kind == "hospitalised")
        assert hospital.beneficiary.status == "hospitalised" and hospital.reported_on == hospital.beneficiary.status_since
        assert is_overdue(hospital) and not is_overdue(next(r for r in reports if r.kind == "condition_changed"))
    with support.platform_app(app).app_context():  # the second `flask seed-demo` run, as the platform role
        assert seed(support.PASSWORD, history=True) == 0
        db.session.rollback()


def test_the_dashboard_counts_the_reassessments_still_due(app, due, login):
    import re
    for username, expected in (("gx-officer", 3), ("gx-supervisor", 3), ("a-manager", 2), ("b-manager", 1)):
        client = login(username, tenant="ganxian") if username[1] == "-" else login(username)
        html = client.get("/").get_data(as_text=True)
        found = re.search(r'href="/assessments/reassessments"><span class="card-value">(\d+)</span>', html)
        assert found and int(found.group(1)) == expected, username


def test_the_file_says_who_submitted_who_withdrew_why_and_who_took_down_and_answered_an_objection(app, login):
    """A submission, a withdrawal (its who, when and reason are the audit trail's) and an objection
    taken down by phone and answered by someone else each have their own line with their own actor."""
    from portal.assessments import objections, publicity, recording
    from portal.assessments.models import Assessment
    from portal.contracts.models import Contract
    from portal.core.timeutil import utcnow
    from tests import assessment_world as aw
    world = aw.assessment_world(app)
    person = world["people"]["陈德福"]
    mistaken = aw.record(app, world, "陈德福", not_met=1, at=utcnow() - timedelta(days=3))
    kept = aw.record(app, world, "陈德福", not_met=2)
    with app.app_context(), aw.scope(app):
        manager, officer, supervisor = _user("b-manager"), _user("gx-officer"), _user("gx-supervisor")
        rows = [db.session.get(Assessment, i) for i in (mistaken, kept)]
        recording.submit(rows, manager, utcnow())
        recording.withdraw(rows[0], manager, utcnow(), "录错了对象，应为另一位老人")
        round_ = publicity.open_publicity(db.session.get(Contract, rows[1].contract_id), [rows[1]], officer, utcnow())
        objection = objections.submit_objection(round_, "电话反映评估有误", utcnow(), assessment_id=kept,
                                                contact="13600001234", by=officer)
        objections.answer_objection(objection, "rejected", "经核实无误", supervisor, utcnow())
        db.session.commit()
        names = {u.username: u.display_name or u.username for u in (manager, officer, supervisor)}
    with app.app_context(), aw.scope(app):
        from portal.assessments import people
        from portal.beneficiaries.models import Beneficiary
        entries = people.entries(db.session.get(Beneficiary, person), _user("gx-supervisor"))
        by_kind = {}
        for e in entries:
            by_kind.setdefault(e.kind, []).append(e)
        submissions = {e.row.id: e.who for e in by_kind["submission"]}  # (the demo's own ones besides)
        assert (submissions[mistaken], submissions[kept]) == (names["b-manager"], names["b-manager"])
        (withdrawal,) = [e for e in by_kind["withdrawal"] if e.row.id == mistaken]
        assert withdrawal.who == names["b-manager"]
        assert withdrawal.extra["reason"] == "录错了对象，应为另一位老人" and withdrawal.at is not None
        (received,) = [e for e in by_kind["objection"] if e.row.assessment_id == kept]
        (answered,) = [e for e in by_kind["answer"] if e.row.assessment_id == kept]
        assert received.who == names["gx-officer"] and answered.who == names["gx-supervisor"]
        assert received.at <= answered.at
    status, html = _page(login("gx-supervisor"), f"/assessments/people/{person}")
    assert status == 200
    assert "录错了对象，应为另一位老人" in html and "13600001234" not in html
    withdrawn_row = next(r for r in html.split("<tr")[1:] if 'class="file-withdrawal"' in r)
    assert names["b-manager"] in withdrawn_row and "录错了对象" in withdrawn_row
    # the assessing contractor reads its own withdrawal's reason; contractor A reaches no file here
    status, html = _page(login("b-manager", tenant="ganxian"), f"/assessments/people/{person}")
    assert status == 200 and "录错了对象，应为另一位老人" in html


def test_the_due_list_says_when_no_assessor_is_assigned_to_the_person(app, due, login):
    from portal.assessments import changes
    people = due["people"]
    with app.app_context(), tenant_scope(_gx(app)):
        unassigned = changes.without_assessor([people["钟长生"], people["刘桂英"], due["far"]])
        assert unassigned == {people["刘桂英"], due["far"]}  # A's care contract has no assessment item
    status, html = _page(login("gx-supervisor"), "/assessments/reassessments?state=all")
    assert status == 200
    rows = {name: next(r for r in html.split("<tr")[1:] if name in r) for name in ("钟长生", "欧阳明", "刘桂英")}
    assert "无评估员" not in rows["钟长生"]  # B's assessor may act
    assert "无评估员" in rows["欧阳明"] and "无评估员" in rows["刘桂英"]
