"""Resolving visit exceptions (docs/DOMAIN.md §6): the contractor's manager answers with a reason code
and evidence, a supervisor accepts (the visit is verified once nothing blocking is left) or rejects
(the visit is rejected), one at a time or in bulk after a confirmation step, every change audited;
nobody sees another contractor's or another bureau's exceptions; the queue's filters."""
import io

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.visits import exceptions
from tests import support
from tests.beneficiary_world import care_world
from tests.visit_world import DAY, at, exception_id, record, scope, visit_state

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


pytestmark = pytest.mark.usefixtures("own_queue")


@pytest.fixture
def world(app, demo):
    return care_world(app)


def no_photo_visit(app, world, **kwargs):
    """A visit without its required photo: V11 open, the visit an exception."""
    visit_id = record(app, world["people"]["刘桂英"], photo=False, **kwargs)
    assert visit_state(app, visit_id) == ("exception", {"V11": "open"})
    return visit_id


def answer(client, exception, reason="data_entry_error", text="照片未能上传。", evidence=None):
    page = client.get(f"/supervision/exceptions/{exception}")
    assert page.status_code == 200
    data = {"reason": reason, "text": text, "csrf_token": support.csrf_token_from(page.get_data(as_text=True))}
    if evidence is not None:
        data["evidence"] = (io.BytesIO(evidence[1]), evidence[0])
    return client.post(f"/supervision/exceptions/{exception}/answer", data=data, content_type="multipart/form-data")


def decide(client, exception, action, note="核实"):
    return support.form_post(client, f"/supervision/exceptions/{exception}/{action}", {"note": note})


def test_answer_then_accept_makes_the_visit_verified(app, login, world):
    visit = no_photo_visit(app, world)
    v11 = exception_id(app, visit, "V11")
    manager = login("a-manager", tenant="ganxian")
    response = answer(manager, v11, evidence=("photo-log.pdf", PDF))
    assert response.status_code == 302
    assert visit_state(app, visit) == ("exception", {"V11": "answered"})
    assert manager.get(f"/supervision/exceptions/{v11}/evidence").data == PDF
    supervisor = login("gx-supervisor")
    assert decide(supervisor, v11, "accept").status_code == 302
    assert visit_state(app, visit) == ("verified", {"V11": "accepted"})
    with app.app_context(), scope(app):
        changes = db.session.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.object_type == "VisitException", AuditEntry.object_id == str(v11))).scalar_one()
    assert changes >= 2  # answered, then accepted: each a row change on the chain


def test_accepting_one_exception_leaves_the_visit_blocked_by_another(app, login, world):
    visit = record(app, world["people"]["刘桂英"], photo=False, minutes=20)  # V03 and V11
    assert visit_state(app, visit) == ("exception", {"V03": "open", "V11": "open"})
    supervisor = login("gx-supervisor")
    decide(supervisor, exception_id(app, visit, "V11"), "accept")
    assert visit_state(app, visit)[0] == "exception"
    decide(supervisor, exception_id(app, visit, "V03"), "accept")
    assert visit_state(app, visit) == ("verified", {"V03": "accepted", "V11": "accepted"})


def test_reject_makes_the_visit_rejected_and_accepting_another_keeps_it_so(app, login, world):
    visit = record(app, world["people"]["刘桂英"], photo=False, minutes=20)
    supervisor = login("gx-supervisor")
    assert decide(supervisor, exception_id(app, visit, "V03"), "reject", "时长不足").status_code == 302
    assert visit_state(app, visit)[0] == "rejected"
    decide(supervisor, exception_id(app, visit, "V11"), "accept")
    assert visit_state(app, visit) == ("rejected", {"V03": "rejected", "V11": "accepted"})
    again = supervisor.get(f"/supervision/exceptions/{exception_id(app, visit, 'V03')}/accept")
    assert again.status_code == 302  # already decided: back to the exception, nothing changes
    assert visit_state(app, visit)[0] == "rejected"


def bulk(client, ids, action, note="批量处理"):
    queue = client.get("/supervision/exceptions")
    token = support.csrf_token_from(queue.get_data(as_text=True))
    first = client.post("/supervision/exceptions/bulk", data={"ids": ids, "bulk_action": action, "csrf_token": token})
    assert first.status_code == 200  # the confirmation step: nothing decided yet
    page = first.get_data(as_text=True)
    # the page is the one confirmation: it lists what is decided and asks nothing more in the browser
    assert 'data-confirm="' not in page and page.count('name="ids"') >= len(ids)
    return client.post("/supervision/exceptions/bulk", data={
        "ids": ids, "action": action, "confirmed": "1", "note": note,
        "csrf_token": support.csrf_token_from(page)})


def test_bulk_accept_and_bulk_reject(app, login, world):
    people = world["people"]
    first = no_photo_visit(app, world)
    second = record(app, people["陈德福"], photo=False, start=at(DAY, 13))
    third = record(app, people["黄秀兰"], username="a-worker2", photo=False, start=at(DAY, 10), device="p2")
    supervisor = login("gx-supervisor")
    ids = [str(exception_id(app, v, "V11")) for v in (first, second)]
    page = supervisor.get("/supervision/exceptions").get_data(as_text=True)
    assert all(f'name="ids" value="{i}"' in page for i in ids)
    response = bulk(supervisor, ids, "accept")
    assert response.status_code == 302
    assert visit_state(app, first)[0] == visit_state(app, second)[0] == "verified"
    assert visit_state(app, third) == ("exception", {"V11": "open"})
    assert bulk(supervisor, [str(exception_id(app, third, "V11"))], "reject").status_code == 302
    assert visit_state(app, third) == ("rejected", {"V11": "rejected"})


def test_bulk_decide_is_one_unit_of_work(app, world):
    visits = [no_photo_visit(app, world),
              record(app, world["people"]["陈德福"], photo=False, start=at(DAY, 13))]
    ids = [exception_id(app, v, "V11") for v in visits]
    from portal.accounts.models import User
    with app.app_context(), scope(app):
        supervisor = db.session.execute(select(User).where(User.username == "gx-supervisor")).scalar_one()
        decided = exceptions.bulk_decide([str(i) for i in ids] + ["999999", "x"], "accept", supervisor, "")
        assert sorted(e.id for e in decided) == sorted(ids)
        db.session.rollback()  # the caller's transaction: nothing was committed by the service
    assert all(visit_state(app, v) == ("exception", {"V11": "open"}) for v in visits)


def test_only_supervisors_decide_and_only_managers_answer(app, login, world):
    v11 = exception_id(app, no_photo_visit(app, world), "V11")
    manager = login("a-manager", tenant="ganxian")
    assert manager.get(f"/supervision/exceptions/{v11}/accept").status_code == 403
    queue = manager.get("/supervision/exceptions").get_data(as_text=True)
    token = support.csrf_token_from(queue)
    assert manager.post("/supervision/exceptions/bulk", data={"ids": [v11], "bulk_action": "accept",
                                                              "csrf_token": token}).status_code == 403
    officer = login("gx-officer")
    assert officer.get(f"/supervision/exceptions/{v11}").status_code == 200
    assert officer.get(f"/supervision/exceptions/{v11}/reject").status_code == 403


def test_a_manager_cannot_see_another_contractors_exception(app, login, world):
    v11 = exception_id(app, no_photo_visit(app, world), "V11")
    other = login("b-manager", tenant="ganxian")
    assert other.get(f"/supervision/exceptions/{v11}").status_code == 404
    assert other.get(f"/supervision/exceptions/{v11}/evidence").status_code == 404
    token = support.csrf_token_from(other.get("/supervision/exceptions").get_data(as_text=True))
    response = other.post(f"/supervision/exceptions/{v11}/answer",
                          data={"reason": "other", "text": "x", "csrf_token": token})
    assert response.status_code == 404
    assert f"/supervision/exceptions/{v11}" not in other.get("/supervision/exceptions?status=").get_data(as_text=True)
    assert login("zg-officer").get(f"/supervision/exceptions/{v11}").status_code == 404
    assert visit_state(app, exception_visit(app, v11))[1] == {"V11": "open"}


def exception_visit(app, exc_id):
    from portal.visits.models import VisitException
    with app.app_context(), scope(app):
        return db.session.get(VisitException, exc_id).visit_id


def test_an_answer_needs_a_listed_reason_a_text_and_a_real_document(app, login, world):
    visit = no_photo_visit(app, world)
    v11 = exception_id(app, visit, "V11")
    manager = login("a-manager", tenant="ganxian")
    assert answer(manager, v11, reason="because").status_code == 422
    assert answer(manager, v11, text="  ").status_code == 422
    refused = answer(manager, v11, evidence=("note.pdf", b"just some text, not a PDF"))
    assert refused.status_code == 422 and "field-error" in refused.get_data(as_text=True)
    assert visit_state(app, visit) == ("exception", {"V11": "open"})
    assert answer(manager, v11).status_code == 302
    assert answer(manager, v11).status_code == 422  # answered already: only open ones take an answer


def test_the_managers_list_shows_masked_names_and_the_answer_form(app, login, world):
    no_photo_visit(app, world)
    page = login("a-manager", tenant="ganxian").get("/supervision/exceptions").get_data(as_text=True)
    assert "刘*英" in page and "刘桂英" not in page
    assert 'enctype="multipart/form-data"' in page and 'name="reason"' in page
    assert "<script>" not in page
    bureau = login("gx-supervisor").get("/supervision/exceptions").get_data(as_text=True)
    assert "刘桂英" in bureau


def test_the_queue_filters_by_code_worker_beneficiary_contract_and_date(app, login, world):
    people = world["people"]
    short = record(app, people["刘桂英"], minutes=20)                           # V03, a-worker1, DAY
    photo = record(app, people["黄秀兰"], username="a-worker2", photo=False, device="p2",
                   start=at(DAY.replace(day=1) if DAY.day > 1 else DAY, 15))   # V11, a-worker2
    supervisor = login("gx-supervisor")

    def shown(query):
        page = supervisor.get(f"/supervision/exceptions?{query}").get_data(as_text=True)
        return {v for v in (short, photo) if f"/supervision/visits/{v}\"" in page}
    assert shown("") == {short, photo}
    assert shown("code=V03") == {short}
    assert shown("beneficiary=黄*兰") == {photo}
    assert shown("beneficiary=桂") == {short}
    assert shown(f"worker={support.World(app).user_id('a-worker2')}") == {photo}
    assert shown(f"contract={world['a_contract']}") == {short, photo}
    assert shown(f"contract={world['b_contract']}") == set()
    assert shown(f"date_from={DAY.isoformat()}&date_to={DAY.isoformat()}") == {short} | (
        {photo} if DAY.day == 1 else set())
    assert shown("date_from=not-a-date&code=V99&page=x") == {short, photo}
