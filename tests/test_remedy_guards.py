"""What may follow an upheld challenge, and what stays in force meanwhile: no remedy while a signed
contract of the award stands (财政部94号令 §32(二)); the checks repeated on the locked award (two
officers at once); the next-ranked bidder only while the qualified bids left reach the legal number
(94号令 §16(二)); the other lots' contracts and the bidders' own standing while one lot is evaluated
again; an open challenge against a cancelled award is no longer due."""
import os
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from portal.core.errors import Conflict, DomainError
from portal.core.timeutil import local_today, utcnow
from portal.extensions import db
from tests import contract_world as cw
from tests import support
from tests.tender_world import (confirm_award, four_scored_bids, make_tender, tenant_id, three_scored_bids,
                                two_lots_four_scored_bids)


def _scope(app):
    from portal.tenancy.scope import tenant_scope
    return tenant_scope(tenant_id(app, "ganxian"))


def _upheld(award, challenger="甲社工服务中心"):
    from portal.tenders import awards
    challenge = awards.record_challenge(award, challenger=challenger, grounds="中标人人员资格不符",
                                        may_change_result=True, now=utcnow())
    awards.answer_challenge(challenge, outcome="upheld", answer="经复核，质疑成立。", now=utcnow())
    return challenge


def test_a_signed_contract_blocks_every_remedy_until_it_is_terminated(app, demo, login):
    from portal.contracts import services
    from portal.contracts.models import Contract
    from portal.tenders import remedies
    from portal.tenders.models import Award, Challenge
    world = four_scored_bids(app)
    award_id = confirm_award(app, world["lot"])
    # signed before any challenge was received (the award notice was published today)
    contract_id = cw.signed(app, {"award": award_id}, on=local_today())
    with app.app_context(), _scope(app):
        challenge = _upheld(db.session.get(Award, award_id))
        db.session.commit()
        number = db.session.get(Contract, contract_id).number
        assert remedies.remedy_choices(challenge) == []
        for remedy in remedies.REMEDIES:
            with pytest.raises(DomainError) as refused:
                remedies.choose_remedy(challenge, remedy, utcnow())
            assert number in refused.value.message and "撤销/终止" in refused.value.message
            assert db.session.get(Award, award_id).status == "active"
        challenge_id = challenge.id
    # the award page says why no choice is offered, and a posted choice is refused with that reason
    officer = login("gx-officer")
    award_page = f"/tenders/awards/{award_id}"
    assert "撤销/终止合同" in officer.get(award_page).get_data(as_text=True)
    response = support.form_post(officer, f"/tenders/challenges/{challenge_id}/remedy",
                                 {f"c{challenge_id}-remedy": "retender"}, token_url=award_page, follow_redirects=True)
    assert response.status_code == 200 and "撤销/终止合同" in response.get_data(as_text=True)
    with app.app_context(), _scope(app):
        assert db.session.get(Award, award_id).status == "active"
        services.terminate(db.session.get(Contract, contract_id), local_today(), "质疑成立，依法终止合同", 0)
        db.session.commit()
        challenge = db.session.get(Challenge, challenge_id)
        assert remedies.remedy_choices(challenge) == ["re_evaluate", "next_ranked", "retender"]
        new = remedies.choose_remedy(challenge, "next_ranked", utcnow())
        assert new.contractor_id == world["contractors"][2]["id"]
        db.session.commit()


def test_the_remedy_is_checked_again_on_the_locked_award_not_on_what_the_session_read_before(app, demo):
    """The officer's page read the challenge before another officer's choice was committed: the
    choice is refused on the row as it stands, and nothing changes."""
    from portal.tenders import remedies
    from portal.tenders.models import Award, Challenge
    world = four_scored_bids(app)
    award_id = confirm_award(app, world["lot"])
    with app.app_context(), _scope(app):
        challenge_id = _upheld(db.session.get(Award, award_id)).id
        db.session.commit()
    with app.app_context(), _scope(app):
        stale = db.session.get(Challenge, challenge_id)
        assert stale.remedy == "" and stale.award.status == "active"  # loaded, then changed elsewhere:
        db.session.execute(text("UPDATE challenge SET remedy = 'retender' WHERE id = :id"), {"id": challenge_id})
        assert stale.remedy == ""
        with pytest.raises(DomainError, match="已经确定"):
            remedies.choose_remedy(stale, "next_ranked", utcnow())
        assert db.session.execute(select(Award).where(Award.lot_id == world["lot"])).scalars().all() == [stale.award]
        db.session.rollback()
    with app.app_context(), _scope(app):
        stale = db.session.get(Challenge, challenge_id)
        _ = stale.award.status
        db.session.execute(text("UPDATE award SET status = 'cancelled' WHERE id = :id"), {"id": award_id})
        with pytest.raises(DomainError, match="已被撤销|已经撤销|撤销"):
            remedies.choose_remedy(stale, "re_evaluate", utcnow())
        db.session.rollback()


def test_a_second_award_in_force_of_one_lot_is_a_conflict_not_a_server_error(app, demo):
    from portal.tenders import awards, evaluation
    from portal.tenders.models import Award, Lot
    world = four_scored_bids(app)
    confirm_award(app, world["lot"])
    with app.app_context(), _scope(app):
        lot = db.session.get(Lot, world["lot"])
        second = evaluation.ranking(lot)[1]
        with pytest.raises(Conflict):
            awards.publish_award(lot, second, utcnow())
        db.session.rollback()
        assert len(db.session.execute(select(Award).where(Award.lot_id == lot.id)).scalars().all()) == 1


def test_two_corrections_of_one_award_do_not_break_the_public_notice(app, demo, client):
    """Two awards naming the same cancelled one (a race before the lock): the notice page still
    answers, pointing at the first correction."""
    from portal.disclosures import Disclosure
    from portal.tenders import remedies
    from portal.tenders.models import Award, Challenge
    world = four_scored_bids(app)
    award_id = confirm_award(app, world["lot"])
    with app.app_context(), _scope(app):
        challenge = _upheld(db.session.get(Award, award_id))
        new = remedies.choose_remedy(challenge, "next_ranked", utcnow())
        db.session.flush()
        twin = Award(lot_id=new.lot_id, bid_id=new.bid_id, contractor_id=new.contractor_id, amount_fen=new.amount_fen,
                     total_centipoints=new.total_centipoints, confirmed_on=new.confirmed_on,
                     challenge_until=new.challenge_until, created_at=utcnow(), status="cancelled",
                     supersedes_id=award_id)
        db.session.add(twin)
        db.session.commit()
        first_notice = db.session.execute(select(Disclosure).where(Disclosure.kind == "award_result",
                                                                   Disclosure.subject_id == award_id)).scalar_one()
        assert remedies.correction_of(first_notice) is not None
        notice_id = first_notice.id
        assert db.session.get(Challenge, challenge.id).remedy == "next_ranked"
    assert client.get(f"/public/ganxian/notices/{notice_id}").status_code == 200


def test_with_three_bids_the_next_ranked_bidder_is_not_offered_and_refused(app, demo, login):
    """Open tender, three valid bids: after the winner only two are left, fewer than the 3 the law
    requires (94号令 §16(二)); re-evaluation or a new tender only, and the page says why."""
    from portal.tenders import remedies
    from portal.tenders.models import Award, Challenge
    world = three_scored_bids(app)
    award_id = confirm_award(app, world["lot"])
    with app.app_context(), _scope(app):
        challenge = _upheld(db.session.get(Award, award_id))
        db.session.commit()
        assert remedies.remedy_choices(challenge) == ["re_evaluate", "retender"]
        with pytest.raises(DomainError, match="少于法定"):
            remedies.choose_remedy(challenge, "next_ranked", utcnow())
        assert db.session.get(Award, award_id).status == "active"
        assert db.session.get(Challenge, challenge.id).remedy == ""
        db.session.rollback()
    page = login("gx-officer").get(f"/tenders/awards/{award_id}").get_data(as_text=True)
    assert "重新评审" in page and "依次确定排名下一位的合格候选人为中标人" not in page
    assert "少于法定" in page


def test_re_evaluating_one_lot_leaves_the_other_lots_contract_due_and_hides_its_own_standing(app, demo):
    from portal.contracts.services import awards_awaiting_contract, get_award_for_contract
    from portal.dashboard.agenda import officer_agenda
    from portal.tenders import awards, remedies
    from portal.tenders.documents import own_standing
    from portal.tenders.models import Bid, Lot, Tender
    tender, bids = two_lots_four_scored_bids(app)  # 4 bids: 3 qualified left after the winner
    lot1, lot2 = tender["lots"]
    with app.app_context(), _scope(app):
        first = awards.confirm_award(db.session.get(Lot, lot1), utcnow())
        second = awards.confirm_award(db.session.get(Lot, lot2), utcnow())
        assert db.session.get(Tender, tender["tender"]).status == "awarded"
        own = db.session.get(Bid, bids[lot1][0])
        assert own_standing(own) is not None  # the result is out: 甲 sees its rank
        remedies.choose_remedy(_upheld(first), "re_evaluate", utcnow())
        db.session.commit()
        assert db.session.get(Tender, tender["tender"]).status == "evaluation"
        # lot 2's award stays in force: its contract is still due and may be drafted
        assert [a.id for a in awards_awaiting_contract()] == [second.id]
        assert get_award_for_contract(second.id).id == second.id
        due = [i for i in officer_agenda(utcnow()) if i["kind"] == "contract"]
        assert len(due) == 1
        # lot 1 is evaluated again: no live rank for its bidders; lot 2's still shows
        assert own_standing(db.session.get(Bid, bids[lot1][0])) is None
        assert own_standing(db.session.get(Bid, bids[lot2][0])) is not None
        with pytest.raises(DomainError):
            get_award_for_contract(first.id)


def test_an_open_challenge_against_a_cancelled_award_is_not_listed_as_due(app, demo):
    from portal.dashboard.agenda import officer_agenda
    from portal.tenders import awards, remedies
    from portal.tenders.models import Award
    world = four_scored_bids(app)
    award_id = confirm_award(app, world["lot"])
    with app.app_context(), _scope(app):
        award = db.session.get(Award, award_id)
        other = awards.record_challenge(award, challenger="丁社会服务中心", grounds="评分有误", may_change_result=True,
                                        now=utcnow())
        challenges = [i for i in officer_agenda(utcnow()) if i["kind"] == "challenge"]
        assert [i["award_id"] for i in challenges] == [award_id]
        remedies.choose_remedy(_upheld(award), "re_evaluate", utcnow() + timedelta(minutes=1))
        db.session.commit()
        assert other.status == "open"
        assert [i for i in officer_agenda(utcnow()) if i["kind"] == "challenge"] == []


def test_a_re_tender_reusing_the_intention_is_an_ocds_process_of_its_own(app, demo):
    """Only the intention's first tender continues the intention's planning process (its ocid);
    the re-tender of a failed process gets its own ocid."""
    from datetime import date

    from portal.opendata.models import OcdsRelease
    from portal.opendata.ocids import intention_ocid, ocid_prefix, tender_ocid
    from portal.tenancy.models import Tenant
    from portal.tenders.models import PurchaseIntention, Tender
    first_id = make_tender(app, status="failed")["tender"]
    copy_id = make_tender(app, status="draft")["tender"]
    with app.app_context(), _scope(app):
        first, copy = db.session.get(Tender, first_id), db.session.get(Tender, copy_id)
        tenant = db.session.get(Tenant, first.tenant_id)
        intention = PurchaseIntention(budget_line_id=first.budget_line_id, title=first.title, budget_fen=first.budget_fen,
                                      expected_month=date(2026, 6, 1), published_at=utcnow() - timedelta(days=90))
        db.session.add(intention)
        db.session.flush()
        planning = f"{ocid_prefix(tenant)}-p{intention.id}"
        db.session.add(OcdsRelease(ocid=planning, release_id=f"{planning}-planning", tags=["planning"], data={}))
        first.intention_id = copy.intention_id = intention.id
        copy.retender_of_id = first.id
        db.session.flush()
        assert tender_ocid(first, tenant) == planning
        assert tender_ocid(copy, tenant) == f"{ocid_prefix(tenant)}-t{copy.id}" != planning
        assert intention_ocid(intention, tenant) == planning
        db.session.rollback()


@pytest.mark.skipif(os.environ.get("PORTAL_TEST_DB", "sqlite") != "postgresql", reason="PostgreSQL's row locks")
def test_two_officers_choosing_at_once_one_wins_and_the_other_is_told(app, demo):
    """A has chosen the next-ranked bidder and not committed yet; B, who read the challenge before,
    chooses re-evaluation: B waits for A's lock on the award, then is refused on the committed
    state. One new award, the lot awarded, nothing of B's choice."""
    from portal.tenancy.scope import tenant_scope
    from portal.tenders import remedies
    from portal.tenders.models import Award, Challenge, Lot
    world = four_scored_bids(app)
    award_id = confirm_award(app, world["lot"])
    gx = tenant_id(app, "ganxian")
    with app.app_context(), _scope(app):
        challenge_id = _upheld(db.session.get(Award, award_id)).id
        db.session.commit()
    read, chosen = threading.Barrier(2), threading.Event()
    outcome = {}

    def officer(name, remedy):
        try:
            with app.app_context(), tenant_scope(gx):
                challenge = db.session.get(Challenge, challenge_id)
                assert challenge.remedy == "" and challenge.award.status == "active"
                read.wait(timeout=30)
                if name == "B":
                    chosen.wait(timeout=30)
                try:
                    remedies.choose_remedy(challenge, remedy, utcnow())
                except DomainError as refused:
                    outcome[name] = refused.message
                    db.session.rollback()
                    return
                chosen.set()
                time.sleep(0.5)  # B is waiting for the award's lock meanwhile
                db.session.commit()
                outcome[name] = "ok"
        except Exception as exc:  # reported below
            outcome[name] = repr(exc)
            chosen.set()

    threads = [threading.Thread(target=officer, args=("A", "next_ranked")),
               threading.Thread(target=officer, args=("B", "re_evaluate"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcome["A"] == "ok" and "已经确定" in outcome["B"], outcome
    with app.app_context(), _scope(app):
        statuses = [a.status for a in db.session.execute(
            select(Award).where(Award.lot_id == world["lot"]).order_by(Award.id)).scalars()]
        assert statuses == ["cancelled", "active"]
        assert db.session.get(Lot, world["lot"]).status == "awarded"
        assert db.session.get(Challenge, challenge_id).remedy == "next_ranked"


def test_a_bidder_sees_no_live_rank_while_its_lot_is_evaluated_again(app, demo):
    """Own standing needs a published award of the lot in force: none after re-evaluation is
    chosen (the cancelled award was published), again once the new award is out."""
    from portal.tenders import awards, remedies
    from portal.tenders.documents import own_standing
    from portal.tenders.models import Award, Bid, Lot
    world = four_scored_bids(app)
    award_id = confirm_award(app, world["lot"])
    with app.app_context(), _scope(app):
        own = db.session.get(Bid, world["bids"][0])
        assert own_standing(own) is not None
        remedies.choose_remedy(_upheld(db.session.get(Award, award_id)), "re_evaluate", utcnow())
        db.session.commit()
        assert own_standing(db.session.get(Bid, world["bids"][0])) is None
        awards.confirm_award(db.session.get(Lot, world["lot"]), utcnow())
        db.session.commit()
        assert own_standing(db.session.get(Bid, world["bids"][0])) is not None


def test_the_contract_is_not_listed_as_due_while_a_challenge_that_may_change_the_result_is_open(app, demo):
    """Signing waits for the answer (docs/DOMAIN.md §3): the agenda lists the challenge to answer, not
    the contract to sign, until the challenge is answered."""
    from portal.dashboard.agenda import officer_agenda
    from portal.tenders import awards
    from portal.tenders.models import Award
    world = three_scored_bids(app)
    award_id = confirm_award(app, world["lot"])
    with app.app_context(), _scope(app):
        kinds = {i["kind"] for i in officer_agenda(utcnow()) if i.get("award_id") in (None, award_id)}
        assert "contract" in kinds
        challenge = awards.record_challenge(db.session.get(Award, award_id), challenger="甲社工服务中心",
                                            grounds="评分有误", may_change_result=True, now=utcnow())
        db.session.flush()
        kinds = [i["kind"] for i in officer_agenda(utcnow())]
        assert "challenge" in kinds and "contract" not in kinds
        awards.answer_challenge(challenge, outcome="dismissed", answer="经复核，质疑不成立。", now=utcnow())
        db.session.flush()
        assert "contract" in [i["kind"] for i in officer_agenda(utcnow())]
        db.session.rollback()
