"""Contractor onboarding: registration with a bureau and its state machine, documents judged by
content, who may see a contractor, the blacklist and can_bid, and the audit of every change."""
import io
import json
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text

from portal.accounts.models import User
from portal.contractors import services
from portal.contractors.demo import credit_code
from portal.contractors.models import Contractor, ContractorDocument, ContractorRegistration
from portal.core.errors import DomainError
from portal.extensions import db
from portal.files.models import StoredFile
from portal.tenancy.scope import tenant_scope
from tests import support

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%demo\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64
NEW_CODE = credit_code("52360721MJ0000099")


@pytest.fixture
def english(app):
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        yield


def _en(client):
    client.set_cookie("lang", "en")
    return client


def _contractor_id(name_or_code):
    return db.session.execute(select(Contractor.id).where(
        (Contractor.credit_code == name_or_code) | (Contractor.name == name_or_code))).scalar_one()


def _user(username):
    return db.session.execute(select(User).where(User.username == username)).scalar_one()


def _a_id(app):
    with app.app_context():
        return _contractor_id("赣州市阳光社会工作服务中心")


def _audit_rows(app, object_type):
    """The audit entries of one kind of object: [(action, object_id, before, after)] with JSON decoded."""
    with support.owner_connection(app) as conn:
        rows = conn.execute(text("SELECT action, object_id, before, after FROM audit_entry WHERE object_type = :t "
                                 "ORDER BY id"), {"t": object_type}).all()
    decode = (lambda v: json.loads(v) if isinstance(v, str) else v)
    return [SimpleNamespace(action=r.action, object_id=r.object_id, before=decode(r.before), after=decode(r.after))
            for r in rows]


def _pending_contractor(app, demo, tenant="ganxian", code=NEW_CODE, licence=True):
    """A new contractor with a pending registration in ``tenant`` (and, unless told otherwise, its
    business licence uploaded); returns (contractor id, registration id)."""
    with app.app_context(), tenant_scope(demo.tenant_id(tenant)):
        contractor = services.register_contractor(name="新承接主体", credit_code=code, kind="company",
                                                  legal_representative="张三")
        registration = services.apply_to_bureau(contractor)
        db.session.commit()
        ids = contractor.id, registration.id
    if licence:
        _add_licence(app, ids[0])
    return ids


def _add_licence(app, contractor_id):
    """The contractor's business licence, as its manager uploads it."""
    from portal.files.services import store_upload
    with app.app_context():
        stored = store_upload(None, data=PDF)
        db.session.add(ContractorDocument(contractor_id=contractor_id, kind="licence", title="营业执照",
                                          file_id=stored.id))
        db.session.commit()


# --- the registration state machine ---------------------------------------------------------

def test_registration_state_machine_refuses_wrong_moves(app, demo, english):
    _, reg_id = _pending_contractor(app, demo)
    with tenant_scope(demo.tenant_id("ganxian")):
        officer = _user("gx-officer")
        reg = db.session.get(ContractorRegistration, reg_id)
        for wrong in (lambda: reg.suspend(officer, "x"), lambda: reg.reinstate(officer), lambda: reg.reapply()):
            with pytest.raises(DomainError, match="cannot become|Only a rejected"):
                wrong()
        with pytest.raises(DomainError, match="reason"):
            reg.reject(officer, "  ")
        reg.approve(officer)
        assert (reg.status, reg.decided_by_id) == ("approved", officer.id)
        for wrong in (lambda: reg.approve(officer), lambda: reg.reject(officer, "x"), lambda: reg.reinstate(officer)):
            with pytest.raises(DomainError, match="cannot become"):
                wrong()
        with pytest.raises(DomainError, match="reason"):
            reg.suspend(officer, "")
        reg.suspend(officer, "投诉核查中")
        assert (reg.status, reg.reason) == ("suspended", "投诉核查中")
        with pytest.raises(DomainError, match="cannot become"):
            reg.approve(officer)  # a suspension ends by reinstating, not by approving again
        reg.reinstate(officer)
        assert reg.status == "approved" and reg.reason == ""


def test_a_rejected_registration_is_not_approved_before_it_is_sent_again(app, demo, english):
    _, reg_id = _pending_contractor(app, demo)
    with tenant_scope(demo.tenant_id("ganxian")):
        officer = _user("gx-officer")
        reg = db.session.get(ContractorRegistration, reg_id)
        reg.reject(officer, "资质证书缺失")
        with pytest.raises(DomainError, match="cannot become"):
            reg.approve(officer)
        services.apply_to_bureau(reg.contractor)
        assert reg.status == "pending" and reg.reason == ""
        reg.approve(officer)
        assert reg.status == "approved"
        with pytest.raises(DomainError, match="already applied"):
            services.apply_to_bureau(reg.contractor)


# --- can_bid ---------------------------------------------------------------------------------

def test_can_bid_needs_an_approved_registration_with_the_current_bureau(app, demo, english):
    contractor_id, reg_id = _pending_contractor(app, demo)
    day = date(2026, 12, 1)
    with tenant_scope(demo.tenant_id("ganxian")):
        ok, reason = services.can_bid(contractor_id, day)
        assert not ok and "waiting for approval" in reason
        officer = _user("gx-officer")
        reg = db.session.get(ContractorRegistration, reg_id)
        reg.approve(officer)
        assert services.can_bid(contractor_id, day) == (True, "")
        reg.suspend(officer, "整改")
        ok, reason = services.can_bid(contractor_id, day)
        assert not ok and "suspended" in reason
        db.session.rollback()
    with tenant_scope(demo.tenant_id("ganxian")):
        reg = db.session.get(ContractorRegistration, reg_id)
        reg.reject(_user("gx-officer"), "材料不全")
        ok, reason = services.can_bid(contractor_id, day)
        assert not ok and "rejected" in reason
        db.session.rollback()
    # Approved in ganxian means nothing in zhanggong.
    with tenant_scope(demo.tenant_id("zhanggong")):
        ok, reason = services.can_bid(_contractor_id("赣州市阳光社会工作服务中心"), day)
        assert not ok and "not registered" in reason
    with tenant_scope(demo.tenant_id("ganxian")):
        assert services.can_bid(_contractor_id("赣州市阳光社会工作服务中心"), day) == (True, "")


def test_a_blacklisted_contractor_cannot_bid_while_the_entry_lasts(app, demo, english):
    a_id = _a_id(app)
    with tenant_scope(demo.tenant_id("ganxian")):
        contractor = db.session.get(Contractor, a_id)
        services.add_blacklist_entry(contractor, reason="虚报服务记录", starts_on=date(2026, 12, 10),
                                     ends_on=date(2027, 12, 9), by=_user("gx-officer"))
        assert services.can_bid(a_id, date(2026, 12, 9)) == (True, "")
        for day in (date(2026, 12, 10), date(2027, 6, 15), date(2027, 12, 9)):
            ok, reason = services.can_bid(a_id, day)
            assert not ok and "blacklist" in reason and "2027-12-09" in reason and "§77" in reason
        assert services.can_bid(a_id, date(2027, 12, 10)) == (True, "")
        with pytest.raises(DomainError, match="end date"):
            services.add_blacklist_entry(contractor, reason="x", starts_on=date(2026, 12, 10),
                                         ends_on=date(2026, 12, 9), by=_user("gx-officer"))
        db.session.commit()


def test_officer_records_a_blacklist_entry_through_the_page(app, demo, login):
    officer = _en(login("gx-officer"))
    a_id = _a_id(app)
    response = support.form_post(officer, "/contractors/blacklist", {
        "contractor": a_id, "reason": "违规转包", "starts_on": "2026-12-01", "ends_on": "2027-11-30"})
    assert response.status_code == 302
    page = officer.get("/contractors/blacklist").get_data(as_text=True)
    assert "违规转包" in page and "2027-11-30" in page
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        assert services.can_bid(a_id, date(2027, 1, 1))[0] is False
    assert [r.action for r in _audit_rows(app, "BlacklistEntry")] == ["insert"]
    # A supervisor reads the list but records nothing.
    supervisor = login("gx-supervisor")
    assert supervisor.get("/contractors/blacklist").status_code == 200
    response = support.form_post(supervisor, "/contractors/blacklist", {
        "contractor": a_id, "reason": "x", "starts_on": "2026-12-01", "ends_on": "2027-11-30"})
    assert response.status_code == 403


# --- onboarding through the pages ----------------------------------------------------------

def _new_manager(app, username="n-manager"):
    from portal.accounts.services import create_user
    with app.app_context():
        create_user(username=username, display_name="新负责人", role="contractor_manager", password=support.PASSWORD)
        db.session.commit()


def test_a_manager_registers_the_organisation_and_an_officer_approves_it(app, demo, login):
    _new_manager(app)
    manager = _en(login("n-manager", tenant="ganxian"))
    assert manager.get("/contractors/mine").status_code == 200
    form = {"name": "赣县区启航社工服务社", "kind": "social_work_agency", "legal_representative": "周敏",
            "contact_phone": "0797-1234567", "address": "赣县区"}
    response = support.form_post(manager, "/contractors/mine", {**form, "credit_code": NEW_CODE[:-1] + "0"})
    assert response.status_code == 200
    assert "check digit" in response.get_data(as_text=True)  # the message names the wrong part
    response = support.form_post(manager, "/contractors/mine", {**form, "credit_code": NEW_CODE})
    assert response.status_code == 302
    with app.app_context():
        contractor_id = _contractor_id(NEW_CODE)
        assert _user("n-manager").contractor_id == contractor_id
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        reg = db.session.execute(select(ContractorRegistration)
                                 .where(ContractorRegistration.contractor_id == contractor_id)).scalar_one()
        assert reg.status == "pending"
        reg_id = reg.id

    officer = _en(login("gx-officer"))
    listing = officer.get("/contractors/registrations?q=启航&status=pending").get_data(as_text=True)
    assert "赣县区启航社工服务社" in listing and "阳光" not in listing
    assert "启航" not in officer.get("/contractors/registrations?status=approved").get_data(as_text=True)
    assert "启航" in officer.get(f"/contractors/registrations?q={NEW_CODE[:10]}").get_data(as_text=True)
    detail = officer.get(f"/contractors/{contractor_id}").get_data(as_text=True)
    assert 'data-confirm=' in detail and f"/contractors/registrations/{reg_id}/approve" in detail
    assert 'data-confirm="Approve the registration of 赣县区启航社工服务社?' in detail  # says to what
    token = support.csrf_token_from(detail)
    assert officer.post(f"/contractors/registrations/{reg_id}/suspend", data={"csrf_token": token, "reason": "x"}
                        ).status_code == 302  # refused with a message, nothing changed
    # No business licence uploaded yet: the page says so, the approval is refused, nothing changes.
    assert "No business licence uploaded yet" in detail
    refused = officer.post(f"/contractors/registrations/{reg_id}/approve", data={"csrf_token": token},
                           follow_redirects=True)
    assert "business licence" in refused.get_data(as_text=True)
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        assert db.session.get(ContractorRegistration, reg_id).status == "pending"
    _add_licence(app, contractor_id)
    assert officer.post(f"/contractors/registrations/{reg_id}/approve", data={"csrf_token": token}).status_code == 302
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        assert db.session.get(ContractorRegistration, reg_id).status == "approved"
    # Zhanggong's officer cannot decide ganxian's registration, nor see the contractor.
    zg = login("zg-officer")
    zg_token = support.csrf_token_from(zg.get("/contractors/registrations").get_data(as_text=True))
    assert zg.post(f"/contractors/registrations/{reg_id}/suspend",
                   data={"csrf_token": zg_token, "reason": "x"}).status_code == 404
    assert zg.get(f"/contractors/{contractor_id}").status_code == 404

    updates = [r for r in _audit_rows(app, "ContractorRegistration") if r.action == "update"]
    assert [u.after["status"] for u in updates] == ["approved"]
    assert [r.action for r in _audit_rows(app, "Contractor") if r.object_id == str(contractor_id)] == ["insert"]


def test_an_officer_registers_a_contractor_on_its_behalf(app, demo, login):
    officer = _en(login("gx-officer"))
    response = support.form_post(officer, "/contractors/registrations/new", {
        "name": "代录承接主体", "credit_code": NEW_CODE, "kind": "company", "legal_representative": "吴刚"})
    assert response.status_code == 302
    # Zhanggong registers the same organisation: its details stay as they are, it gets a registration there.
    zg = _en(login("zg-officer"))
    response = support.form_post(zg, "/contractors/registrations/new", {
        "name": "别的名字", "credit_code": NEW_CODE, "kind": "other", "legal_representative": "某人"})
    assert response.status_code == 302
    with support.as_platform(app):
        contractor = db.session.get(Contractor, _contractor_id(NEW_CODE))
        assert contractor.name == "代录承接主体"
        statuses = db.session.execute(select(ContractorRegistration.status).where(
            ContractorRegistration.contractor_id == contractor.id)).scalars().all()
        assert statuses == ["pending", "pending"]


# --- documents --------------------------------------------------------------------------------

def _upload(client, contractor_id, data, name, kind="licence"):
    return support.form_post(client, f"/contractors/{contractor_id}/documents",
                             {"kind": kind, "title": "营业执照", "file": (io.BytesIO(data), name)},
                             token_url=f"/contractors/{contractor_id}")


def _documents(app, contractor_id):
    with app.app_context():
        return [(d.file.content_type, d.file.original_name) for d in db.session.execute(
            select(ContractorDocument).where(ContractorDocument.contractor_id == contractor_id)).scalars()]


def test_documents_are_judged_by_content_and_size(app, demo, login):
    manager = _en(login("a-manager", tenant="ganxian"))
    a_id = _a_id(app)
    assert _upload(manager, a_id, PNG, "licence.pdf").status_code == 302
    assert _documents(app, a_id) == [("image/png", "licence.pdf")]  # stored as what it is
    response = _upload(manager, a_id, EXE, "licence.pdf")
    assert response.status_code == 302
    assert "Only PDF" in manager.get(response.headers["Location"]).get_data(as_text=True)
    big = PDF + b"0" * (20 * 1024 * 1024)
    _upload(manager, a_id, big, "big.pdf")
    assert _upload(manager, a_id, PDF, "qualification.pdf", kind="qualification").status_code == 302
    assert _documents(app, a_id) == [("image/png", "licence.pdf"), ("application/pdf", "qualification.pdf")]
    with app.app_context():
        assert db.session.execute(select(StoredFile.id)).scalars().all().__len__() == 2


def test_documents_are_served_only_to_the_contractor_and_its_bureaus(app, demo, login):
    manager = login("a-manager", tenant="ganxian")
    a_id = _a_id(app)
    _upload(manager, a_id, PDF, "licence.pdf")
    with app.app_context():
        doc_id = db.session.execute(select(ContractorDocument.id)).scalar_one()
    url = f"/contractors/documents/{doc_id}"
    response = manager.get(url)
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Cache-Control"] == "private, no-store"
    assert login("gx-officer").get(url).status_code == 200
    assert login("gx-supervisor").get(url).status_code == 200
    assert login("a-manager", tenant="zhanggong").get(url).status_code == 200  # its own, from any bureau
    for outsider in (login("zg-officer"), login("b-manager", tenant="ganxian"), login("a-worker1"),
                     login("zg-worker1")):
        assert outsider.get(url).status_code == 404
    assert login("gx-officer").get("/contractors/documents/999999").status_code == 404
    assert [r.action for r in _audit_rows(app, "ContractorDocument")] == ["insert"]


# --- who sees what -----------------------------------------------------------------------------

def test_a_manager_sees_only_their_own_contractor_and_field_workers_nothing(app, demo, login):
    a_id = _a_id(app)
    with app.app_context():
        b_id = _contractor_id("赣州康宁养老服务有限公司")
    b_manager = login("b-manager", tenant="ganxian")
    assert b_manager.get(f"/contractors/{a_id}").status_code == 404
    assert b_manager.get(f"/contractors/{b_id}").status_code == 200
    token = support.csrf_token_from(b_manager.get(f"/contractors/{b_id}").get_data(as_text=True))
    response = b_manager.post(f"/contractors/{a_id}/documents",
                              data={"csrf_token": token, "kind": "licence", "file": (io.BytesIO(PDF), "x.pdf")})
    assert response.status_code == 404
    assert _documents(app, a_id) == []
    assert b_manager.get("/contractors/registrations").status_code == 403
    worker = login("a-worker1")
    for url in (f"/contractors/{a_id}", "/contractors/roster", "/contractors/mine", "/contractors/registrations"):
        assert worker.get(url).status_code == 403
