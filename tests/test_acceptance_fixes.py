"""Acceptance fixes (issue 20 review): the final payment needs the decided acceptances to cover the
contract (a narrower pass never lifts a failed one), up to its effective end; a period not yet ended
or overlapping an open or passed acceptance is refused, a failed one is run again (attempt + 1);
bad ids and double clicks give 422/409, never 500; deciding takes the contract's settlement lock;
the labels of the result, the print view, the comments for bureau readers, the signed record's
name; the OCDS documentType by what the acceptance certifies."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from tests import settlement_world as sw
from tests import support
from tests.test_acceptance import PDF, _create, _decide, _ready, world  # noqa: F401  (the fixture)


def _refusal(app, world, month="2026-06"):
    from portal.acceptance.results import final_payment_refusal
    from portal.contracts.models import Contract
    with app.app_context(), sw.scope(app):
        return final_payment_refusal(db.session.get(Contract, world["contract"]), month)


def _add(app, world, start, end, status, attempt=1):
    from portal.contracts.models import Contract
    with app.app_context(), sw.scope(app):
        support.passed_acceptance(db.session.get(Contract, world["contract"]), status=status, period_start=start,
                                  period_end=end, attempt=attempt)
        db.session.commit()


def test_a_failed_acceptance_is_lifted_only_by_a_later_pass_covering_its_period(app, world):
    _add(app, world, date(2026, 1, 1), date(2026, 6, 30), "passed")
    assert _refusal(app, world) is None
    assert _refusal(app, world, "2026-05") is None  # not the final month
    _add(app, world, date(2026, 3, 1), date(2026, 4, 30), "failed")  # a failed part of the period, later
    assert "2026-03-01" in _refusal(app, world)
    _add(app, world, date(2026, 4, 1), date(2026, 6, 30), "passed")  # later, reaches the end, narrower
    assert "2026-03-01" in _refusal(app, world)
    _add(app, world, date(2026, 3, 1), date(2026, 4, 30), "passed", attempt=2)  # the re-run passed
    assert _refusal(app, world) is None


def test_the_final_payment_month_follows_the_effective_end(app, world):
    from portal.contracts.models import Contract
    with app.app_context(), sw.scope(app):
        contract = db.session.get(Contract, world["contract"])
        assert contract.effective_end == date(2026, 6, 30)
        contract.terminated_on = date(2026, 4, 15)
        assert contract.effective_end == date(2026, 4, 15)
        db.session.commit()
    assert "2026-04-15" in _refusal(app, world, "2026-04")  # April is now the final month
    _add(app, world, date(2026, 1, 1), date(2026, 4, 30), "passed")
    assert _refusal(app, world, "2026-04") is None


def test_a_period_not_ended_or_overlapping_is_refused_and_a_failed_one_is_run_again(app, world, monkeypatch):
    from portal.acceptance import services
    from portal.acceptance.models import Acceptance
    from portal.core.errors import Conflict, DomainError
    monkeypatch.setattr(services, "local_today", lambda: date(2026, 6, 30))
    with pytest.raises(DomainError) as open_period:
        _create(app, world)  # ends on "today": not ended
    assert "period_end" in open_period.value.errors
    monkeypatch.setattr(services, "local_today", lambda: date(2026, 7, 1))
    first = _create(app, world, end=date(2026, 5, 31))
    with pytest.raises(Conflict) as overlap:
        _create(app, world, start=date(2026, 5, 1))  # overlaps the open one
    assert "period_start" in overlap.value.errors
    _ready(app, first)
    _decide(app, first, "failed")
    again = _create(app, world, end=date(2026, 5, 31))  # a failed one may be re-run, same period
    with app.app_context(), sw.scope(app):
        assert db.session.get(Acceptance, again).attempt == 2
        with pytest.raises(Conflict):
            services.rerun(db.session.get(Acceptance, first), tenant=None, user=sw.user("gx-officer"))
    with pytest.raises(Conflict):
        _create(app, world, end=date(2026, 5, 31))  # attempt 2 is open: no third


def test_the_unique_constraint_is_a_conflict_not_a_500(app, world, monkeypatch):
    from portal.acceptance import services
    from portal.core.errors import Conflict
    _create(app, world)
    monkeypatch.setattr(services, "_attempt", lambda *args: 1)  # a second click slipping past the check
    with pytest.raises(Conflict):
        _create(app, world)


def test_new_form_bad_contract_id_and_double_click(app, world, login):
    officer = login("gx-officer")
    post = {"contract": world["contract"], "period_start": "2026-01-01", "period_end": "2026-06-30"}
    huge = support.form_post(officer, "/acceptance/new", {**post, "contract": "99999999999999999999"},
                             token_url="/acceptance/new")
    assert huge.status_code == 422
    assert support.form_post(officer, "/acceptance/new", post, token_url="/acceptance/new").status_code == 303
    twice = support.form_post(officer, "/acceptance/new", post, token_url="/acceptance/new")
    assert twice.status_code == 409
    page = officer.get("/acceptance/new").get_data(as_text=True)
    assert "期间起" in page and "期间止" in page and "履行期限起" not in page


def test_rerun_page_labels_print_and_comments(app, world, login):
    from portal.acceptance.models import Acceptance
    acceptance_id = _create(app, world)
    _ready(app, acceptance_id)
    detail = f"/acceptance/{acceptance_id}"
    officer, auditor = login("gx-officer"), login("city-auditor", tenant="ganxian")
    assert 'id="rerun"' not in officer.get(detail).get_data(as_text=True)  # open: nothing to re-run
    _decide(app, acceptance_id, "failed")
    page = officer.get(detail).get_data(as_text=True)
    assert "不通过" in page and "已废标" not in page and 'id="rerun"' in page
    assert "邻居王某说服务人员迟到" in page  # the bureau reads the comments
    assert "邻居王某说服务人员迟到" in auditor.get(detail).get_data(as_text=True)
    assert 'id="rerun"' not in auditor.get(detail).get_data(as_text=True)
    listing = officer.get("/acceptance/?status=failed").get_data(as_text=True)
    assert "不通过" in listing and "已废标" not in listing
    printed = officer.get(f"{detail}/print").get_data(as_text=True)
    assert "不通过 ☑" in printed and "通过 □" in printed and "已废标" not in printed
    assert support.form_post(auditor, f"{detail}/rerun", {"rerun-confirm": "y"},
                             token_url="/acceptance/").status_code == 403
    assert support.form_post(officer, f"{detail}/rerun", {}, token_url=detail).status_code == 422
    done = support.form_post(officer, f"{detail}/rerun", {"rerun-confirm": "y"}, token_url=detail)
    assert done.status_code == 303
    with app.app_context(), sw.scope(app):
        rows = db.session.scalars(select(Acceptance).order_by(Acceptance.id)).all()
        assert [(r.attempt, r.status) for r in rows] == [(1, "failed"), (2, "open")]
        assert rows[1].period_start == rows[0].period_start and rows[1].period_end == rows[0].period_end
    again = support.form_post(officer, f"{detail}/rerun", {"rerun-confirm": "y"}, token_url=detail)
    # a second click: nothing more is created, the message is shown on the existing re-run
    assert again.status_code == 303 and again.headers["Location"].endswith(f"/acceptance/{rows[1].id}")
    landed = officer.get(again.headers["Location"]).get_data(as_text=True)
    assert "该验收已重新验收过。" in landed
    with app.app_context(), sw.scope(app):
        assert db.session.scalar(select(func.count()).select_from(Acceptance)) == 2
    # the failed attempt links to its re-run, the re-run back; the list shows the attempt
    assert f'id="next-attempt" href="/acceptance/{rows[1].id}"' in officer.get(detail).get_data(as_text=True)
    assert f'id="previous-attempt" href="{detail}"' in landed and 'id="next-attempt"' not in landed
    listing = officer.get("/acceptance/").get_data(as_text=True)
    assert listing.count('<td class="attempt">第2次</td>') == 1 and '<td class="attempt">第1次</td>' in listing
    assert officer.get("/acceptance/2147483647/print").status_code == 404


def test_committee_labels_duplicate_names_and_the_signed_record_name(app, world, login):
    from portal.acceptance import decisions, services
    from portal.core.errors import DomainError
    from portal.files.services import store_upload
    acceptance_id = _create(app, world)
    with app.app_context(), sw.scope(app):
        acceptance = services.get(acceptance_id)
        with pytest.raises(DomainError) as twice:
            decisions.set_committee(acceptance, [{"name": "张委员"}, {"name": "李委员"}, {"name": "张委员"}], "x")
        assert "members" in twice.value.errors
        acceptance.signed_file_id = store_upload(None, data=PDF, allowed=decisions.SIGNED_TYPES).id
        db.session.commit()
    officer = login("gx-officer")
    page = officer.get(f"/acceptance/{acceptance_id}").get_data(as_text=True)
    assert "已签字" in page and "已签订" not in page
    download = officer.get(f"/acceptance/{acceptance_id}/signed-record")
    assert download.status_code == 200
    assert f"acceptance-{acceptance_id}.pdf" in download.headers["Content-Disposition"]


def test_deciding_and_paying_take_the_contracts_settlement_lock(app, world, monkeypatch):
    from portal.acceptance import decisions
    from portal.billing import settlement, workflow
    from portal.billing.models import Statement
    from portal.core.errors import DomainError
    taken = []
    monkeypatch.setattr(decisions, "lock_contract_row", lambda contract_id: taken.append(("decide", contract_id)))
    acceptance_id = _create(app, world)
    _ready(app, acceptance_id)
    _decide(app, acceptance_id, "failed")
    assert taken == [("decide", world["contract"])]
    original = settlement.lock_settlement
    monkeypatch.setattr(settlement, "lock_settlement",
                        lambda contract_id, statement=None: (taken.append(("pay", contract_id)),
                                                             original(contract_id, statement)))
    statement_id = sw.approved(app, world, "2026-05")
    taken.clear()
    with app.app_context(), sw.scope(app):
        statement = db.session.get(Statement, statement_id)
        with pytest.raises(DomainError):
            workflow.mark_paid(statement, sw.user("gx-finance"), date(2026, 6, 1) + timedelta(days=400), "X")
    assert ("pay", world["contract"]) in taken
