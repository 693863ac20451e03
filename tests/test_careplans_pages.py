"""The pages and the API of care plans (docs/DOMAIN.md §6 "Care plans", docs/API.md): the missed list
with its filters, pages and Excel copy (the bureau all, a contractor's manager its own, current
month by default), planned against delivered on a version's page, the list of plans, the plan
versions in the person's file and its print view (only for those who may read them), and
``GET /api/v1/care-plans/missed`` in its fixed shape, for the roles it names; another bureau's plan
is not found."""
import html as htmllib
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.core.months import month_text
from portal.extensions import db
from tests.beneficiary_world import assign
from tests.careplan_world import LAST_MONTH, THIS_MONTH, approved, careplan_world, last_month_plan, scope, visit

pytestmark = pytest.mark.usefixtures("own_queue")


def _text(response):
    return htmllib.unescape(response.get_data(as_text=True))


@pytest.fixture
def world(app, demo):
    """刘桂英 and 黄秀兰 missed last month, 陈德福 served in full."""
    world = careplan_world(app)
    people = world["people"]
    world["plans"] = {
        "刘桂英": last_month_plan(app, people["刘桂英"], {"daily_watch": 10, "counselling": 2}),
        "陈德福": last_month_plan(app, people["陈德福"], {"daily_watch": 3}),
        "黄秀兰": last_month_plan(app, people["黄秀兰"], {"daily_watch": 10, "personal_care": 8}),
    }
    for n in range(3):
        visit(app, world, "陈德福", LAST_MONTH + timedelta(days=2 + n), 9, ["daily_watch"])
    visit(app, world, "刘桂英", LAST_MONTH + timedelta(days=2), 11, ["daily_watch", "counselling"])
    visit(app, world, "黄秀兰", LAST_MONTH + timedelta(days=2), 9, ["personal_care"])
    return world


def test_the_supervisor_sees_who_was_missed_with_what_fell_short_in_chinese(app, world, login):
    people = world["people"]
    supervisor = login("gx-supervisor")
    response = supervisor.get(f"/care-plans/missed?month={month_text(LAST_MONTH)}")
    assert response.status_code == 200
    html = _text(response)
    assert f'id="missed-row-{people["刘桂英"]}"' in html and f'id="missed-row-{people["黄秀兰"]}"' in html
    assert f'id="missed-row-{people["陈德福"]}"' not in html
    assert "日常看护 尚缺 9 次、心理疏导 尚缺 1 次" in html and "照料护理 尚缺 7 次" in html
    assert "尚缺服务" in html and "×" not in html.split('id="missed"')[1]
    assert "刘桂英" in html  # the bureau sees names
    assert f'/care-plans/people/{people["刘桂英"]}' in html and f'/assessments/people/{people["刘桂英"]}' in html
    assert f'/care-plans/{world["plans"]["刘桂英"]}?month={month_text(LAST_MONTH)}' in html


def test_the_bureau_filters_by_contractor_township_and_name_and_pages(app, world, login, monkeypatch):
    from tests.beneficiary_world import contractor_of
    people = world["people"]
    month = month_text(LAST_MONTH)
    supervisor = login("gx-supervisor")
    by_name = _text(supervisor.get(f"/care-plans/missed?month={month}&q=秀兰"))
    assert '<label for="q">姓名</label>' in by_name
    assert f'id="missed-row-{people["黄秀兰"]}"' in by_name and f'id="missed-row-{people["刘桂英"]}"' not in by_name
    other_township = _text(supervisor.get(f"/care-plans/missed?month={month}&township=五云镇"))
    assert "missed-row-" not in other_township.split("<tbody>")[1]
    b = contractor_of(app, "b-manager")
    assert 'id="missed-row-' not in _text(supervisor.get(f"/care-plans/missed?month={month}&contractor={b}"))
    a = contractor_of(app, "a-manager")
    assert f'id="missed-row-{people["刘桂英"]}"' in _text(supervisor.get(f"/care-plans/missed?month={month}&contractor={a}"))
    monkeypatch.setitem(app.config, "MAX_PER_PAGE", 1)
    first, second = (_text(supervisor.get(f"/care-plans/missed?month={month}&page={n}")) for n in (1, 2))
    assert 'rel="next"' in first and 'rel="prev"' in second
    assert {f'id="missed-row-{people[n]}"' in first + second for n in ("刘桂英", "黄秀兰")} == {True}


@pytest.mark.parametrize("month", ["2026-13", "abc", "2026-1"])
def test_a_bad_month_is_refused_with_the_message_alone_on_the_page_and_the_excel(app, world, login, month):
    supervisor = login("gx-supervisor")
    response = supervisor.get(f"/care-plans/missed?month={month}")
    html = _text(response)
    assert response.status_code == 422 and 'id="month-error"' in html and "请按 YYYY-MM 格式填写月份。" in html
    assert 'id="missed-intro"' not in html and 'id="missed"' not in html and "未达标对象 0 人" not in html
    assert f"{month} 所获服务" not in html and 'id="missed-export"' not in html
    export = supervisor.get(f"/care-plans/missed.xlsx?month={month}")
    assert export.status_code == 422 and export.mimetype == "text/html"
    assert "请按 YYYY-MM 格式填写月份。" in _text(export)
    with app.app_context(), scope(app):
        assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "care_plan_missed_exported")).all() == []


def test_the_missed_list_exports_to_excel_and_the_export_is_audited(app, world, login):
    supervisor = login("gx-supervisor")
    response = supervisor.get(f"/care-plans/missed.xlsx?month={month_text(LAST_MONTH)}")
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.title == "未达标对象名单"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-1] == "尚缺服务" and rows[0][6] == "计划服务次数"  # the header row, in Chinese
    listed = {row[0]: row for row in rows[1:]}
    assert set(listed) == {"刘桂英", "黄秀兰"}
    assert listed["刘桂英"][6:10] == (12, 2, 1, 1) and listed["刘桂英"][10] == "日常看护 尚缺 9 次、心理疏导 尚缺 1 次"
    with app.app_context(), scope(app):
        assert db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "care_plan_missed_exported")).one().object_id == f"{month_text(LAST_MONTH)}:2"


def test_the_manager_sees_its_own_missed_list_so_far_this_month_with_masked_names(app, world, login):
    people = world["people"]
    approved(app, people["陈德福"], {"daily_watch": 3}, reason="延续")  # in force this month, nothing yet
    manager = login("a-manager", tenant="ganxian")
    manager.set_cookie("lang", "en")
    html = _text(manager.get("/care-plans/missed"))
    assert f"So far this month ({month_text(THIS_MONTH)})" in html
    assert f'id="missed-row-{people["陈德福"]}"' in html and "陈*福" in html and "陈德福" not in html
    last = _text(manager.get(f"/care-plans/missed?month={month_text(LAST_MONTH)}"))
    assert f'id="missed-row-{people["刘桂英"]}"' in last and "contractor" not in last.split('id="missed-filters"')[1][:300]
    b_manager = login("b-manager", tenant="ganxian")
    assert 'id="missed-row-' not in _text(b_manager.get(f"/care-plans/missed?month={month_text(LAST_MONTH)}"))
    for username in ("gx-finance", "gx-admin"):
        assert login(username).get("/care-plans/missed").status_code == 403
    assert login("a-worker1", tenant="ganxian").get("/care-plans/missed").status_code == 403


def test_a_version_shows_planned_against_delivered_for_the_month_chosen(app, world, login):
    people = world["people"]
    plan = world["plans"]["刘桂英"]
    officer = login("gx-officer")
    officer.set_cookie("lang", "en")
    html = _text(officer.get(f"/care-plans/{plan}?month={month_text(LAST_MONTH)}"))
    assert 'id="service-daily_watch" class="short"' in html and 'id="service-in_person" class="met"' in html
    assert '<td class="num" id="planned-total">12</td><td class="num" id="delivered-total">2</td>' in html
    assert "Missed" in html
    newer = approved(app, people["刘桂英"], {"daily_watch": 11, "counselling": 2}, reason="增加看护")
    this_month = _text(officer.get(f"/care-plans/{plan}"))
    assert f"In {month_text(THIS_MONTH)} version 2 is in force" in this_month and f"/care-plans/{newer}" in this_month
    earlier = _text(officer.get(f"/care-plans/{plan}?month=2001-01"))
    assert "No approved version of the plan is in force in 2001-01." in earlier
    assert officer.get(f"/care-plans/{plan}?month=garbage").status_code == 200


def test_the_list_of_plans_filters_by_status_and_contractor_isolation_holds(app, world, login):
    people = world["people"]
    approved(app, people["陈德福"], {"daily_watch": 4}, reason="调整")
    officer = login("gx-officer")
    superseded = _text(officer.get("/care-plans/?status=superseded"))
    assert f'id="plan-{world["plans"]["陈德福"]}"' in superseded and f'id="plan-{world["plans"]["刘桂英"]}"' not in superseded
    assert login("a-manager", tenant="ganxian").get("/care-plans/").status_code == 200
    b_manager = login("b-manager", tenant="ganxian")
    assert 'id="plan-' not in _text(b_manager.get("/care-plans/"))
    assert b_manager.get(f"/care-plans/{world['plans']['陈德福']}").status_code == 404
    zg = login("zg-officer")
    assert zg.get(f"/care-plans/{world['plans']['陈德福']}").status_code == 404
    assert zg.get(f"/care-plans/people/{people['陈德福']}").status_code == 404
    assert zg.get(f"/care-plans/{world['plans']['陈德福']}/approve").status_code == 404
    assert login("a-worker1", tenant="ganxian").get("/care-plans/").status_code == 403


def test_the_persons_file_shows_the_plan_versions_to_those_who_may_read_them(app, world, login):
    people = world["people"]
    person = people["刘桂英"]
    approved(app, person, {"daily_watch": 11, "counselling": 2}, reason="家属要求增加看护")
    for username in ("gx-supervisor", "gx-auditor"):
        client = login(username)
        for url in (f"/assessments/people/{person}", f"/assessments/people/{person}/print"):
            html = _text(client.get(url))
            assert 'id="care-plan-section"' in html, (username, url)
            assert 'id="file-plan-1"' in html and 'id="file-plan-2"' in html and "家属要求增加看护" in html
    assert "家属要求增加看护" in _text(login("a-manager", tenant="ganxian").get(f"/assessments/people/{person}"))
    # B reads the file (the person is assigned to its assessment contract) but not A's plan
    assign(app, "ganxian", world["b_contract"], person, "b-worker1")
    b_page = login("b-manager", tenant="ganxian").get(f"/assessments/people/{person}")
    assert b_page.status_code == 200 and 'id="care-plan-section"' not in _text(b_page)
    worker = login("a-worker1", tenant="ganxian").get(f"/assessments/people/{person}")
    assert worker.status_code in (200, 403, 404) and 'id="care-plan-section"' not in _text(worker)


# --- the API -----------------------------------------------------------------------------------

def test_the_api_gives_the_missed_list_in_its_fixed_shape(app, world, client, api_token):
    people = world["people"]
    for username in ("gx-supervisor", "gx-officer", "gx-auditor"):
        response = client.get(f"/api/v1/care-plans/missed?month={month_text(LAST_MONTH)}",
                              headers=api_token(username))
        assert response.status_code == 200, username
        assert response.get_json() == {"items": [
            {"beneficiary_id": people["刘桂英"], "care_class": "partial", "planned": 12, "delivered": 2, "in_person": 1},
            {"beneficiary_id": people["黄秀兰"], "care_class": "complete", "planned": 18, "delivered": 1,
             "in_person": 1},
        ]}, username


def test_the_api_is_the_managers_own_contractor_only_and_refuses_other_roles(app, world, client, api_token):
    people = world["people"]
    month = month_text(LAST_MONTH)
    own = client.get(f"/api/v1/care-plans/missed?month={month}", headers=api_token("a-manager", tenant="ganxian"))
    assert [i["beneficiary_id"] for i in own.get_json()["items"]] == [people["刘桂英"], people["黄秀兰"]]
    other = client.get(f"/api/v1/care-plans/missed?month={month}", headers=api_token("b-manager", tenant="ganxian"))
    assert other.status_code == 200 and other.get_json() == {"items": []}
    zg = client.get(f"/api/v1/care-plans/missed?month={month}", headers=api_token("zg-officer"))
    assert zg.status_code == 200 and zg.get_json() == {"items": []}
    for username, tenant in (("gx-finance", None), ("gx-admin", None), ("a-worker1", "ganxian")):
        response = client.get(f"/api/v1/care-plans/missed?month={month}", headers=api_token(username, tenant=tenant))
        assert response.status_code == 403, username
    assert client.get(f"/api/v1/care-plans/missed?month={month}").status_code == 401


@pytest.mark.parametrize("query", ["", "?month=", "?month=2026-13", "?month=26-01", "?month=2026-1",
                                   "?month=２０２６-０１", "?month=null", "?month[]=x"])
def test_a_missing_or_bad_month_is_a_422_problem(app, world, client, api_token, query):
    response = client.get(f"/api/v1/care-plans/missed{query}", headers=api_token("gx-supervisor"))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json" and "month" in response.get_json()["errors"]


def test_the_people_without_a_plan_yet_are_listed_searched_and_paged(app, demo, login, monkeypatch):
    from tests.careplan_world import UNCLASSED, careplan_world, draft
    world = careplan_world(app)
    people = world["people"]
    last_month_plan(app, people["陈德福"], {"daily_watch": 3})
    draft(app, people["刘桂英"], {"daily_watch": 12})  # in the works: not waiting any more
    manager = login("a-manager", tenant="ganxian")
    html = _text(manager.get("/care-plans/?show=unplanned&township=梅林镇"))
    assert "尚无方案" in html and '"page">尚无方案</a>' in html  # the tab, current
    rows = html.split('<table id="unplanned">')[1]
    for name in ("黄秀兰", UNCLASSED):
        assert f'id="unplanned-{people[name]}"' in rows and f'href="/care-plans/people/{people[name]}"' in rows
    for name in ("陈德福", "刘桂英", "钟长生"):  # planned, in the works, another contractor's assessment contract
        assert f'id="unplanned-{people[name]}"' not in rows
    assert "黄*兰" in rows and "黄秀兰" not in rows  # masked for a contractor
    by_name = _text(manager.get("/care-plans/?show=unplanned&q=黄*兰"))
    assert f'id="unplanned-{people["黄秀兰"]}"' in by_name and f'id="unplanned-{people[UNCLASSED]}"' not in by_name
    assert 'id="unplanned-' not in _text(login("b-manager", tenant="ganxian").get("/care-plans/?show=unplanned"))
    supervisor = login("gx-supervisor")
    bureau = _text(supervisor.get("/care-plans/?show=unplanned&q=秀兰"))
    assert f'id="unplanned-{people["黄秀兰"]}"' in bureau and "黄秀兰" in bureau
    assert 'id="unplanned-' not in _text(supervisor.get("/care-plans/?show=unplanned&q=秀兰&township=五云镇"))
    plans_by_name = _text(supervisor.get("/care-plans/?q=德福"))
    assert 'id="plan-' in plans_by_name and "刘桂英" not in plans_by_name.split('<table id="plans">')[1]
    monkeypatch.setitem(app.config, "MAX_PER_PAGE", 1)
    first, second = (_text(manager.get(f"/care-plans/?show=unplanned&township=梅林镇&page={n}")) for n in (1, 2))
    assert 'rel="next"' in first and 'rel="prev"' in second and 'id="unplanned-' in second


def test_the_auditor_reads_the_review_queue_without_actions_and_no_role_is_shown_a_link_it_cannot_open(
        app, world, login):
    import re
    from tests.test_careplans_rules import _submitted
    people = world["people"]
    waiting = _submitted(app, people["陈德福"], {"daily_watch": 4}, reason="调整")
    auditor = login("gx-auditor")
    queue = auditor.get("/care-plans/review")
    html = _text(queue)
    assert queue.status_code == 200 and f'id="plan-{waiting}"' in html
    assert "/approve" not in html and "/return" not in html and 'class="decide"' not in html
    officer = _text(login("gx-officer").get("/care-plans/review"))
    assert f"/care-plans/{waiting}/approve" in officer and f"/care-plans/{waiting}/return" in officer
    pages = ("/", "/care-plans/", "/care-plans/?show=unplanned", f"/care-plans/people/{people['陈德福']}",
             f"/care-plans/{waiting}", f"/care-plans/{world['plans']['刘桂英']}")
    for username, tenant in (("gx-admin", None), ("gx-officer", None), ("gx-supervisor", None), ("gx-finance", None),
                             ("gx-auditor", None), ("a-manager", "ganxian"), ("b-manager", "ganxian")):
        client = login(username, tenant=tenant)
        links = set()
        for page in pages:
            response = client.get(page)
            if response.status_code == 200:
                links |= set(re.findall(r'href="(/care-plans/[^"#]*)"', _text(response)))
        for link in sorted(links):
            assert client.get(link).status_code not in (403, 404), (username, link)
