"""Issue 22 item 2 on the statements: a step is offered only to who may take it now; finance who
prepared or sent a statement sees its approval disabled with the one reason (and is still refused
on POST); the confirmation page is the one confirmation and names the statement, month,
contractor and net amount; a refusal is shown once."""
import re

import pytest

from tests import settlement_world as sw
from tests import support

MONTH = "2026-10"


@pytest.fixture
def october(app, demo):
    world = sw.care_contract(app)
    world["visits"] = sw.add_visits(app, world, MONTH, 3)
    world["statement"] = sw.prepare(app, world, MONTH)
    return world




def _actions(page):
    """The statement page's action bar."""
    start = page.index('id="statement-actions"')
    return page[start:page.index("</p>", start)]


def _confirmed_sent_by_finance(app, october, login):
    sw.finance_colleague(app)
    statement_id = october["statement"]
    assert support.form_post(login("gx-finance"), f"/billing/{statement_id}/send", {}).status_code == 302
    assert support.form_post(login("a-manager", tenant="ganxian"), f"/billing/{statement_id}/confirm",
                             {}).status_code == 302
    return statement_id


def test_finance_who_sent_sees_approval_disabled_with_the_reason_once_and_is_still_refused(app, october, login):
    statement_id = _confirmed_sent_by_finance(app, october, login)
    finance = login("gx-finance")
    page = finance.get(f"/billing/{statement_id}").get_data(as_text=True)
    bar = _actions(page)
    reason = support.zh_html(app, "You prepared or sent this statement: another finance reviewer must approve it (four eyes).")
    button = re.search(r'<button type="button" class="button" id="approve-action" disabled '
                       r'aria-describedby="approve-action-why">([^<]*)</button>', bar)
    assert button and button.group(1) == support.zh_html(app, "Approve the statement")
    assert f'<span class="why" id="approve-action-why">{reason}</span>' in bar
    assert page.count(reason) == 1
    # the rule is not said a second time in "whose move it is"
    assert support.zh_html(app, "Next: finance review (not by the person who prepared, sent or adjusted it).") not in page
    assert support.zh_html(app, "Next: finance review.") in page
    assert f'href="/billing/{statement_id}/approve"' not in page
    # the confirm page, reached by its address, shows the step disabled with the same one reason
    confirm = finance.get(f"/billing/{statement_id}/approve").get_data(as_text=True)
    assert 'id="step-button" disabled' in confirm and confirm.count(reason) == 1
    assert 'type="submit" class="button" id="step-button"' not in confirm
    # the server still refuses, and says why once (no flash beside the form's message)
    refused = support.form_post(finance, f"/billing/{statement_id}/approve", {})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    message = support.zh_html(app, "The person who prepared or sent a statement cannot approve it.")
    assert html.count(message) == 1 and 'id="refusal"' in html
    assert sw.statement_row(app, statement_id)[0] == "confirmed"


def test_the_other_finance_reviewer_gets_the_approval_enabled(app, october, login):
    statement_id = _confirmed_sent_by_finance(app, october, login)
    colleague = login("gx-finance2")
    bar = _actions(colleague.get(f"/billing/{statement_id}").get_data(as_text=True))
    assert f'<a class="button" id="approve-action" href="/billing/{statement_id}/approve">' in bar
    assert "disabled" not in bar
    confirm = colleague.get(f"/billing/{statement_id}/approve").get_data(as_text=True)
    assert 'type="submit" class="button" id="step-button"' in confirm
    assert support.form_post(colleague, f"/billing/{statement_id}/approve", {}).status_code == 302
    assert sw.statement_row(app, statement_id)[0] == "approved"


def test_roles_without_the_permission_are_not_offered_the_steps(app, october, login):
    statement_id = _confirmed_sent_by_finance(app, october, login)
    for username, tenant in (("gx-officer", None), ("gx-auditor", "ganxian"), ("a-manager", "ganxian")):
        page = login(username, tenant=tenant).get(f"/billing/{statement_id}").get_data(as_text=True)
        assert f"/billing/{statement_id}/approve" not in page, username
        assert 'id="approve-action"' not in page, username
    # a step the role never takes is refused server-side too
    assert login("gx-officer").get(f"/billing/{statement_id}/approve").status_code == 403


def test_a_stale_draft_shows_sending_disabled_with_the_reason(app, october, login):
    statement_id = october["statement"]
    sw.not_confirmed(app, october, october["visits"][:1], MONTH)
    page = login("gx-officer").get(f"/billing/{statement_id}").get_data(as_text=True)
    bar = _actions(page)
    assert 'id="send-action" disabled' in bar
    assert support.zh_html(app, "Its records changed since it was computed: it must be recomputed first.") in bar
    assert f'href="/billing/{statement_id}/send"' not in page


def test_the_one_confirmation_names_the_statement_month_contractor_and_net_amount(app, october, login):
    statement_id = october["statement"]
    page = login("gx-officer").get(f"/billing/{statement_id}/send").get_data(as_text=True)
    from portal.billing.models import Statement
    from portal.extensions import db
    with app.app_context(), sw.scope(app):
        statement = db.session.get(Statement, statement_id)
        number, net, contractor = statement.number, statement.net_fen, statement.contract.contractor.name
    what = page[page.index('id="what-will-happen"'):]
    what = what[:what.index("</p>")]
    assert number in what and MONTH in what and contractor in what
    assert f"{net // 100:,}.{net % 100:02d}" in what  # fen as yuan
    # the page is the one confirmation: no JS prompt on it
    form = page[page.index('<form method="post" novalidate'):]
    assert "data-confirm" not in form[:form.index(">")]
    assert "data-confirm" not in page
