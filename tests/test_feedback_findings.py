"""The finding on feedback about a contractor (issue 20 part 4, docs/DOMAIN.md §9 "Public
feedback"): answering such an item asks whether the complaint is upheld (upheld / not upheld / not
a complaint), the detail page shows it, the list filters on it, and the bureau's counts per
contractor give received, answered on time and upheld. Never public."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.core.errors import DomainError
from portal.extensions import db
from tests import support
from tests.assessment_world import scope

TEXT = "护理员多次迟到，投诉服务机构。"


@pytest.fixture
def world(app):
    support.seed_demo(app, history=True)


def _item(app, contractor=True, when=None):
    """A complaint received now (or ``when``) about ganxian's first registered contractor."""
    from portal.feedback import services
    from portal.tenancy.models import Tenant
    with app.app_context(), scope(app):
        tenant = db.session.scalar(select(Tenant).where(Tenant.code == "ganxian"))
        contractor_id, name = services.serving_contractors()[0] if contractor else (None, "")
        item = services.submit(tenant, "contractor" if contractor else "other", TEXT, when or datetime.now(timezone.utc),
                               contractor_id=contractor_id)
        db.session.commit()
        return item.id, item.tracking_number, contractor_id, name


def test_answering_a_complaint_about_a_contractor_needs_the_finding_and_the_page_shows_it(app, world, client, login):
    item_id, number, contractor_id, name = _item(app)
    officer = login("gx-officer")
    page = officer.get(f"/feedback/{item_id}").get_data(as_text=True)
    assert 'name="answer-finding"' in page and "尚未认定" in page
    refused = support.form_post(officer, f"/feedback/{item_id}/answer", {"answer-answer": "已核实并整改。"},
                                token_url=f"/feedback/{item_id}")
    assert refused.status_code == 422 and "请认定针对服务机构的投诉是否属实。" in refused.get_data(as_text=True)
    bad = support.form_post(officer, f"/feedback/{item_id}/answer",
                            {"answer-answer": "已核实并整改。", "answer-finding": "maybe"}, token_url=f"/feedback/{item_id}")
    assert bad.status_code == 422
    done = support.form_post(officer, f"/feedback/{item_id}/answer",
                             {"answer-answer": "已核实并整改。", "answer-finding": "upheld"}, token_url=f"/feedback/{item_id}")
    assert done.status_code == 303
    from portal.feedback.models import FeedbackItem
    with app.app_context(), scope(app):
        assert db.session.get(FeedbackItem, item_id).upheld is True
    page = officer.get(f"/feedback/{item_id}").get_data(as_text=True)
    assert '<dd id="finding">投诉属实</dd>' in page and 'name="answer-finding"' not in page
    # the list filters on the finding
    assert number in officer.get("/feedback/?upheld=upheld").get_data(as_text=True)
    assert number not in officer.get("/feedback/?upheld=not_upheld").get_data(as_text=True)
    assert number not in officer.get("/feedback/?upheld=none").get_data(as_text=True)
    assert number in officer.get("/feedback/?upheld=bogus").get_data(as_text=True)  # unknown filter: all
    # the counts per contractor: received, answered on time, upheld
    counts = officer.get("/feedback/contractors").get_data(as_text=True)
    row = counts.split(f'data-contractor="{contractor_id}"')[1].split("</tr>")[0]
    assert name in row and [cell.split("<")[0] for cell in row.split("<td>")[1:]] == ["1", "1", "1", "1", "0"]
    # never public: the status API and the public answers say nothing of the finding
    status = client.get(f"/api/v1/public/ganxian/feedback/{number}").get_json()
    assert set(status) == {"status", "answered_at", "answer"}


def test_a_finding_is_kept_only_for_an_item_about_a_contractor(app, world):
    from portal.accounts.models import User
    from portal.feedback import services
    from portal.feedback.models import FeedbackItem
    plain_id = _item(app, contractor=False)[0]
    about_id = _item(app)[0]
    with app.app_context(), scope(app):
        officer = db.session.get(User, support.World(app).user_id("gx-officer"))
        plain, about = db.session.get(FeedbackItem, plain_id), db.session.get(FeedbackItem, about_id)
        assert services.answer(plain, "已处理。", officer, datetime.now(timezone.utc), "upheld").upheld is None
        with pytest.raises(DomainError) as refused:
            services.answer(about, "已处理。", officer, datetime.now(timezone.utc))
        assert "finding" in refused.value.errors
        assert services.answer(about, "已处理。", officer, datetime.now(timezone.utc), "not_complaint").upheld is None
        db.session.rollback()


def test_counts_per_contractor_split_answered_on_time_at_the_due_day_in_beijing(app, world, login):
    """Two items due the same day: one answered at 23:30 on the due day in Beijing (on time), one
    at 00:30 the next day (late, though still the due day in UTC). A year with nothing: no row."""
    from portal.feedback.models import FeedbackItem
    from portal.feedback.stats import contractor_rows
    beijing = timezone(timedelta(hours=8))
    received = datetime(2024, 6, 3, 9, tzinfo=beijing)
    first, _n, contractor_id, _name = _item(app, when=received)
    second = _item(app, when=received)[0]
    with app.app_context(), scope(app):
        for item_id, answered, upheld in ((first, datetime(2024, 6, 10, 23, 30, tzinfo=beijing), False),
                                          (second, datetime(2024, 6, 11, 0, 30, tzinfo=beijing), True)):
            item = db.session.get(FeedbackItem, item_id)
            item.due_on, item.status, item.answered_at, item.answer, item.upheld = (
                datetime(2024, 6, 10).date(), "answered", answered, "已处理。", upheld)
        db.session.commit()
        [row] = [r for r in contractor_rows(datetime(2024, 1, 1).date(), datetime(2024, 12, 31).date())]
        assert (row["contractor_id"], row["received"], row["answered"], row["on_time"], row["upheld"],
                row["not_upheld"]) == (contractor_id, 2, 2, 1, 1, 1)
        assert contractor_rows(datetime(2023, 1, 1).date(), datetime(2023, 12, 31).date()) == []
    officer = login("gx-officer")
    assert f'data-contractor="{contractor_id}"' in officer.get("/feedback/contractors?year=2024").get_data(as_text=True)
    assert "本年度没有针对服务机构的意见。" in officer.get("/feedback/contractors?year=2023").get_data(as_text=True)
    assert officer.get("/feedback/contractors?year=abc").status_code == 404
    assert login("a-manager").get("/feedback/contractors").status_code == 403
    other = login("city-auditor", tenant="zhanggong").get("/feedback/contractors?year=2024")
    assert other.status_code == 200 and "data-contractor=" not in other.get_data(as_text=True)  # not zhanggong's
