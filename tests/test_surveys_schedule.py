"""The re-survey schedule (docs/DOMAIN.md §6): next_due_on per category after the outcome, calendar
months clamped to the month's end, none without a schedule or for a family that leaves; the due
list (within 30 days, the 30th day included, the 31st not) and the overdue list (from the day
after), a later survey taking the family off; a change report making a family due early (10
working days on) and closed by its next survey; a manager seeing only the families of its own
survey contracts; the change report form and the Excel copy of the lists."""
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.core.errors import DomainError
from portal.core.timeutil import utcnow
from portal.extensions import db
from tests import support
from tests.survey_rows import TODAY, add_survey, rows_world, scope, set_schedule, user

SCHEDULE = {"dibao": 12, "dibao_marginal": 6, "tekun": 3}


@pytest.fixture
def english(app):
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        yield


@pytest.fixture
def world(app, demo):
    built = rows_world(app)
    set_schedule(app, SCHEDULE)
    return built


def _survey(**columns):
    from portal.surveys.models import HouseholdSurvey
    values = {"outcome": "eligible", "category": "dibao", "surveyed_at": datetime(2026, 3, 10, 2, tzinfo=timezone.utc)}
    values.update(columns)
    return HouseholdSurvey(**values)


def _gx_tenant(app):
    return support.World(app).tenant_id("ganxian")


# --- next_due_on ---------------------------------------------------------------------------------

def test_next_due_on_per_category_after_the_outcome(app, world):
    from portal.surveys.schedule import next_due_on
    gx = _gx_tenant(app)
    with app.app_context(), scope(app):
        def due(**columns):
            return next_due_on(_survey(tenant_id=gx, **columns))
        assert due() == date(2027, 3, 10)                                   # dibao: 12 months
        assert due(category="tekun") == date(2026, 6, 10)                   # tekun: 3 months
        assert due(outcome="marginal") == date(2026, 9, 10)                 # marginal → dibao_marginal: 6
        assert due(outcome="marginal", category="tekun") == date(2026, 9, 10)
        assert due(outcome="not_eligible") is None and due(outcome="exit") is None
        assert due(category="expense_poverty") is None                      # no schedule for the category
        # the local (Beijing) day counts: 31 Jan 17:00 UTC is 1 February in Beijing
        assert due(category="tekun", surveyed_at=datetime(2026, 1, 31, 17, tzinfo=timezone.utc)) == date(2026, 5, 1)
        assert due(category="tekun", surveyed_at=datetime(2026, 1, 31, 15, tzinfo=timezone.utc)) == date(2026, 4, 30)


def test_next_due_on_clamps_to_the_end_of_a_shorter_month(app, world):
    from portal.core.months import add_months
    from portal.surveys.schedule import next_due_on
    gx = _gx_tenant(app)
    with app.app_context(), scope(app):
        aug31 = datetime(2025, 8, 31, 2, tzinfo=timezone.utc)
        assert next_due_on(_survey(tenant_id=gx, outcome="marginal", surveyed_at=aug31)) == date(2026, 2, 28)
        assert next_due_on(_survey(tenant_id=gx, outcome="marginal",
                                   surveyed_at=datetime(2027, 8, 31, 2, tzinfo=timezone.utc))) == date(2028, 2, 29)
        assert next_due_on(_survey(tenant_id=gx, category="tekun",
                                   surveyed_at=datetime(2026, 11, 30, 2, tzinfo=timezone.utc))) == date(2027, 2, 28)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert add_months(date(2026, 5, 31), 0) == date(2026, 5, 31)


def test_no_schedule_no_due_day(app, demo):
    from portal.surveys.schedule import next_due_on
    rows_world(app)
    gx = _gx_tenant(app)
    set_schedule(app, {})  # the default: no schedule at all
    with app.app_context(), scope(app):
        assert next_due_on(_survey(tenant_id=gx)) is None
    set_schedule(app, {"dibao": 0, "tekun": 3})  # zero months: no schedule either
    with app.app_context(), scope(app):
        assert next_due_on(_survey(tenant_id=gx)) is None
        assert next_due_on(_survey(tenant_id=gx, category="tekun")) is not None


# --- due and overdue ---------------------------------------------------------------------------------

def _listed(app, state, username=None, **filters):
    """[(family id, reason, due day)] of the list, in its order."""
    from portal.surveys import schedule
    with app.app_context(), scope(app):
        who = user(username) if username else None
        rows = (schedule.overdue_families(TODAY, user=who, **filters) if state == "overdue"
                else schedule.due_families(TODAY, user=who, **filters))
        return [(row.beneficiary.id, row.reason, row.due_on) for row in rows]


def test_due_within_thirty_days_and_overdue_from_the_day_after(app, world):
    people = world["people"]
    past = TODAY - timedelta(days=300)
    ids = {name: add_survey(app, world, name, past, next_due_on=TODAY + timedelta(days=offset))
           for name, offset in (("张秀英", 30), ("李建国", 31), ("王桂兰", 0), ("赵德明", -1))}
    due = _listed(app, "due")
    assert due == [(people["王桂兰"], "schedule", TODAY), (people["张秀英"], "schedule", TODAY + timedelta(days=30))]
    assert _listed(app, "overdue") == [(people["赵德明"], "schedule", TODAY - timedelta(days=1))]
    from portal.surveys import schedule
    with app.app_context(), scope(app):
        assert [r.survey.id for r in schedule.due_families(TODAY, within_days=31)] == [
            ids["王桂兰"], ids["张秀英"], ids["李建国"]]
        assert schedule.due_counts(TODAY) == {"due": 2, "overdue": 1}
        # the day after its due day the family is overdue, the day itself it is still due
        assert [r.beneficiary.id for r in schedule.overdue_families(TODAY + timedelta(days=1))] == [
            people["赵德明"], people["王桂兰"]]


def test_only_the_latest_signed_off_survey_counts_and_a_later_survey_answers_it(app, world):
    people = world["people"]
    old = TODAY - timedelta(days=400)
    add_survey(app, world, "张秀英", old, next_due_on=TODAY - timedelta(days=35))
    add_survey(app, world, "李建国", old, next_due_on=TODAY - timedelta(days=20))
    add_survey(app, world, "王桂兰", old, next_due_on=TODAY - timedelta(days=10))
    assert [r[0] for r in _listed(app, "overdue")] == [people["张秀英"], people["李建国"], people["王桂兰"]]
    # 张秀英: surveyed again, awaiting review → no longer overdue
    add_survey(app, world, "张秀英", TODAY - timedelta(days=2), status="recorded")
    # 李建国: surveyed again but the survey was returned → still overdue (a corrected one is awaited)
    add_survey(app, world, "李建国", TODAY - timedelta(days=3), status="returned")
    # 王桂兰: re-surveyed and signed off, now not eligible → no schedule at all
    add_survey(app, world, "王桂兰", TODAY - timedelta(days=5), outcome="exit", schedule=True)
    assert [r[0] for r in _listed(app, "overdue")] == [people["李建国"]]
    assert _listed(app, "due") == []


def test_the_lists_filter_by_township_and_category(app, world):
    people = world["people"]
    add_survey(app, world, "张秀英", TODAY - timedelta(days=200), next_due_on=TODAY + timedelta(days=3))
    add_survey(app, world, "王桂兰", TODAY - timedelta(days=200), category="tekun",
               next_due_on=TODAY + timedelta(days=4))
    assert [r[0] for r in _listed(app, "due", township="王母渡镇")] == [people["王桂兰"]]
    assert [r[0] for r in _listed(app, "due", category="dibao")] == [people["张秀英"]]
    assert _listed(app, "due", township="王母渡镇", category="dibao") == []


# --- change reports ------------------------------------------------------------------------------------

def test_a_change_report_makes_a_family_due_early_and_its_next_survey_closes_it(app, world, english):
    from portal.beneficiaries.models import Beneficiary
    from portal.surveys.models import HouseholdSurvey, SurveyChangeReport
    from portal.surveys.schedule import open_change_report
    from portal.surveys.signals import survey_recorded
    people = world["people"]
    last = add_survey(app, world, "张秀英", TODAY - timedelta(days=40), next_due_on=TODAY + timedelta(days=300))
    assert _listed(app, "due") == []
    day = TODAY - timedelta(days=1)
    with app.app_context(), scope(app):
        report = open_change_report(db.session.get(Beneficiary, people["张秀英"]), "income_changed", day, "找到工作",
                                    user("gx-officer"))
        assert report.due_on == support.fixture_calendar().add_working_days(day, 10)
        db.session.commit()
        due_on = report.due_on
    from portal.surveys import schedule
    with app.app_context(), scope(app):
        rows = schedule.due_families(TODAY)
        assert [(r.beneficiary.id, r.reason, r.due_on, r.survey.id) for r in rows] == [
            (people["张秀英"], "change_report", due_on, last)]
    # a survey made before the change answers nothing; the next one on or after its day closes it
    before = add_survey(app, world, "张秀英", day - timedelta(days=1), status="recorded")
    after = add_survey(app, world, "张秀英", TODAY, status="recorded")
    with app.app_context(), scope(app):
        survey_recorded.send(db.session.get(HouseholdSurvey, before))
        assert db.session.execute(select(SurveyChangeReport)).scalar_one().closed_at is None
        survey_recorded.send(db.session.get(HouseholdSurvey, after))
        report = db.session.execute(select(SurveyChangeReport)).scalar_one()
        assert (report.survey_id, report.closed_at is not None) == (after, True)
        db.session.commit()
    assert _listed(app, "due") == [] and _listed(app, "overdue") == []


def test_a_returned_survey_hands_its_change_report_on_or_opens_it_again(app, world):
    """The survey that closed a report is returned: the family's next standing survey made on or
    after the report day answers it; when that one is returned too, the report is open again."""
    from portal.beneficiaries.models import Beneficiary
    from portal.surveys import review, schedule
    from portal.surveys.models import HouseholdSurvey, SurveyChangeReport
    from portal.surveys.signals import survey_recorded
    people = world["people"]
    day = TODAY - timedelta(days=5)
    with app.app_context(), scope(app):
        schedule.open_change_report(db.session.get(Beneficiary, people["张秀英"]), "income_changed", day, "",
                                    user("gx-officer"))
        db.session.commit()
    add_survey(app, world, "张秀英", day - timedelta(days=1), status="recorded")  # before the report
    first = add_survey(app, world, "张秀英", day, status="recorded")
    second = add_survey(app, world, "张秀英", TODAY, status="recorded")
    with app.app_context(), scope(app):
        survey_recorded.send(db.session.get(HouseholdSurvey, first))
        db.session.commit()

    def report():
        found = db.session.execute(select(SurveyChangeReport)).scalar_one()
        return found.survey_id, found.closed_at is not None

    with app.app_context(), scope(app):
        assert report() == (first, True)
        review.return_survey(db.session.get(HouseholdSurvey, first), user("gx-officer"), utcnow(), "收入漏登")
        db.session.commit()
        assert report() == (second, True)
        review.return_survey(db.session.get(HouseholdSurvey, second), user("gx-officer"), utcnow(), "收入漏登")
        db.session.commit()
        assert report() == (None, False)  # the survey made before the report day answers nothing
    assert [(r[0], r[1]) for r in _listed(app, "due")] == [(people["张秀英"], "change_report")]


def test_an_open_change_report_past_its_day_is_overdue_and_lists_a_family_never_surveyed(app, world):
    from portal.surveys.models import SurveyChangeReport
    people = world["people"]
    with app.app_context(), scope(app):
        db.session.add(SurveyChangeReport(beneficiary_id=people["赵德明"], kind="members_changed",
                                          reported_on=TODAY - timedelta(days=30), due_on=TODAY - timedelta(days=16)))
        db.session.commit()
    from portal.surveys import schedule
    with app.app_context(), scope(app):
        rows = schedule.overdue_families(TODAY)
        assert [(r.beneficiary.id, r.reason, r.survey) for r in rows] == [(people["赵德明"], "change_report", None)]


def test_change_reports_are_refused_ahead_of_time_of_another_kind_or_off_a_survey_contract(app, world, english):
    from portal.beneficiaries.models import Beneficiary
    from portal.surveys.models import SurveyChangeReport
    from portal.surveys.schedule import open_change_report
    people = world["people"]
    with app.app_context(), scope(app):
        family = db.session.get(Beneficiary, people["张秀英"])
        for args, field in (((family, "income_changed", TODAY + timedelta(days=1)), "reported_on"),
                            ((family, "married", TODAY), "kind"),
                            ((family, "income_changed", None), "reported_on"),
                            ((family, "income_changed", date(2000, 1, 1)), "reported_on"),
                            ((db.session.get(Beneficiary, people["周文华"]), "other", TODAY), "beneficiary")):
            with pytest.raises(DomainError) as refused:
                open_change_report(*args)
            assert list(refused.value.errors) == [field]
        assert db.session.execute(select(SurveyChangeReport)).scalars().all() == []


def test_the_change_report_form(app, world, login):
    from portal.surveys.models import SurveyChangeReport
    people = world["people"]
    client = login("a-manager", tenant="ganxian")
    page = client.get("/surveys/changes")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "张*英" in html and "赵" not in html  # B's families are not offered

    def post(who, family, **extra):
        data = {"beneficiary": family, "kind": "assets_changed", "reported_on": TODAY.isoformat(), "note": "买车",
                **extra}
        return support.form_post(who, "/surveys/changes", data, token_url="/surveys/changes")

    assert post(client, people["张秀英"]).status_code == 302
    assert post(client, people["赵德明"]).status_code == 422      # B's family
    for bad in (0, -1, 2 ** 40, "x"):
        assert post(client, bad).status_code == 422
    assert post(client, people["张秀英"], reported_on=(TODAY + timedelta(days=1)).isoformat()).status_code == 422
    officer = login("gx-officer")
    assert post(officer, people["赵德明"]).status_code == 302
    assert post(officer, people["周文华"]).status_code == 422       # on no survey contract
    assert login("a-worker1", tenant="ganxian").get("/surveys/changes").status_code == 403
    assert login("gx-finance").get("/surveys/changes").status_code == 403
    with app.app_context(), scope(app):
        reports = db.session.execute(select(SurveyChangeReport).order_by(SurveyChangeReport.id)).scalars().all()
        assert [(r.beneficiary_id, r.reported_by_id) for r in reports] == [
            (people["张秀英"], user("a-manager").id), (people["赵德明"], user("gx-officer").id)]
    html = client.get("/surveys/changes").get_data(as_text=True)
    assert "张*英" in html and "赵" not in html  # the manager's list: its own families only
    html = _table(officer.get("/surveys/changes?state=all&township=梅林镇"))
    assert "张秀英" in html and "赵德明" in html
    assert "张秀英" not in _table(officer.get("/surveys/changes?township=王母渡镇"))
    assert "张秀英" not in _table(officer.get("/surveys/changes?state=closed"))
    assert "张" not in login("zg-officer").get("/surveys/changes").get_data(as_text=True)


def _table(response):
    """The list of a page (after its forms)."""
    assert response.status_code == 200
    return response.get_data(as_text=True).split('<table id="change-reports">')[1]


# --- the pages --------------------------------------------------------------------------------------------

@pytest.fixture
def listed(app, world):
    """Due: 张秀英 (A, in 5 days), 赵德明 (B, in 6 days); overdue: 王桂兰 (A), 孙玉珍 (B)."""
    ids = {}
    for name, offset in (("张秀英", 5), ("赵德明", 6), ("王桂兰", -3), ("孙玉珍", -2)):
        ids[name] = add_survey(app, world, name, TODAY - timedelta(days=360), next_due_on=TODAY + timedelta(days=offset))
    return {**world, "surveys": ids}


def test_the_due_page_for_the_bureau_and_for_a_manager(app, listed, login):
    client = login("gx-supervisor")
    html = client.get("/surveys/due").get_data(as_text=True)
    assert "张秀英" in html and "赵德明" in html and "王桂兰" not in html
    assert 'id="tab-overdue"' in html and ">2</span>" in html
    html = client.get("/surveys/due?state=overdue").get_data(as_text=True)
    assert "王桂兰" in html and "孙玉珍" in html and "张秀英" not in html
    html = client.get("/surveys/due?state=overdue&township=王母渡镇&category=dibao").get_data(as_text=True)
    assert "王桂兰" in html and "孙玉珍" in html
    assert "王桂兰" not in client.get("/surveys/due?state=overdue&category=tekun").get_data(as_text=True)
    manager = login("a-manager", tenant="ganxian")
    html = manager.get("/surveys/due").get_data(as_text=True)
    assert "张*英" in html and "张秀英" not in html and "赵" not in html
    html = manager.get("/surveys/due?state=overdue").get_data(as_text=True)
    assert "王*兰" in html and "孙" not in html
    for page in ("2", "0", "-1", "x", str(2 ** 40)):  # past the last page or not a page: never an error
        assert manager.get(f"/surveys/due?page={page}").status_code == 200
    assert client.get("/surveys/due?state=nonsense&category=nonsense").status_code == 200
    assert login("a-worker1", tenant="ganxian").get("/surveys/due").status_code == 403
    assert "张" not in login("zg-officer").get("/surveys/due").get_data(as_text=True)


def test_a_manager_is_not_told_the_number_or_time_of_another_contractors_survey(app, listed, login):
    """张秀英 is on A's list; her last survey was made by B: A's manager sees that she is due, not
    which survey of B's it was nor when (the bureau still does)."""
    from portal.surveys.models import HouseholdSurvey
    survey_id = listed["surveys"]["张秀英"]
    b_survey = listed["surveys"]["赵德明"]
    with app.app_context(), scope(app):
        b = db.session.get(HouseholdSurvey, b_survey)
        db.session.execute(HouseholdSurvey.__table__.update().where(HouseholdSurvey.id == survey_id).values(
            contract_id=b.contract_id, contractor_id=b.contractor_id, surveyor_user_id=b.surveyor_user_id))
        db.session.commit()
    manager = login("a-manager", tenant="ganxian")
    html = manager.get("/surveys/due").get_data(as_text=True)
    assert "张*英" in html and f">#{survey_id}<" not in html and f"/surveys/{survey_id}" not in html
    assert "其他服务机构调查" in html
    rows = list(load_workbook(io.BytesIO(manager.get("/surveys/due.xlsx").data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "状态" and rows[0][6] == "上次调查"  # the headers in the reader's language
    mine = [r for r in rows[1:] if r[1] == "张*英"]
    assert len(mine) == 1 and mine[0][6] in (None, "") and mine[0][8] in (None, "")
    bureau = login("gx-officer").get("/surveys/due").get_data(as_text=True)
    assert f'/surveys/{survey_id}"' in bureau


def test_the_due_list_pages_past_the_first(app, listed, login):
    app.config["PER_PAGE"] = 1
    try:
        client = login("gx-officer")
        first = client.get("/surveys/due").get_data(as_text=True)
        second = client.get("/surveys/due?page=2").get_data(as_text=True)
        assert "张秀英" in first and "赵德明" not in first
        assert "赵德明" in second and "张秀英" not in second
    finally:
        app.config.pop("PER_PAGE")


def test_the_due_list_exports_both_lists_to_excel(app, listed, login):
    response = login("gx-officer").get("/surveys/due.xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))[1:]
    assert [(r[1], r[5], r[6]) for r in rows] == [
        ("张*英", (TODAY + timedelta(days=5)).isoformat(), listed["surveys"]["张秀英"]),
        ("赵*明", (TODAY + timedelta(days=6)).isoformat(), listed["surveys"]["赵德明"]),
        ("王*兰", (TODAY - timedelta(days=3)).isoformat(), listed["surveys"]["王桂兰"]),
        ("孙*珍", (TODAY - timedelta(days=2)).isoformat(), listed["surveys"]["孙玉珍"])]
    rows = list(load_workbook(io.BytesIO(login("b-manager", tenant="ganxian").get("/surveys/due.xlsx").data))
                .active.iter_rows(values_only=True))[1:]
    assert [r[1] for r in rows] == ["赵*明", "孙*珍"]
    assert login("a-worker1", tenant="ganxian").get("/surveys/due.xlsx").status_code == 403


def test_end_to_end_sign_off_schedules_a_report_brings_forward_and_the_next_survey_closes(app, login):
    """Through the real services: d-worker1 records, one officer reviews, another signs off (the
    due day set from the schedule); a change report makes the family due now; the next survey
    recorded through record_survey closes it. The due page links to the last survey."""
    from portal.beneficiaries.models import Beneficiary
    from portal.core.months import add_months
    from portal.core.timeutil import utcnow
    from portal.surveys import review, schedule
    from portal.surveys.models import HouseholdSurvey, SurveyChangeReport
    from tests import survey_world as sw
    world = sw.survey_world(app)
    set_schedule(app, {"dibao": 1})
    name = sw.SURVEYED[0]
    first = sw.record(app, world, name, at=utcnow() - timedelta(days=25))
    with app.app_context(), sw.scope(app):
        survey = db.session.get(HouseholdSurvey, first)
        review.review(survey, user("gx-officer"), utcnow())
        review.sign_off(survey, user("gx-supervisor"), utcnow())
        db.session.commit()
        assert survey.outcome == "eligible"
        assert survey.next_due_on == add_months((utcnow() - timedelta(days=25)).astimezone(
            timezone(timedelta(hours=8))).date(), 1)
        assert [r.survey.id for r in schedule.due_families(TODAY)] == [first]
        report = schedule.open_change_report(db.session.get(Beneficiary, world["people"][name]), "members_changed",
                                             TODAY, "", user("gx-officer"))
        db.session.commit()
        assert [r.reason for r in schedule.due_families(TODAY)] == ["schedule", "change_report"]
        report_id = report.id
    html = login("gx-officer").get("/surveys/due").get_data(as_text=True)
    assert f'href="/surveys/{first}"' in html
    second = sw.record(app, world, name, at=utcnow())  # on the report's day (TODAY) in Beijing, or after
    with app.app_context(), sw.scope(app):
        report = db.session.get(SurveyChangeReport, report_id)
        assert (report.survey_id, report.closed_at is not None) == (second, True)
        assert schedule.due_families(TODAY) == [] and schedule.overdue_families(TODAY + timedelta(days=60)) == []
