"""The staff roster: one active roster per person platform-wide (service, form and the partial
unique index), Excel import with a preview that imports all or nothing, ID numbers encrypted at
rest and masked everywhere, employment evidence, and another contractor's people answer 404."""
import io
import json
import logging
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select, text

from portal.contractors import roster
from portal.contractors.demo import id_number
from portal.contractors.models import Contractor, StaffEmployment, StaffMember
from portal.contractors.spreadsheet import read_roster_file
from portal.core.errors import DomainError
from portal.extensions import db
from tests import support

A_WORKER1 = "360721200003150425"  # on contractor A's roster in the demo world
NEW_PEOPLE = [id_number("36072119990101101"), id_number("36072120000202202"), id_number("36073120010303303")]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def english(app):
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        yield


def _en(client):
    client.set_cookie("lang", "en")
    return client


def _contractor(name):
    return db.session.execute(select(Contractor).where(Contractor.name == name)).scalar_one()


def _a(app):
    with app.app_context():
        return _contractor("赣州市阳光社会工作服务中心").id


def _staff_id(app, username):
    from portal.accounts.models import User
    with app.app_context():
        user_id = db.session.execute(select(User.id).where(User.username == username)).scalar_one()
        return db.session.execute(select(StaffMember.id).where(StaffMember.user_id == user_id)).scalar_one()


def _active_count(app, number):
    from portal.core.crypto import keyed_hash
    with app.app_context():
        return len(db.session.execute(select(StaffMember).where(
            StaffMember.id_number_hash == keyed_hash(number), StaffMember.left_on.is_(None))).scalars().all())


def _xlsx(rows, header=True):
    book = Workbook()
    sheet = book.active
    if header:
        sheet.append(["姓名", "身份证号码", "手机号", "资质", "入职日期"])
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload_roster(client, data):
    return support.form_post(client, "/contractors/roster/import",
                             {"file": (io.BytesIO(data), "roster.xlsx")})


# --- one active roster per person ---------------------------------------------------------------

def test_a_person_cannot_be_on_a_second_active_roster_until_they_leave_the_first(app, demo, english):
    a = _contractor("赣州市阳光社会工作服务中心")
    b = _contractor("赣州康宁养老服务有限公司")
    with pytest.raises(DomainError) as caught:
        roster.add_staff(b, name="陈晓红", id_number=A_WORKER1, joined_on=date(2026, 11, 1))
    assert "already on an active staff roster" in caught.value.message
    assert "阳光" not in caught.value.message  # nothing about the other organisation
    with pytest.raises(DomainError, match="already on your active roster"):
        roster.add_staff(a, name="陈晓红", id_number=A_WORKER1, joined_on=date(2026, 11, 1))
    member = db.session.execute(select(StaffMember).where(StaffMember.contractor_id == a.id,
                                                          StaffMember.name == "陈晓红")).scalar_one()
    with pytest.raises(DomainError, match="before the joining date"):
        roster.end_staff(member, date(2000, 1, 1))
    roster.end_staff(member, date(2026, 11, 30))
    moved = roster.add_staff(b, name="陈晓红", id_number=A_WORKER1, joined_on=date(2026, 12, 1))
    assert moved.contractor_id == b.id and moved.id_number_masked == "3607**********0425"
    db.session.commit()
    assert _active_count(app, A_WORKER1) == 1


def test_the_form_refuses_a_person_on_another_roster_without_showing_the_number(app, demo, login):
    manager = _en(login("b-manager", tenant="ganxian"))
    response = support.form_post(manager, "/contractors/roster/new", {
        "name": "陈晓红", "id_number": A_WORKER1, "joined_on": "2026-11-01"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "already on an active staff roster" in page and A_WORKER1 not in page
    response = support.form_post(manager, "/contractors/roster/new", {
        "name": "某人", "id_number": A_WORKER1[:-1] + "9", "joined_on": "2026-11-01"})
    assert "check digit" in response.get_data(as_text=True)
    assert _active_count(app, A_WORKER1) == 1


def test_the_unique_index_is_the_last_wall_and_becomes_a_form_error(app, demo, login, monkeypatch):
    monkeypatch.setattr(roster, "active_entry", lambda digest: None)  # as if two requests raced
    manager = _en(login("b-manager", tenant="ganxian"))
    response = support.form_post(manager, "/contractors/roster/new", {
        "name": "陈晓红", "id_number": A_WORKER1, "joined_on": "2026-11-01"})
    assert response.status_code == 200
    assert "already on an active staff roster" in response.get_data(as_text=True)
    assert _active_count(app, A_WORKER1) == 1


# --- Excel import --------------------------------------------------------------------------------

def test_an_excel_roster_with_one_bad_row_imports_nothing_and_names_the_row(app, demo, login):
    manager = _en(login("a-manager", tenant="ganxian"))
    data = _xlsx([("王一", NEW_PEOPLE[0], "13900000001", "社工", "2026-11-01"),
                  ("王二", NEW_PEOPLE[1][:-1] + ("0" if NEW_PEOPLE[1][-1] != "0" else "1"), "", "", "2026-11-01"),
                  ("王三", NEW_PEOPLE[2], "", "", date(2026, 11, 1))])
    response = _upload_roster(manager, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<td>3</td>" in page and "check digit" in page  # row 3 of the sheet (row 1 is the header)
    assert "/contractors/roster/import/confirm" not in page  # nothing to confirm
    assert all(n not in page for n in NEW_PEOPLE)
    assert all(_active_count(app, n) == 0 for n in NEW_PEOPLE)


def test_every_bad_row_is_listed_with_its_reason(app, demo, login):
    manager = _en(login("b-manager", tenant="ganxian"))
    data = _xlsx([("", NEW_PEOPLE[0], "", "", "2026-11-01"),              # 2: missing name
                  ("王二", NEW_PEOPLE[1], "", "", "2026-02-30"),           # 3: bad date
                  ("王三", NEW_PEOPLE[2], "", "", "2026-11-01"),           # 4: fine
                  (None, None, None, None, None),                          # 5: blank, skipped
                  ("王三", NEW_PEOPLE[2], "", "", "2026-11-01"),           # 6: same person as row 4
                  ("陈晓红", A_WORKER1, "", "", "2026-11-01"),             # 7: on another roster
                  ("王五", "12345", "", "", "2026-11-01")])                 # 8: bad ID number
    response = _upload_roster(manager, data)
    assert response.status_code == 422
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        good, errors = roster.check_rows(_contractor("赣州康宁养老服务有限公司"), read_roster_file(data))
    reasons = {row: " ".join(r) for row, r in errors}
    assert sorted(reasons) == [2, 3, 6, 7, 8]
    assert "name is missing" in reasons[2]
    assert "joining date" in reasons[3]
    assert "same person as row 4" in reasons[6]
    assert "already on an active staff roster" in reasons[7] and "阳光" not in reasons[7]
    assert "18 characters" in reasons[8]
    assert [g["row"] for g in good] == [4]
    page = response.get_data(as_text=True)
    for row in (2, 3, 6, 7, 8):
        assert f"<td>{row}</td>" in page
    assert _active_count(app, NEW_PEOPLE[2]) == 0


def test_a_good_excel_roster_is_previewed_masked_then_imported_in_one_go(app, demo, login, caplog):
    caplog.set_level(logging.DEBUG)
    manager = _en(login("a-manager", tenant="ganxian"))
    template = manager.get("/contractors/roster/template.xlsx")
    assert template.status_code == 200
    header = [c.value for c in load_workbook(io.BytesIO(template.data)).active[1]]
    assert header[1].startswith("身份证号码")
    data = _xlsx([("王一", NEW_PEOPLE[0], "13900000001", "社工", "2026-11-01"),
                  ("王二", NEW_PEOPLE[1], "", "", date(2026, 11, 2)),
                  ("王三", NEW_PEOPLE[2], 13900000003, "护理员", "2026/11/03")])
    preview = _upload_roster(manager, data)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert all(n not in page for n in NEW_PEOPLE)
    assert "3607**********" + NEW_PEOPLE[0][-4:] in page
    assert all(_active_count(app, n) == 0 for n in NEW_PEOPLE)  # nothing before confirmation
    token = support.csrf_token_from(page)
    sealed = page.split('name="preview" type="hidden" value="')[1].split('"')[0]
    response = manager.post("/contractors/roster/import/confirm", data={"csrf_token": token, "preview": sealed})
    assert response.status_code == 302
    assert all(_active_count(app, n) == 1 for n in NEW_PEOPLE)
    # The same preview again: everyone is now on a roster, so nothing more is imported.
    again = manager.post("/contractors/roster/import/confirm", data={"csrf_token": token, "preview": sealed})
    assert again.status_code == 422 and "already on your active roster" in again.get_data(as_text=True)
    # Another manager cannot replay it for their organisation.
    other = _en(login("b-manager", tenant="ganxian"))
    other_token = support.csrf_token_from(other.get("/contractors/roster/import").get_data(as_text=True))
    replay = other.post("/contractors/roster/import/confirm", data={"csrf_token": other_token, "preview": sealed})
    assert replay.status_code == 302 and replay.headers["Location"].endswith("/contractors/roster/import")
    assert all(n not in caplog.text for n in NEW_PEOPLE)


def test_a_file_that_is_not_a_workbook_is_refused(app, demo, login):
    manager = _en(login("a-manager", tenant="ganxian"))
    response = _upload_roster(manager, b"name,id\n")
    assert response.status_code == 200 and "Excel workbook" in response.get_data(as_text=True)


# --- ID numbers at rest, on pages and in the audit trail ------------------------------------------

def test_id_numbers_are_encrypted_at_rest_masked_on_pages_and_in_the_audit_trail(app, demo, login):
    manager = _en(login("a-manager", tenant="ganxian"))
    response = support.form_post(manager, "/contractors/roster/new", {
        "name": "王一", "id_number": NEW_PEOPLE[0], "phone": "13900000001", "joined_on": "2026-11-01"})
    assert response.status_code == 302
    masked = "3607**********" + NEW_PEOPLE[0][-4:]
    with support.owner_connection(app) as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(table.select()):
                assert NEW_PEOPLE[0] not in str(tuple(row)), f"the raw ID number is in {table.name}"
                assert A_WORKER1 not in str(tuple(row)), f"the raw ID number is in {table.name}"
        stored = conn.execute(text("SELECT id_number_encrypted, id_number_masked FROM staff_member "
                                   "WHERE name = '王一'")).one()
        audit = conn.execute(text("SELECT action, after FROM audit_entry WHERE object_type = 'StaffMember' "
                                  "ORDER BY id DESC LIMIT 1")).one()
    assert stored.id_number_masked == masked and stored.id_number_encrypted.startswith("gAAAA")
    with app.app_context():
        from portal.core.crypto import decrypt
        assert decrypt(stored.id_number_encrypted) == NEW_PEOPLE[0]
    after = audit.after if isinstance(audit.after, dict) else json.loads(audit.after)
    assert audit.action == "insert" and after["id_number_masked"] == masked
    assert after["id_number_encrypted"] == "[redacted]" and after["id_number_hash"] == "[redacted]"
    for url in ("/contractors/roster", f"/contractors/roster/{_staff_id(app, 'a-worker1')}", f"/contractors/{_a(app)}"):
        page = manager.get(url).get_data(as_text=True)
        assert "3607**********0425" in page and A_WORKER1 not in page and NEW_PEOPLE[0] not in page
    officer_page = login("gx-officer").get(f"/contractors/{_a(app)}").get_data(as_text=True)
    assert "3607**********0425" in officer_page and A_WORKER1 not in officer_page


# --- another contractor's people, employment evidence -------------------------------------------

def test_another_contractors_staff_answer_404(app, demo, login):
    staff_id = _staff_id(app, "a-worker1")
    b_manager = login("b-manager", tenant="ganxian")
    token = support.csrf_token_from(b_manager.get("/contractors/roster").get_data(as_text=True))
    assert b_manager.get(f"/contractors/roster/{staff_id}").status_code == 404
    assert b_manager.post(f"/contractors/roster/{staff_id}/leave",
                          data={"csrf_token": token, "left_on": "2026-12-01"}).status_code == 404
    assert b_manager.post(f"/contractors/roster/{staff_id}/employment",
                          data={"csrf_token": token, "month": "2026-11"}).status_code == 404
    assert login("zg-officer").get(f"/contractors/roster/{staff_id}").status_code == 404
    assert login("gx-officer").get(f"/contractors/roster/{staff_id}").status_code == 200
    assert _active_count(app, A_WORKER1) == 1


def test_monthly_employment_evidence_is_recorded_with_its_file(app, demo, login):
    staff_id = _staff_id(app, "a-worker1")
    manager = _en(login("a-manager", tenant="ganxian"))
    url = f"/contractors/roster/{staff_id}/employment"
    response = support.form_post(manager, url, {"month": "2026-12", "insured_by_credit_code": "91360721MA35000031"},
                                 token_url=f"/contractors/roster/{staff_id}")
    assert response.status_code == 422 and "check digit" in response.get_data(as_text=True)
    response = support.form_post(manager, url, {"month": "2026-12", "labour_contract": "y",
                                                "evidence": (io.BytesIO(PNG), "社保缴费.png")},
                                 token_url=f"/contractors/roster/{staff_id}")
    assert response.status_code == 302
    with app.app_context():
        record = db.session.execute(select(StaffEmployment).where(StaffEmployment.staff_id == staff_id,
                                                                  StaffEmployment.month == date(2026, 12, 1))
                                    ).scalar_one()
        assert record.labour_contract and record.insured_by_own_contractor and record.evidence_file_id
        record_id = record.id
    assert manager.get(f"/contractors/employment/{record_id}/evidence").data == PNG
    assert login("b-manager", tenant="ganxian").get(f"/contractors/employment/{record_id}/evidence").status_code == 404
