"""The quarterly scorecard (docs/DOMAIN.md §7): a small quarter computed by hand equals the portal's,
component by component; components without data are not applicable and their weight is shared
out; recomputing replaces an unpublished scorecard and never a published one; publishing creates
a disclosure with nothing private in it."""
from datetime import date, datetime
from fractions import Fraction

import pytest
from sqlalchemy import func, select

from portal.core.timeutil import LOCAL_TZ
from portal.extensions import db
from portal.scorecards import services as scorecards
from portal.scorecards.models import Scorecard
from portal.spotchecks.models import SpotCheck, SpotCheckSample
from portal.violations.models import Violation
from tests import support
from tests.beneficiary_world import care_world
from tests.test_spot_checks import add_visits
from tests.visit_world import scope

QUARTER = "2025-Q1"  # 1 January – 31 March 2025: 90 days


pytestmark = pytest.mark.usefixtures("own_queue")


@pytest.fixture
def world(app, demo):
    return care_world(app)


def small_quarter(app, world):
    """A's contract runs through 2025 (365 days) with a quota of 73 visits, so 18 are expected in
    the quarter's 90 days. In the quarter: 12 verified visits, 2 with exceptions, 1 rejected, 1
    pending; spot checks: 3 confirmed (satisfaction 5, 4, 3), 1 not confirmed, 1 unreachable, 1
    open; violations: 1 confirmed and 1 open count, 1 dismissed and 1 in April do not."""
    from portal.contracts.models import Contract
    contract_id, people = world["a_contract"], world["people"]
    with app.app_context(), scope(app):
        contract = db.session.get(Contract, contract_id)
        contract.starts_on, contract.ends_on = date(2025, 1, 1), date(2025, 12, 31)
        contract.items[0].quota = 73
        db.session.commit()
    verified = add_visits(app, contract_id, people["刘桂英"], "a-worker1", 12, month=date(2025, 2, 1))
    add_visits(app, contract_id, people["陈德福"], "a-worker1", 2, month=date(2025, 3, 1), status="exception")
    rejected = add_visits(app, contract_id, people["黄秀兰"], "a-worker2", 1, month=date(2025, 1, 1), status="rejected")
    add_visits(app, contract_id, people["黄秀兰"], "a-worker2", 1, month=date(2025, 3, 1), status="pending")
    add_visits(app, contract_id, people["黄秀兰"], "a-worker2", 3, month=date(2025, 4, 1))  # next quarter
    add_visits(app, contract_id, people["黄秀兰"], "a-worker2", 2, month=date(2024, 12, 1))  # before the period
    with app.app_context(), scope(app):
        drawn_at = datetime(2025, 4, 5, 9, tzinfo=LOCAL_TZ)
        january = SpotCheckSample(contract_id=contract_id, month="2025-01", seed="s1", rate_permille=50,
                                  population=1, drawn_at=drawn_at)
        february = SpotCheckSample(contract_id=contract_id, month="2025-02", seed="s2", rate_permille=50,
                                   population=12, drawn_at=drawn_at)
        april = SpotCheckSample(contract_id=contract_id, month="2025-04", seed="s3", rate_permille=50,
                                population=3, drawn_at=drawn_at)
        db.session.add_all([january, february, april])
        db.session.flush()
        january.checks.append(SpotCheck(visit_id=rejected[0], outcome="not_confirmed"))
        for visit_id, (outcome, satisfaction) in zip(verified, (("confirmed", 5), ("confirmed", 4), ("confirmed", 3),
                                                               ("unreachable", None), (None, None))):
            february.checks.append(SpotCheck(visit_id=visit_id, outcome=outcome, satisfaction=satisfaction))
        april.checks.append(SpotCheck(visit_id=verified[6], outcome="not_confirmed", satisfaction=1))
        for n, (status, day) in enumerate((("confirmed", date(2025, 2, 3)), ("open", date(2025, 3, 31)),
                                           ("dismissed", date(2025, 1, 9)), ("open", date(2025, 4, 1)))):
            db.session.add(Violation(kind="unlisted_worker", contract_id=contract_id, occurred_on=day,
                                     status=status, dedupe_key=f"test-{n}", summary="test"))
        db.session.commit()
    return contract_id


def compute(app, contract_id, quarter=QUARTER):
    from portal.contracts.models import Contract
    from portal.tenancy.models import Tenant
    with app.app_context(), scope(app):
        contract = db.session.get(Contract, contract_id)
        card = scorecards.compute(contract, quarter, tenant=db.session.get(Tenant, contract.tenant_id))
        db.session.commit()
        return card.id, card.score_centi, {c["key"]: c for c in card.components}


def test_a_quarter_computed_by_hand_equals_the_portal_component_by_component(app, world):
    contract_id = small_quarter(app, world)
    _id, score_centi, parts = compute(app, contract_id)
    # By hand, default weights completion 20, verification 20, confirmation 20, satisfaction 10,
    # violations 10, re-check 10, care plans 5, complaints 5 (100 in all). Neither re-check (none
    # done), care plans (none in force) nor complaints (none found) applies, so the 80 points of
    # weight left are stretched to 100: effective weight = weight × 100 / 80 (20 → 25, 10 → 25/2).
    hand = {
        "completion": (Fraction(12, 18), Fraction(2000, 80)),    # 12 verified of 73 × 90 / 365 = 18
        "verification": (Fraction(12, 15), Fraction(2000, 80)),  # 12 / (12 + 2 + 1)
        "confirmation": (Fraction(3, 4), Fraction(2000, 80)),    # 3 / (3 + 1); unreachable and open left out
        "satisfaction": (Fraction(12, 15), Fraction(1000, 80)),  # (5 + 4 + 3) / (5 × 3)
        "violations": (Fraction(60, 100), Fraction(1000, 80)),   # 100 − 2 × 20
    }
    total = Fraction(0)
    for key, (rate, weight) in hand.items():
        part = parts[key]
        assert part["applicable"], key
        assert Fraction(part["rate"]) == rate, key
        assert Fraction(part["effective_weight"]) == weight, key
        assert Fraction(part["points"]) == rate * weight, key
        total += rate * weight
    # 2/3 × 25 + 4/5 × 25 + 3/4 × 25 + 4/5 × 25/2 + 3/5 × 25/2
    # = 50/3 + 20 + 75/4 + 10 + 15/2 = 200/12 + 675/12 = 875/12
    assert total == Fraction(875, 12)  # 72.9166…
    assert score_centi == 7292
    assert not parts["recheck"]["applicable"] and parts["recheck"]["points"] is None
    assert not parts["care_plans"]["applicable"] and parts["care_plans"]["points"] is None
    assert not parts["complaints"]["applicable"] and parts["complaints"]["raw"] == {"found": 0, "upheld": 0, "step": 20}
    assert parts["care_plans"]["raw"] == {"person_months": 0, "delivered_in_full": 0, "missed": 0}
    assert parts["completion"]["raw"]["days_in_quarter"] == 90 and parts["completion"]["raw"]["period_days"] == 365
    assert parts["completion"]["raw"]["items"][0]["delivered"] == 12
    assert parts["completion"]["raw"]["expected"] == "18/1"
    assert parts["verification"]["raw"] == {"verified": 12, "exception": 2, "rejected": 1, "pending": 1}
    assert parts["confirmation"]["raw"] == {"confirmed": 3, "not_confirmed": 1, "unreachable": 1, "open": 1}
    assert parts["satisfaction"]["raw"]["average"] == "4.00"
    assert parts["violations"]["raw"]["counted"] == 2
    assert [parts[k]["points_text"] for k in hand] == ["16.67", "20.00", "18.75", "10.00", "7.50"]
    assert [parts[k]["rate_percent"] for k in hand] == ["66.67", "80.00", "75.00", "80.00", "60.00"]


def test_rounding_is_half_up_once_and_violations_never_go_below_zero(app, world):
    assert scorecards.half_up(Fraction(1, 2)) == 1 and scorecards.half_up(Fraction(49, 100)) == 0
    assert scorecards.percent_text(Fraction(1, 8)) == "12.50" and scorecards.percent_text(Fraction(2, 3)) == "66.67"
    assert scorecards.centi_text(7296) == "72.96" and scorecards.centi_text(5) == "0.05"
    contract_id = world["a_contract"]
    with app.app_context(), scope(app):
        for n in range(6):
            db.session.add(Violation(kind="unlisted_worker", contract_id=contract_id, occurred_on=date(2025, 2, 1),
                                     status="open", dedupe_key=f"many-{n}"))
        db.session.commit()
    _id, score_centi, parts = compute(app, contract_id)
    assert parts["violations"]["rate"] == "0/1"
    # No visits, no checks, and a contract period (180 days around today) that misses 2025-Q1: only
    # the violations component applies, and it scores nothing.
    assert [parts[k]["applicable"] for k in scorecards.COMPONENTS] == [False] * 4 + [True, False, False, False]
    assert parts["violations"]["effective_weight"] == "100/1" and score_centi == 0


def test_tenant_weights_are_used_and_missing_components_share_out_their_weight(app, world):
    from portal.tenancy.models import Tenant
    contract_id = small_quarter(app, world)
    with support.as_platform(app):
        tenant = db.session.get(Tenant, support.World(app).tenant_id("ganxian"))
        tenant.settings = {"scorecard_weights": {"completion": 50, "verification": 0, "confirmation": 0,
                                                 "satisfaction": 0, "violations": 50, "recheck": "bad"}}
        db.session.commit()
    _id, score_centi, parts = compute(app, contract_id)
    # recheck falls back to its default (10), care plans and complaints (not set) to theirs (5), but none is
    # applicable: 50 and 50 share the 100 points.
    assert parts["recheck"]["weight"] == 10 and parts["care_plans"]["weight"] == 5
    assert parts["complaints"]["weight"] == 5 and not parts["complaints"]["applicable"]
    assert parts["completion"]["effective_weight"] == "50/1"
    assert score_centi == 6333  # 2/3 × 50 + 3/5 × 50 = 63.333…


def test_recompute_replaces_an_unpublished_scorecard_and_never_a_published_one(app, world, login, run_worker):
    from portal.disclosures import Disclosure
    contract_id = small_quarter(app, world)
    card_id, first, _parts = compute(app, contract_id)
    with app.app_context(), scope(app):  # one more violation confirmed later in the quarter
        db.session.add(Violation(kind="two_rosters", contract_id=contract_id, occurred_on=date(2025, 3, 2),
                                 status="confirmed", dedupe_key="later"))
        db.session.commit()
    supervisor = login("gx-supervisor")
    page = supervisor.get(f"/supervision/scorecards/{card_id}")
    token = support.csrf_token_from(page.get_data(as_text=True))
    assert supervisor.post(f"/supervision/scorecards/{card_id}/recompute", data={"csrf_token": token}).status_code == 302
    with app.app_context(), scope(app):
        cards = db.session.scalars(select(Scorecard)).all()
        assert [c.id for c in cards] == [card_id] and cards[0].score_centi < first
        recomputed = cards[0].score_centi
    # Only the officer publishes.
    assert supervisor.post(f"/supervision/scorecards/{card_id}/publish", data={"csrf_token": token}).status_code == 403
    officer = login("gx-officer")
    page = officer.get(f"/supervision/scorecards/{card_id}")
    assert page.status_code == 200 and scorecards.centi_text(recomputed) in page.get_data(as_text=True)
    officer_token = support.csrf_token_from(page.get_data(as_text=True))
    assert officer.post(f"/supervision/scorecards/{card_id}/publish",
                        data={"csrf_token": officer_token}).status_code == 302
    with support.as_platform(app):
        disclosure = db.session.scalars(select(Disclosure).where(Disclosure.kind == "scorecard")).one()
        card = db.session.get(Scorecard, card_id)
        assert card.published_at is not None and card.disclosure_id == disclosure.id
        assert scorecards.centi_text(recomputed) in disclosure.body and QUARTER in disclosure.body
        assert disclosure.data["score_centi"] == recomputed
        for private in ("刘桂英", "陈德福", "黄秀兰", "13979700001"):
            assert private not in disclosure.body and private not in str(disclosure.data)
    # Published: neither the button, nor the quarter's recomputation, nor the job change it.
    with app.app_context(), scope(app):
        db.session.add(Violation(kind="two_rosters", contract_id=contract_id, occurred_on=date(2025, 3, 3),
                                 status="confirmed", dedupe_key="later-2"))
        db.session.commit()
    assert supervisor.post(f"/supervision/scorecards/{card_id}/recompute", data={"csrf_token": token}).status_code == 302
    assert support.form_post(supervisor, "/supervision/scorecards/compute", {"quarter": QUARTER},
                             token_url="/supervision/scorecards/").status_code in (302, 422)
    from portal.jobs.queue import enqueue
    with app.app_context(), scope(app):
        enqueue("supervision.compute_scorecards", quarter=QUARTER)
        db.session.commit()
    run_worker()
    assert officer.post(f"/supervision/scorecards/{card_id}/publish",
                        data={"csrf_token": officer_token}).status_code == 302
    with support.as_platform(app):
        card = db.session.get(Scorecard, card_id)
        assert card.score_centi == recomputed
        assert db.session.execute(select(func.count()).select_from(Disclosure)).scalar_one() == 1


def test_the_job_computes_the_quarter_and_the_page_explains_every_component(app, world, login, run_worker):
    from portal.jobs.queue import enqueue
    contract_id = small_quarter(app, world)
    with app.app_context(), scope(app):
        enqueue("supervision.compute_scorecards", quarter=QUARTER)
        db.session.commit()
    run_worker()
    with app.app_context(), scope(app):
        card = db.session.scalars(select(Scorecard).where(Scorecard.contract_id == contract_id)).one()
        card_id, score = card.id, card.score_centi
    assert score == 7292
    page = login("gx-auditor").get(f"/supervision/scorecards/{card_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "72.92" in html
    for key in scorecards.COMPONENTS:
        assert f'id="component-{key}"' in html
    for shown in ("16.67", "66.67", "25.00", "7.50"):  # completion's points, rate, weight applied; violations' points
        assert shown in html
    assert "本季度没有针对该服务机构的公众投诉作出认定（属实或不属实）。" in html  # the complaints component explained
    assert "/recompute" not in html and "/publish" not in html  # the auditor changes nothing
    listing = login("gx-supervisor").get(f"/supervision/scorecards/?quarter={QUARTER}").get_data(as_text=True)
    assert "72.92" in listing
    refused = support.form_post(login("gx-supervisor"), "/supervision/scorecards/compute", {"quarter": "2025-Q5"},
                                token_url="/supervision/scorecards/")
    assert refused.status_code == 422


# --- closing periods (issue 12 point 4): no scorecard before its quarter ends -------------------------

def test_a_quarter_is_scored_only_from_the_day_after_it_ends(app, world):
    """The service refuses the quarter up to its last day (Beijing time) and names the first allowed
    date; the next morning it computes."""
    from portal.contracts.models import Contract
    from portal.core.errors import DomainError
    from portal.tenancy.models import Tenant
    contract_id = small_quarter(app, world)
    last_evening = datetime(2025, 3, 31, 23, 30, tzinfo=LOCAL_TZ)
    next_morning = datetime(2025, 4, 1, 0, 30, tzinfo=LOCAL_TZ)
    with app.app_context(), scope(app):
        contract = db.session.get(Contract, contract_id)
        tenant = db.session.get(Tenant, contract.tenant_id)
        for refused in (lambda: scorecards.compute(contract, QUARTER, tenant=tenant, now=last_evening),
                        lambda: scorecards.compute_quarter(QUARTER, tenant=tenant, now=last_evening)):
            with pytest.raises(DomainError) as caught:
                refused()
            assert "2025-04-01" in caught.value.message and caught.value.errors["quarter"]
        assert db.session.execute(select(func.count()).select_from(Scorecard)).scalar_one() == 0
        assert scorecards.compute(contract, QUARTER, tenant=tenant, now=next_morning).score_centi == 7292


def test_the_form_and_the_job_refuse_the_current_quarter_with_the_first_allowed_date(app, world, login, run_worker):
    from portal.core.timeutil import local_today
    from portal.jobs.models import JobRun
    from portal.jobs.queue import enqueue
    small_quarter(app, world)
    current = scorecards.quarter_of(local_today())
    allowed = scorecards.first_allowed_day(current).isoformat()
    supervisor = login("gx-supervisor")
    listing = supervisor.get("/supervision/scorecards/").get_data(as_text=True)
    assert f'value="{current}"' not in listing.split('name="quarter"')[1].split("</select>")[0]  # not offered
    refused = support.form_post(supervisor, "/supervision/scorecards/compute", {"quarter": current},
                                token_url="/supervision/scorecards/")
    assert refused.status_code == 422 and allowed in refused.get_data(as_text=True)
    with app.app_context(), scope(app):
        run_id = enqueue("supervision.compute_scorecards", quarter=current).id
        db.session.commit()
    run_worker()
    with app.app_context(), scope(app):
        run = db.session.get(JobRun, run_id)
        assert allowed in run.progress_note
        assert db.session.execute(select(func.count()).select_from(Scorecard)).scalar_one() == 0


# --- care plans delivered in full (issue 19 point 4) ----------------------------------------------

def _plan(app, contract_id, person_id, services, effective_from, *, status="approved", version=1):
    """A needs assessment and a care plan of ``person_id`` made with the models (status given)."""
    from portal.careplans.models import CarePlan, NeedsAssessment
    from portal.contracts.models import Contract
    with app.app_context(), scope(app):
        contractor_id = db.session.get(Contract, contract_id).contractor_id
        needs = NeedsAssessment(beneficiary_id=person_id, contract_id=contract_id, contractor_id=contractor_id,
                                assessed_on=effective_from, scores={"health": 3}, notes={})
        db.session.add(needs)
        db.session.flush()
        db.session.add(CarePlan(beneficiary_id=person_id, contract_id=contract_id, contractor_id=contractor_id,
                                needs_assessment_id=needs.id, version=version, care_class="partial", services=services,
                                in_person_per_month=1, effective_from=effective_from, status=status))
        db.session.commit()


def _care_visits(app, contract_id, person_id, month, services, count=1, *, status="verified", away=False):
    """``count`` visits (add_visits) carrying ``services``; ``away``: each with a V02 finding (checked
    in away from home), accepted — verified, but not a visit in person."""
    from portal.visits.models import Visit, VisitException
    ids = add_visits(app, contract_id, person_id, "a-worker1", count, month=month, status=status)
    with app.app_context(), scope(app):
        for visit_id in ids:
            db.session.get(Visit, visit_id).services = list(services)
            if away:
                db.session.add(VisitException(visit_id=visit_id, code="V02", message="away", status="accepted"))
        db.session.commit()
    return ids


def test_care_plans_count_the_person_months_delivered_in_full_from_verified_visits(app, world):
    """刘桂英's plan (2 daily watches, 1 visit in person a month) is in force all quarter: January 2
    verified visits (in full), February 1 verified and 1 pending (short), March 2 (in full).
    陈德福's plan (1 counselling) starts in February: February's one counselling was verified but
    checked in away from home (V02) — delivered, yet no visit in person, so missed; March in full.
    黄秀兰's plan is only a draft: not in force. 3 of 5 person-months in full: rate 3/5."""
    from portal.contracts.models import Contract
    contract_id, people = world["a_contract"], world["people"]
    with app.app_context(), scope(app):
        contract = db.session.get(Contract, contract_id)
        contract.starts_on, contract.ends_on = date(2025, 1, 1), date(2025, 12, 31)
        # a person-month counts only while the person is assigned to the contract: from the start
        from portal.contracts.models import Assignment
        for assignment in db.session.scalars(select(Assignment).where(Assignment.contract_id == contract_id)):
            assignment.from_on, assignment.until_on = date(2025, 1, 1), None
        db.session.commit()
    _plan(app, contract_id, people["刘桂英"], {"daily_watch": 2}, date(2025, 1, 1))
    _plan(app, contract_id, people["陈德福"], {"counselling": 1}, date(2025, 2, 1))
    _plan(app, contract_id, people["黄秀兰"], {"daily_watch": 4}, date(2025, 1, 1), status="draft")
    _care_visits(app, contract_id, people["刘桂英"], date(2025, 1, 1), ["daily_watch"], 2)
    _care_visits(app, contract_id, people["刘桂英"], date(2025, 2, 1), ["daily_watch"], 1)
    _care_visits(app, contract_id, people["刘桂英"], date(2025, 2, 1), ["daily_watch"], 1, status="pending")
    _care_visits(app, contract_id, people["刘桂英"], date(2025, 3, 1), ["daily_watch", "counselling"], 2)
    _care_visits(app, contract_id, people["陈德福"], date(2025, 2, 1), ["counselling"], 1, away=True)
    _care_visits(app, contract_id, people["陈德福"], date(2025, 3, 1), ["counselling"], 1)
    _care_visits(app, contract_id, people["黄秀兰"], date(2025, 3, 1), [], 1)  # no plan in force: not counted
    _id, score_centi, parts = compute(app, contract_id)
    care = parts["care_plans"]
    assert care["applicable"] and care["weight"] == 5
    assert care["raw"] == {"person_months": 5, "delivered_in_full": 3, "missed": 2}
    assert Fraction(care["rate"]) == Fraction(3, 5) and care["rate_percent"] == "60.00"
    # Also applicable: completion, verification (8 verified, 1 pending), violations (none): weights
    # 20 + 20 + 10 + 5 = 55 stretched to 100, so care plans weigh 5 × 100 / 55 = 100/11.
    assert [k for k in scorecards.COMPONENTS if parts[k]["applicable"]] == ["completion", "verification",
                                                                           "violations", "care_plans"]
    assert Fraction(care["effective_weight"]) == Fraction(100, 11)
    assert Fraction(care["points"]) == Fraction(3, 5) * Fraction(100, 11) and care["points_text"] == "5.45"
    # one more visit in person for 陈德福 in February: that month is delivered in full too (4 of 5)
    _care_visits(app, contract_id, people["陈德福"], date(2025, 2, 1), [], 1)
    _id, _score, parts = compute(app, contract_id)
    assert parts["care_plans"]["raw"]["delivered_in_full"] == 4 and parts["care_plans"]["rate"] == "4/5"


def _feedback(contractor_id, received, upheld, status="answered", n=[0], answered=None):
    from portal.feedback.models import FeedbackItem
    n[0] += 1
    return FeedbackItem(tracking_number=f"FKSC{n[0]:08d}", topic="contractor", contractor_id=contractor_id,
                        text="投诉", status=status, received_at=received, due_on=received.date(), upheld=upheld,
                        answered_at=(answered or received) if status == "answered" else None)


def test_complaints_lose_twenty_points_per_complaint_upheld_in_the_quarter_of_its_finding(app, world):
    """About A's contractor, findings made in 2025-Q1 (answered_at, Beijing days): 3 not upheld and
    2 upheld on 10 February, 1 received on 30 December 2024 and upheld on 5 January, 1 upheld at
    23:30 on 31 March (15:30 UTC). Left out: one received on 28 March and upheld at 00:30 on 1 April
    Beijing time (still 31 March in UTC: it counts in Q2), an answer with no finding (not a
    complaint), an upheld item not answered yet and one about another contractor. 7 found, 4
    upheld: rate = max(0, 100 − 20 × 4) / 100 = 1/5 (the old 1 − upheld / found gave 3/7)."""
    from portal.contractors.models import Contractor
    from portal.contracts.models import Contract
    contract_id = small_quarter(app, world)
    with app.app_context(), scope(app):
        contractor_id = db.session.get(Contract, contract_id).contractor_id
        other = db.session.scalar(select(Contractor.id).where(Contractor.id != contractor_id))
        day = datetime(2025, 2, 10, 10, tzinfo=LOCAL_TZ)
        rows = [_feedback(contractor_id, day, False) for _i in range(3)]
        rows += [_feedback(contractor_id, day, True) for _i in range(2)]
        rows += [_feedback(contractor_id, datetime(2024, 12, 30, 9, tzinfo=LOCAL_TZ), True,
                           answered=datetime(2025, 1, 5, 9, tzinfo=LOCAL_TZ)),
                 _feedback(contractor_id, datetime(2025, 3, 31, 20, tzinfo=LOCAL_TZ), True,
                           answered=datetime(2025, 3, 31, 23, 30, tzinfo=LOCAL_TZ)),
                 _feedback(contractor_id, datetime(2025, 3, 28, 9, tzinfo=LOCAL_TZ), True,
                           answered=datetime(2025, 4, 1, 0, 30, tzinfo=LOCAL_TZ)),
                 _feedback(contractor_id, day, None), _feedback(contractor_id, day, True, status="assigned"),
                 _feedback(other, day, True)]
        db.session.add_all(rows)
        db.session.commit()
    _id, score_centi, parts = compute(app, contract_id)
    complaints = parts["complaints"]
    assert complaints["raw"] == {"found": 7, "upheld": 4, "step": 20} and complaints["rate"] == "1/5"
    assert complaints["applicable"]
    # Applicable now: the five of the by-hand quarter and complaints, 85 of weight stretched to 100
    # (20 → 400/17, 10 → 200/17, 5 → 100/17): 2/3 × 400/17 + 4/5 × 400/17 + 3/4 × 400/17
    # + 4/5 × 200/17 + 3/5 × 200/17 + 1/5 × 100/17 = (800/3 + 320 + 300 + 160 + 120 + 20)/17 = 3560/51
    assert Fraction(complaints["effective_weight"]) == Fraction(100, 17) and complaints["points_text"] == "1.18"
    assert score_centi == 6980  # 69.803…
    # the complaint received in March and upheld on 1 April counts in Q2, alone: 100 − 20 = 80 %
    assert compute(app, contract_id, "2025-Q2")[2]["complaints"]["raw"] == {"found": 1, "upheld": 1, "step": 20}
    assert compute(app, contract_id, "2025-Q2")[2]["complaints"]["rate"] == "4/5"
    with app.app_context(), scope(app):  # two more upheld in Q1: 6 × 20 points, never below 0
        db.session.add_all([_feedback(contractor_id, day, True) for _i in range(2)])
        db.session.commit()
    complaints = compute(app, contract_id)[2]["complaints"]
    assert complaints["raw"]["upheld"] == 6 and complaints["rate"] == "0/1" and complaints["applicable"]


def test_complaints_apply_with_findings_all_not_upheld_and_not_without_a_finding(app, world):
    """Only not-upheld findings in the quarter: applicable, 100 %; only answers without a finding
    (not a complaint) and upheld items still unanswered: not applicable."""
    from portal.contracts.models import Contract
    contract_id = small_quarter(app, world)
    with app.app_context(), scope(app):
        contractor_id = db.session.get(Contract, contract_id).contractor_id
        day = datetime(2025, 2, 10, 10, tzinfo=LOCAL_TZ)
        db.session.add_all([_feedback(contractor_id, day, None), _feedback(contractor_id, day, True, status="assigned")])
        db.session.commit()
    complaints = compute(app, contract_id)[2]["complaints"]
    assert not complaints["applicable"] and complaints["raw"] == {"found": 0, "upheld": 0, "step": 20}
    with app.app_context(), scope(app):
        db.session.add(_feedback(contractor_id, day, False))
        db.session.commit()
    complaints = compute(app, contract_id)[2]["complaints"]
    assert complaints["applicable"] and complaints["rate"] == "1/1" and complaints["raw"]["found"] == 1


def test_the_score_sheet_prints_with_its_components_signatures_and_seals(app, world, login):
    contract_id = small_quarter(app, world)
    card_id, score_centi, _parts = compute(app, contract_id)
    detail = login("gx-supervisor").get(f"/supervision/scorecards/{card_id}").get_data(as_text=True)
    assert f"/supervision/scorecards/{card_id}/print" in detail
    page = login("gx-officer").get(f"/supervision/scorecards/{card_id}/print")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'class="print-page scorecard-print"' in html and 'class="site-nav"' not in html and "<form" not in html
    assert scorecards.centi_text(score_centi) in html and 'id="component-completion"' in html
    assert 'id="signatures"' in html and html.count('class="seal-box"') == 2
    assert '<td class="num">' in html
    assert login("b-manager", tenant="ganxian").get(f"/supervision/scorecards/{card_id}/print").status_code in (403, 404)
