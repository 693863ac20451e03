"""Training of front-line staff (issue 19 point 9, stations/training.py): sessions, attendees from the
rosters of the contractors working for the bureau, attendance, the rates per contractor and per
station (the attendees posted at the station on the session's day), a worker's record; a manager
adds only its own staff and reads only its own staff's record.

The world (2026): A's and B's contracts, and D's with nobody ever expected at a session. Stations
T-TR-01 (A, a-worker1 posted all year), T-TR-02 (A, a-worker2 posted until 31 May), T-TR-03 (B,
b-worker1), T-TR-04 (nobody posted). Sessions:

- S1, 10 March, online, 3 h, by the officer: a-worker1 came, a-worker2 came, b-worker1 did not;
- S2, 15 June, offline, 2 h, by the officer: a-worker1 did not come, a-worker2 came (no longer
  posted at T-TR-02), b-worker1 came;
- S3, 20 June, 2 h, by A's manager: a-worker1 came;
- S4, 1 July, by the officer, b-worker1 only (A's manager never sees it).

2026 per contractor: A 4 of 5 (80.00 %, 10 hours), B 1 of 3 (33.33 %), D — (nobody expected);
per station: T-TR-01 2 of 3 (S1, S3 of S1, S2, S3), T-TR-02 1 of 1 (S1 only), T-TR-03 1 of 3,
T-TR-04 —."""
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.core.timeutil import local_today
from portal.extensions import db
from tests import settlement_world as sw
from tests import staffing_world as st
from tests import support
from tests.beneficiary_world import make_contract, staff_of

pytestmark = pytest.mark.usefixtures("own_queue")
YEAR_START, YEAR_END = date(2026, 1, 1), date(2026, 12, 31)


def _session(app, by, held_on, topic, hours, attendees, mode="online"):
    """A session made through the service by ``by``, its attendees {staff id: attended}."""
    from portal.stations import training
    with app.app_context(), sw.scope(app):
        person = sw.user(by)
        session = training.create_session({"topic": topic, "mode": mode, "held_on": held_on, "trainer": "赵老师",
                                           "hours": hours, "notes": ""}, person)
        training.add_attendees(session, list(attendees), person)
        came = [row.id for row in session.attendees if attendees[row.staff_id]]
        training.mark_attendance(session, came, sw.user("gx-officer"))
        db.session.commit()
        return session.id


@support.once_per_run(on="demo")
def world(app):
    contracts = {key: make_contract(app, "ganxian", manager, starts_on=YEAR_START, ends_on=YEAR_END)
                 for key, manager in (("A", "a-manager"), ("B", "b-manager"), ("D", "d-manager"))}
    staff = {name: staff_of(app, name) for name in ("a-worker1", "a-worker2", "b-worker1", "d-worker1", "e-worker1")}
    stations = {"T1": st.station(app, "T-TR-01", "测试培训一站", 1, contracts["A"]),
                "T2": st.station(app, "T-TR-02", "测试培训二站", 1, contracts["A"]),
                "T3": st.station(app, "T-TR-03", "测试培训三站", 1, contracts["B"]),
                "T4": st.station(app, "T-TR-04", "测试培训四站", 1, None)}
    st.post(app, stations["T1"], staff["a-worker1"], YEAR_START)
    st.post(app, stations["T2"], staff["a-worker2"], YEAR_START, date(2026, 5, 31))
    st.post(app, stations["T3"], staff["b-worker1"], YEAR_START)
    w1, w2, b1 = staff["a-worker1"], staff["a-worker2"], staff["b-worker1"]
    sessions = {
        "S1": _session(app, "gx-officer", date(2026, 3, 10), "社会救助政策解读", 3, {w1: True, w2: True, b1: False}),
        "S2": _session(app, "gx-officer", date(2026, 6, 15), "入户探访安全", 2, {w1: False, w2: True, b1: True},
                       mode="offline"),
        "S3": _session(app, "a-manager", date(2026, 6, 20), "服务记录规范", 2, {w1: True}),
        "S4": _session(app, "gx-officer", date(2026, 7, 1), "康宁内部培训", 2, {b1: False}),
    }
    return {"contracts": contracts, "staff": staff, "stations": stations, "sessions": sessions}


def _rows(html, table_id):
    """{row key: rate text} of a rates table."""
    import re
    table = html.split(f'id="{table_id}"')[1].split("</table>")[0]
    return {key: rate for key, rate in re.findall(r'data-key="([^"]+)">.*?<td class="num rate">([^<]*)</td>', table, re.S)}


def test_attendance_rates_per_contractor_and_per_station(app, demo, login):
    from portal.accounts.models import User
    from portal.stations import training
    w = world(app)
    with app.app_context(), sw.scope(app):
        officer = db.session.execute(select(User).where(User.username == "gx-officer")).scalar_one()
        contractors, stations, total = training.rates(YEAR_START, YEAR_END, officer)
        figures = {row.label: (row.expected, row.attended, row.rate_text, row.hours) for row in contractors}
        assert figures["赣州市阳光社会工作服务中心"] == (5, 4, "80.00%", 10)
        assert figures["赣州康宁养老服务有限公司"] == (3, 1, "33.33%", 2)
        assert figures["赣州市同心社会工作服务中心"] == (0, 0, "—", 0)  # nobody expected: no rate, not 0 %
        assert "赣州市和美社会工作服务中心" not in figures  # E has no contract in the bureau
        assert (total.expected, total.attended, total.rate_text) == (8, 5, "62.50%")
        by_station = {row.label: (row.expected, row.attended, row.rate_text) for row in stations}
        assert by_station["T-TR-01 测试培训一站"] == (3, 2, "66.67%")
        assert by_station["T-TR-02 测试培训二站"] == (1, 1, "100.00%")  # June's session: no longer posted there
        assert by_station["T-TR-03 测试培训三站"] == (3, 1, "33.33%")
        assert by_station["T-TR-04 测试培训四站"] == (0, 0, "—")
    officer_client = login("gx-officer")
    html = officer_client.get("/training/rates?year=2026").get_data(as_text=True)
    contractors_shown = _rows(html, "rates-contractors")
    assert contractors_shown["total"] == "62.50%"
    assert "—" in contractors_shown.values() and ">0.00%<" not in html
    assert _rows(html, "rates-stations")[str(w["stations"]["T4"])] == "—"
    # March: B's one person expected did not come — 0 %, which is a rate; D is still —
    march = officer_client.get("/training/rates?month=2026-03").get_data(as_text=True)
    assert ">0.00%<" in march and ">100.00%<" in march and "2026-03" in march
    # the same figures in Excel
    book = load_workbook(io.BytesIO(officer_client.get("/training/rates.xlsx?year=2026").data))
    sheet = book["按服务机构"]
    rows = {row[0]: row[1:] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert rows["赣州市阳光社会工作服务中心"] == (5, 4, "80.00", 10) and rows["赣州市同心社会工作服务中心"][2] == "—"
    stations_sheet = {row[0]: row[1:] for row in book["按站点"].iter_rows(min_row=3, values_only=True)}
    assert stations_sheet["T-TR-02 测试培训二站"] == (1, 1, "100.00", 3)  # S1: 3 hours
    # a bad period shows this year with a message, never an error page
    bad = officer_client.get("/training/rates?month=2026-13")
    assert bad.status_code == 200 and "请按 YYYY-MM 填写月份" in bad.get_data(as_text=True)
    # the auditor reads them; a field worker may not
    assert login("city-auditor", tenant="ganxian").get("/training/rates").status_code == 200
    assert login("a-worker1", tenant="ganxian").get("/training/rates").status_code == 403


def test_a_manager_adds_only_its_own_staff_and_reads_only_its_own_staff(app, demo, login):
    w = world(app)
    manager = login("a-manager", tenant="ganxian")
    s3 = w["sessions"]["S3"]
    page = manager.get(f"/training/{s3}").get_data(as_text=True)
    assert "刘建国" in page  # a-worker2 may be added
    assert "黄丽萍" not in page  # B's worker is not offered
    refused = support.form_post(manager, f"/training/{s3}/attendees", {"staff": str(w["staff"]["b-worker1"])},
                                token_url=f"/training/{s3}")
    assert refused.status_code == 422 and 'id="staff-error"' in refused.get_data(as_text=True)
    added = support.form_post(manager, f"/training/{s3}/attendees", {"staff": str(w["staff"]["a-worker2"])},
                              token_url=f"/training/{s3}")
    assert added.status_code == 302
    with app.app_context(), sw.scope(app):
        from portal.stations.models import TrainingAttendee
        assert sorted(db.session.scalars(select(TrainingAttendee.staff_id).where(TrainingAttendee.session_id == s3))) \
            == sorted([w["staff"]["a-worker1"], w["staff"]["a-worker2"]])
    # S1 is shown with A's attendees only; S4 (B's only) is not A's business at all
    s1 = manager.get(f"/training/{w['sessions']['S1']}").get_data(as_text=True)
    assert "陈晓红" in s1 and "刘建国" in s1 and "黄丽萍" not in s1
    assert manager.get(f"/training/{w['sessions']['S4']}").status_code == 404
    listing = manager.get("/training/").get_data(as_text=True)
    assert f'id="session-{w["sessions"]["S4"]}"' not in listing and f'id="session-{s3}"' in listing
    # records: its own worker's, never another contractor's
    assert manager.get(f"/training/workers/{w['staff']['a-worker1']}").status_code == 200
    assert manager.get(f"/training/workers/{w['staff']['b-worker1']}").status_code == 404
    assert manager.get(f"/training/workers/{2**31 - 1}").status_code == 404
    # its rates are its own staff's and its own contracts' stations
    rates = manager.get("/training/rates?year=2026").get_data(as_text=True)
    assert "赣州市阳光社会工作服务中心" in rates and "赣州康宁养老服务有限公司" not in rates
    assert "T-TR-03" not in rates


def test_the_worker_record_lists_every_session_attended_or_not(app, demo, login):
    w = world(app)
    w1 = w["staff"]["a-worker1"]
    for username in ("gx-officer", "gx-supervisor"):
        html = login(username).get(f"/training/workers/{w1}").get_data(as_text=True)
        assert "培训记录：陈晓红" in html
        order = [html.index(f'id="record-{w["sessions"][key]}"') for key in ("S3", "S2", "S1")]
        assert order == sorted(order)  # newest first
        attended = html.split('id="worker-sessions"')[1]
        assert [cell.split("<")[0] for cell in attended.split('class="attended">')[1:4]] == ["是", "否", "是"]
        assert 'id="worker-hours">5<' in html and 'id="worker-rate">66.67%<' in html
        assert f'id="record-{w["sessions"]["S4"]}"' not in html
    auditor = login("city-auditor", tenant="ganxian")
    assert auditor.get(f"/training/workers/{w['staff']['b-worker1']}").status_code == 200
    # D's worker was never expected: an empty record, no rate
    empty = login("gx-officer").get(f"/training/workers/{w['staff']['d-worker1']}").get_data(as_text=True)
    assert 'id="worker-rate">—<' in empty


def test_sessions_are_added_and_attendance_marked_through_the_pages(app, demo, login):
    from portal.stations.models import TrainingAttendee, TrainingSession
    w = world(app)
    officer = login("gx-officer")
    made = support.form_post(officer, "/training/new", {
        "topic": "防汛应急培训", "mode": "offline", "held_on": "2026-11-05", "trainer": "钱老师", "hours": "3",
        "contract_id": str(w["contracts"]["A"]), "station_id": str(w["stations"]["T1"]), "notes": ""})
    assert made.status_code == 302
    session_id = int(made.headers["Location"].rstrip("/").split("/")[-1])
    added = support.form_post(officer, f"/training/{session_id}/attendees",
                              {"staff": [str(w["staff"]["a-worker1"]), str(w["staff"]["b-worker1"])]},
                              token_url=f"/training/{session_id}")
    assert added.status_code == 302
    with app.app_context(), sw.scope(app):
        rows = {row.staff_id: row.id for row in db.session.scalars(
            select(TrainingAttendee).where(TrainingAttendee.session_id == session_id))}
    marked = support.form_post(officer, f"/training/{session_id}/attendance",
                               {"attended": [str(rows[w["staff"]["b-worker1"]])]}, token_url=f"/training/{session_id}")
    assert marked.status_code == 302
    page = officer.get(f"/training/{session_id}").get_data(as_text=True)
    assert 'id="session-rate">50.00%' in page
    with app.app_context(), sw.scope(app):  # the attendance is in the audit trail, with who marked it
        from portal.audit.models import AuditEntry
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.object_type == "TrainingAttendee", AuditEntry.object_id == str(rows[w["staff"]["b-worker1"]]),
            AuditEntry.action == "update")).one()
        assert entry.actor == "gx-officer" and entry.after.get("attended") is True
    # a worker of a contractor with no contract here (E) is not on the rosters offered, nor is one
    # expected already, nor a number that is no roster member
    for staff in (w["staff"]["e-worker1"], w["staff"]["a-worker1"], 2**31 - 1):
        refused = support.form_post(officer, f"/training/{session_id}/attendees", {"staff": str(staff)},
                                    token_url=f"/training/{session_id}")
        assert refused.status_code == 422, staff
    # bad input is shown on the form, never a server error
    bad = support.form_post(officer, "/training/new", {"topic": "", "mode": "radio", "held_on": "x", "trainer": "",
                                                       "hours": "99"})
    assert bad.status_code == 422 and "请填写培训主题" in bad.get_data(as_text=True)
    # a session ahead: attendance cannot be marked yet
    ahead = (local_today() + timedelta(days=10)).isoformat()
    made = support.form_post(officer, "/training/new", {"topic": "年终总结", "mode": "online", "held_on": ahead,
                                                        "trainer": "钱老师", "hours": "1"})
    future_id = int(made.headers["Location"].rstrip("/").split("/")[-1])
    support.form_post(officer, f"/training/{future_id}/attendees", {"staff": str(w["staff"]["a-worker1"])},
                      token_url=f"/training/{future_id}")
    with app.app_context(), sw.scope(app):
        attendee = db.session.scalars(select(TrainingAttendee).where(TrainingAttendee.session_id == future_id)).one()
        assert db.session.get(TrainingSession, future_id).held_on.isoformat() == ahead
    early = support.form_post(officer, f"/training/{future_id}/attendance", {"attended": str(attendee.id)},
                              token_url=f"/training/{future_id}")
    assert early.status_code == 422 and "自培训当日" in early.get_data(as_text=True)
    # the auditor reads and writes nothing
    auditor = login("city-auditor", tenant="ganxian")
    assert auditor.get(f"/training/{session_id}").status_code == 200
    assert auditor.get("/training/new").status_code == 403
    assert auditor.post(f"/training/{session_id}/attendance", data={}).status_code in (400, 403)


def test_the_list_filters_by_mode_contractor_and_year(app, demo, login):
    from tests.beneficiary_world import contractor_of
    w = world(app)
    officer = login("gx-officer")

    def listed(query):
        html = officer.get(f"/training/?{query}").get_data(as_text=True)
        return {key for key, session_id in w["sessions"].items() if f'id="session-{session_id}"' in html}

    assert listed("") == {"S1", "S2", "S3", "S4"}
    assert listed("mode=offline") == {"S2"}
    assert listed(f"contractor={contractor_of(app, 'b-manager')}") == {"S1", "S2", "S4"}
    assert listed("year=2025") == set() and listed("year=2026") == {"S1", "S2", "S3", "S4"}
    bad = officer.get("/training/?year=20x6")
    assert bad.status_code == 200 and "请按 YYYY 格式填写年份" in bad.get_data(as_text=True)


def test_a_manager_marks_no_attendance_at_a_session_of_the_bureau(app, demo, login):
    """S1 was made by the officer: A's manager sees its own staff there but marks nothing; at S3,
    made by A's manager, it marks its own staff."""
    from portal.stations.models import TrainingAttendee
    w = world(app)
    manager = login("a-manager", tenant="ganxian")
    s1, s3 = w["sessions"]["S1"], w["sessions"]["S3"]
    page = manager.get(f"/training/{s1}").get_data(as_text=True)
    assert 'id="attendance-form"' not in page and 'id="bureau-marks"' in page and "由民政局工作人员登记" in page
    with app.app_context(), sw.scope(app):
        mine = db.session.scalars(select(TrainingAttendee).where(
            TrainingAttendee.session_id == s1, TrainingAttendee.staff_id == w["staff"]["a-worker2"])).one()
        assert mine.attended is True
    refused = support.form_post(manager, f"/training/{s1}/attendance", {"attended": []}, token_url=f"/training/{s1}")
    assert refused.status_code == 422 and "由民政局工作人员登记" in refused.get_data(as_text=True)
    with app.app_context(), sw.scope(app):
        assert db.session.get(TrainingAttendee, mine.id).attended is True  # nobody unmarked
    assert 'id="attendance-form"' in manager.get(f"/training/{s3}").get_data(as_text=True)
    marked = support.form_post(manager, f"/training/{s3}/attendance", {"attended": []}, token_url=f"/training/{s3}")
    assert marked.status_code == 302


def test_a_manager_attaches_a_session_only_to_its_own_stations(app, demo, login):
    w = world(app)
    manager = login("a-manager", tenant="ganxian")
    form = manager.get("/training/new").get_data(as_text=True)
    assert f'value="{w["stations"]["T1"]}"' in form and f'value="{w["stations"]["T3"]}"' not in form
    assert f'value="{w["stations"]["T4"]}"' not in form  # no contract: the bureau's
    values = {"topic": "站点例会", "mode": "offline", "held_on": "2026-11-05", "trainer": "孙老师", "hours": "1"}
    for other in (w["stations"]["T3"], w["stations"]["T4"]):
        refused = support.form_post(manager, "/training/new", {**values, "station_id": str(other)})
        assert refused.status_code == 422 and 'id="station_id-error"' in refused.get_data(as_text=True), other
    assert support.form_post(manager, "/training/new", {**values, "station_id": str(w["stations"]["T1"])}).status_code == 302
    officer_form = login("gx-officer").get("/training/new").get_data(as_text=True)
    assert all(f'value="{w["stations"][key]}"' in officer_form for key in ("T1", "T3", "T4"))
