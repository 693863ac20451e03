"""After a re-award the stage bar follows the award in force; a year with no calendar neither
takes down the award page nor holds up the bureau's other contract notices."""
from datetime import date, datetime, timezone

from sqlalchemy import delete, select

from portal.core.timeutil import utcnow
from portal.extensions import db
from tests.test_challenge_remedies import _scope, upheld  # noqa: F401  (fixture)


def _forget_2027(app):
    from portal.tenancy.models import CalendarDay, CalendarYear
    with app.app_context():
        db.session.execute(delete(CalendarDay))
        db.session.execute(delete(CalendarYear))
        db.session.commit()


def test_after_a_re_award_the_stage_bar_leads_to_the_award_in_force(app, upheld):  # noqa: F811
    from portal.tenders import remedies, services
    from portal.tenders.models import Award, Challenge, Tender
    with app.app_context(), _scope(app):
        new = remedies.choose_remedy(db.session.get(Challenge, upheld["challenge"]), "next_ranked", utcnow())
        db.session.commit()
        new_id = new.id if new is not None else db.session.execute(
            select(Award.id).where(Award.status == "active", Award.lot_id == Award.lot_id)).scalar()
        bar = services.stage_bar_of(db.session.get(Tender, upheld["tender"]))
        assert bar.action is not None
        assert bar.action.args.get("award_id") != upheld["award"]
        if "award_id" in bar.action.args:
            assert bar.action.args["award_id"] == new_id


def test_the_award_page_warns_when_the_answer_day_falls_in_a_year_with_no_calendar(app, upheld, login):  # noqa: F811
    from portal.tenders.models import Challenge
    with app.app_context(), _scope(app):
        challenge = db.session.get(Challenge, upheld["challenge"])
        challenge.status, challenge.answer, challenge.answered_at = "open", "", None
        challenge.received_at = datetime(2026, 12, 28, 2, 0, tzinfo=timezone.utc)
        db.session.commit()
    _forget_2027(app)
    page = login("gx-officer").get(f"/tenders/awards/{upheld['award']}")
    assert page.status_code == 200
    assert "2027" in page.get_data(as_text=True)


def test_an_amendment_dated_in_a_year_with_no_calendar_does_not_hold_up_other_notices(app, demo):
    from portal.contracts import services
    from portal.contracts.models import Amendment, Contract
    from tests import contract_world as cw
    world = cw.awarded(app, notice_on=date(2026, 9, 10), amount_fen=10_000_000)
    contract_id = cw.signed(app, world, on=date(2026, 9, 15))
    _forget_2027(app)
    with app.app_context(), cw.scope(app):
        services.add_amendment(db.session.get(Contract, contract_id), rationale="extension", description="延期",
                               added_fen=0, new_ends_on=date(2027, 3, 31), signed_on=date(2026, 12, 31),
                               user=None, now=datetime(2026, 12, 31, 8, tzinfo=timezone.utc))
        db.session.commit()
    with app.app_context(), cw.scope(app):
        contracts, amendments = services.publish_due_notices(now=datetime(2026, 12, 31, 9, tzinfo=timezone.utc))
        db.session.commit()
        assert contract_id in contracts and len(amendments) == 1
        assert db.session.get(Contract, contract_id).notice_published_at is not None
        assert db.session.get(Amendment, amendments[0]).published_at is not None


def test_after_the_challenge_period_the_award_page_offers_no_challenge_form(app, upheld, login):  # noqa: F811
    from datetime import timedelta

    from portal.core.timeutil import local_today
    from portal.tenders.models import Award, Challenge
    with app.app_context(), _scope(app):
        challenge = db.session.get(Challenge, upheld["challenge"])
        challenge.may_change_result = False  # the award stays in force
        award = db.session.get(Award, upheld["award"])
        award.challenge_until = local_today() - timedelta(days=1)
        db.session.commit()
    officer = login("gx-officer")
    page = officer.get(f"/tenders/awards/{upheld['award']}").get_data(as_text=True)
    assert f"/tenders/awards/{upheld['award']}/challenges" not in page
    assert "不予受理" in page
