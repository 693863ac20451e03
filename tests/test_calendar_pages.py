"""The calendar pages (issue 16 point 1): the platform administrator imports a schedule (errors
named by line, nothing kept on error) and confirms a year as weekdays only, knowing what it means;
a bureau administrator adds and removes the bureau's changes with a reason; nobody else may."""
from datetime import date

from sqlalchemy import select

from portal.extensions import db
from portal.tenancy.models import CalendarOverride, CalendarYear
from portal.tenancy.scope import tenant_scope
from tests import support

GOOD = "# source: 国务院办公厅通知（测试）\n2028-01-01 休 元旦\n2028-01-29 班 春节调休\n"


def _years(app):
    with app.app_context():
        return dict(db.session.execute(select(CalendarYear.year, CalendarYear.status)).all())


def test_the_platform_admin_pastes_a_schedule_and_sees_it_listed(app, demo, login):
    client = login("platform")
    page = client.get("/platform/calendar")
    assert page.status_code == 200 and "2028" in page.get_data(as_text=True)   # no calendar yet for 2028
    response = support.form_post(client, "/platform/calendar", {"text": GOOD})
    assert response.status_code == 302
    assert _years(app)[2028] == "notice"
    body = client.get("/platform/calendar").get_data(as_text=True)
    assert "国务院办公厅通知（测试）" in body and "已导入节假日安排" in body


def test_a_wrong_schedule_names_its_lines_and_keeps_nothing(app, demo, login):
    client = login("platform")
    bad = "# source: 测试\n2028-01-01 休 元旦\n2028-01-03 班 调休\n2028-02-30 休 春节\n"
    response = support.form_post(client, "/platform/calendar", {"text": bad})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "第 3 行" in body and "第 4 行" in body and "周六或周日" in body
    assert 2028 not in _years(app)


def test_confirming_weekdays_only_needs_the_acknowledgement(app, demo, login):
    client = login("platform")
    page = client.get("/platform/calendar").get_data(as_text=True)
    assert "不跳过任何法定节假日" in page or "no public holiday" in page
    token = support.csrf_token_from(page)
    refused = client.post("/platform/calendar/weekdays-only", data={"weekdays-year": "2028", "csrf_token": token})
    assert refused.status_code == 422 and 2028 not in _years(app)
    done = client.post("/platform/calendar/weekdays-only",
                       data={"weekdays-year": "2028", "weekdays-understood": "y", "csrf_token": token})
    assert done.status_code == 302 and _years(app)[2028] == "weekdays_only"
    again = client.post("/platform/calendar/weekdays-only",
                        data={"weekdays-year": "2027", "weekdays-understood": "y", "csrf_token": token})
    assert again.status_code == 422 and _years(app)[2027] == "notice"   # an imported year is kept


def test_only_the_platform_admin_reaches_the_platform_page(app, demo, login):
    for username in ("gx-admin", "gx-officer"):
        assert login(username).get("/platform/calendar").status_code == 403
        assert support.form_post(login(username), "/platform/calendar", {"text": GOOD},
                                 token_url="/tenders/").status_code in (403, 400)
    assert 2028 not in _years(app)


def test_the_bureau_admin_adds_and_removes_a_change_with_a_reason(app, demo, login):
    client = login("gx-admin")
    missing = support.form_post(client, "/calendar/", {"day": "2027-03-01", "kind": "off", "note": ""})
    assert missing.status_code == 422
    nothing = support.form_post(client, "/calendar/", {"day": "2027-03-01", "kind": "working", "note": "照常上班"})
    assert nothing.status_code == 422 and "2027-03-01" in nothing.get_data(as_text=True)  # a Monday: no change
    sunday = support.form_post(client, "/calendar/", {"day": "2027-03-07", "kind": "off", "note": "休息"})
    assert sunday.status_code == 422
    added = support.form_post(client, "/calendar/", {"day": "2027-03-01", "kind": "off", "note": "县政府通知停止办公"})
    assert added.status_code == 302
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        row = db.session.execute(select(CalendarOverride)).scalar_one()
        assert (row.day, row.is_working, row.note) == (date(2027, 3, 1), False, "县政府通知停止办公")
        from portal.tenancy.workdays import tenant_calendar
        assert not tenant_calendar().is_working_day(date(2027, 3, 1))
        override_id = row.id
    twice = support.form_post(client, "/calendar/", {"day": "2027-03-01", "kind": "working", "note": "再次"})
    assert twice.status_code == 422
    # the other bureau neither sees nor removes it
    other = login("zg-officer")
    assert "县政府通知停止办公" not in other.get("/calendar/").get_data(as_text=True)
    no_reason = support.form_post(client, f"/calendar/{override_id}/remove", {"reason": ""}, token_url="/calendar/")
    assert no_reason.status_code == 302
    removed = support.form_post(client, f"/calendar/{override_id}/remove", {"reason": "通知撤回"},
                                token_url="/calendar/")
    assert removed.status_code == 302
    with support.as_platform(app):
        assert db.session.execute(select(CalendarOverride)).first() is None
        from portal.audit.models import AuditEntry
        trail = db.session.execute(select(AuditEntry.action, AuditEntry.before, AuditEntry.after).where(
            AuditEntry.object_type == "CalendarOverride").order_by(AuditEntry.id)).all()
    assert "通知撤回" in str(trail[-1])          # the reason of the removal is kept in the trail


def test_an_officer_reads_the_changes_but_is_offered_no_action(app, demo, login):
    client = login("gx-officer")
    page = client.get("/calendar/")
    assert page.status_code == 200 and "添加调整" not in page.get_data(as_text=True)
    refused = support.form_post(client, "/calendar/", {"day": "2027-03-01", "kind": "off", "note": "x"})
    assert refused.status_code == 403


def test_another_bureaus_change_is_not_found(app, demo, login):
    with app.app_context(), tenant_scope(demo.tenant_id("zhanggong")):
        row = CalendarOverride(day=date(2027, 3, 2), is_working=False, note="章贡区")
        db.session.add(row)
        db.session.commit()
        other_id = row.id
    response = support.form_post(login("gx-admin"), f"/calendar/{other_id}/remove", {"reason": "x"},
                                 token_url="/calendar/")
    assert response.status_code == 404


def test_the_platform_admin_uploads_a_schedule_file(app, demo, login):
    import io
    client = login("platform")
    token = support.csrf_token_from(client.get("/platform/calendar").get_data(as_text=True))
    response = client.post("/platform/calendar", content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(("\ufeff" + GOOD).encode("utf-8")), "2028.txt")})
    assert response.status_code == 302
    assert _years(app)[2028] == "notice"
    not_text = client.post("/platform/calendar", content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(b"\xff\xfe\x00bad"), "2029.txt")})
    assert not_text.status_code == 422 and "UTF-8" in not_text.get_data(as_text=True)
    empty = support.form_post(client, "/platform/calendar", {"text": ""})
    assert empty.status_code == 422 and set(_years(app)) == {2027, 2028}
