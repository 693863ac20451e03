"""Challenges (质疑) after the award: the 7-working-day answer listed as due or late (政府采购法
§53), and an upheld challenge changing the result (政府采购质疑和投诉办法 §16): the next-ranked
bidder, re-evaluation or a new tender, the first award cancelled publicly — a corrected notice and
OCDS releases in which the first award is ``cancelled`` and the new one ``active`` — and a contract
only from the result in force."""
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from portal.core.errors import DomainError
from portal.core.timeutil import LOCAL_TZ, utcnow
from portal.extensions import db
from tests import support
from tests.ocds_schema import release_package_errors
from tests.tender_world import four_scored_bids, tenant_id, three_scored_bids

API = "/api/v1/public/ganxian/ocds"


def _scope(app):
    from portal.tenancy.scope import tenant_scope
    return tenant_scope(tenant_id(app, "ganxian"))


@pytest.fixture
def upheld(app, demo):
    """乙 (94.00) awarded over 丙 (91.75), 甲 (91.50) and 丁; 甲's challenge upheld."""
    from portal.tenders import awards
    from portal.tenders.models import Lot
    world = four_scored_bids(app)
    with app.app_context(), _scope(app):
        award = awards.confirm_award(db.session.get(Lot, world["lot"]), utcnow())
        challenge = awards.record_challenge(award, challenger="甲社工服务中心", grounds="中标人人员资格不符",
                                            may_change_result=True, now=utcnow())
        awards.answer_challenge(challenge, outcome="upheld", answer="经复核，质疑成立。", now=utcnow())
        db.session.commit()
        world.update(award=award.id, challenge=challenge.id)
    return world


def _releases(client):
    package = client.get(f"{API}/bulk").get_json()
    assert release_package_errors(package) == []
    return package["releases"]


def test_upheld_challenge_then_the_next_ranked_bidder_gets_a_corrected_notice_and_ocds_release(
        app, upheld, login, client):
    from portal.contracts.services import awards_awaiting_contract
    from portal.disclosures import Disclosure
    from portal.tenders import awards
    from portal.tenders.models import Award, Challenge, Tender
    officer = login("gx-officer")
    award_page = f"/tenders/awards/{upheld['award']}"
    page = officer.get(award_page).get_data(as_text=True)
    assert "依次确定排名下一位的合格候选人为中标人" in page and "重新评审" in page
    response = support.form_post(officer, f"/tenders/challenges/{upheld['challenge']}/remedy",
                                 {f"c{upheld['challenge']}-remedy": "next_ranked"}, token_url=award_page)
    assert response.status_code == 302
    with app.app_context(), _scope(app):
        first = db.session.get(Award, upheld["award"])
        new = db.session.execute(select(Award).where(Award.status == "active")).scalar_one()
        assert first.status == "cancelled" and "质疑成立" in first.cancel_reason
        # 丙 ranked second: 120,000.00 yuan
        assert (new.contractor_id, new.amount_fen, new.supersedes_id) == (
            upheld["contractors"][2]["id"], 12_000_000, first.id)
        assert db.session.get(Challenge, upheld["challenge"]).remedy == "next_ranked"
        assert db.session.get(Tender, upheld["tender"]).status == "awarded"
        # signing: never from the cancelled award, open on the new one
        assert awards.signing_blocked(first)[0] is True
        assert awards.signing_blocked(new) == (False, "")
        assert [a.id for a in awards_awaiting_contract()] == [new.id]
        notices = db.session.execute(select(Disclosure).where(Disclosure.kind == "award_result")
                                     .order_by(Disclosure.id)).scalars().all()
        assert [n.subject_id for n in notices] == [first.id, new.id]
        corrected = notices[1]
        assert corrected.title.startswith("更正后的中标（成交）结果公告")
        assert "已撤销" in corrected.body and "乙养老服务公司" in corrected.body and "丙社会工作事务所" in corrected.body
        assert "经复核，质疑成立。" in corrected.body and "甲社工服务中心" not in corrected.body  # not the challenger
        assert corrected.data["corrects_award"] == first.id
        first_notice_id, corrected_id = notices[0].id, corrected.id
    # the old public notice says it was corrected and links the corrected one
    old_page = client.get(f"/public/ganxian/notices/{first_notice_id}").get_data(as_text=True)
    assert "此结果已更正" in old_page and f"/public/ganxian/notices/{corrected_id}" in old_page
    assert "此结果已更正" not in client.get(f"/public/ganxian/notices/{corrected_id}").get_data(as_text=True)
    # OCDS: the corrected release holds the first award cancelled and the new one active, same lot items
    release = next(r for r in _releases(client) if r["id"].endswith(f"award-{corrected_id}"))
    assert release["tag"] == ["award", "awardCancellation"]
    statuses = {a["id"]: a["status"] for a in release["awards"]}
    assert statuses == {f"award-{upheld['award']}": "cancelled", f"award-{new.id}": "active"}
    assert {tuple(i["id"] for i in a["items"]) for a in release["awards"]} == {("1-CARE-VISIT",)}
    compiled = client.get(f"{API}/records/{release['ocid']}").get_json()["records"][0]["compiledRelease"]
    assert {a["id"]: a["status"] for a in compiled["awards"]} == statuses


def test_upheld_challenge_then_re_evaluation_cancels_publicly_and_the_new_award_corrects_it(app, upheld, client):
    from portal.disclosures import Disclosure
    from portal.tenders import awards, evaluation, remedies
    from portal.tenders.models import Award, Bid, Challenge, Expert, Lot, Tender
    with app.app_context(), _scope(app):
        challenge = db.session.get(Challenge, upheld["challenge"])
        assert remedies.choose_remedy(challenge, "re_evaluate", utcnow()) is None
        db.session.commit()
        lot, tender = db.session.get(Lot, upheld["lot"]), db.session.get(Tender, upheld["tender"])
        assert (lot.status, tender.status, awards.award_of_lot(lot)) == ("open", "evaluation", None)
        cancellation = db.session.execute(select(Disclosure).where(Disclosure.kind == "award_cancellation")).scalar_one()
        assert "予以撤销" in cancellation.body and "重新评审" in cancellation.body
        assert "甲社工服务中心" not in cancellation.body
        # the scores are kept for revision: 甲 gets more technical points from every member and now wins
        a = db.session.get(Bid, upheld["bids"][0])
        for expert_id in upheld["experts"]:
            evaluation.enter_score(a, db.session.get(Expert, expert_id), 4600, 2400)
        new = awards.confirm_award(lot, utcnow())
        db.session.commit()
        assert (new.contractor_id, new.supersedes_id) == (upheld["contractors"][0]["id"], upheld["award"])
        assert db.session.get(Award, upheld["award"]).status == "cancelled"
        assert db.session.get(Tender, upheld["tender"]).status == "awarded"
        cancellation_id = cancellation.id
    releases = _releases(client)
    cancel_release = next(r for r in releases if r["id"].endswith(f"award-cancellation-{cancellation_id}"))
    assert cancel_release["tag"] == ["awardCancellation"]
    assert [(a["id"], a["status"]) for a in cancel_release["awards"]] == [(f"award-{upheld['award']}", "cancelled")]
    latest = max((r for r in releases if "award" in r["tag"]), key=lambda r: r["date"])
    assert latest["tag"] == ["award"]  # the cancellation was already released
    assert {a["id"]: a["status"] for a in latest["awards"]} == {f"award-{upheld['award']}": "cancelled",
                                                                f"award-{new.id}": "active"}


def test_upheld_challenge_then_a_new_tender_reusing_the_purchase_intention(app, upheld, login):
    from portal.tenders import remedies
    from portal.tenders.models import Challenge, Lot, PurchaseIntention, Tender
    with app.app_context(), _scope(app):
        tender = db.session.get(Tender, upheld["tender"])
        intention = PurchaseIntention(budget_line_id=tender.budget_line_id, title=tender.title,
                                      budget_fen=tender.budget_fen, expected_month=date(2026, 6, 1),
                                      published_at=utcnow() - timedelta(days=90))
        db.session.add(intention)
        db.session.flush()
        tender.intention_id = intention.id
        db.session.commit()
        intention_id = intention.id
    officer = login("gx-officer")
    overview = f"/tenders/{upheld['tender']}/evaluation"
    # before any choice, a re-tender is refused (no failed lot)
    assert support.form_post(officer, f"/tenders/{upheld['tender']}/retender", {}, token_url=overview).status_code == 422
    with app.app_context(), _scope(app):
        remedies.choose_remedy(db.session.get(Challenge, upheld["challenge"]), "retender", utcnow())
        db.session.commit()
        assert db.session.get(Lot, upheld["lot"]).status == "failed"
        assert db.session.get(Tender, upheld["tender"]).status == "failed"
    response = support.form_post(officer, f"/tenders/{upheld['tender']}/retender", {}, token_url=overview)
    assert response.status_code == 302
    with app.app_context(), _scope(app):
        copy = db.session.execute(select(Tender).where(Tender.retender_of_id == upheld["tender"])).scalar_one()
        assert copy.status == "draft" and copy.intention_id == intention_id
        # publishing the intention step does not publish it again nor restart its 30 days
        from portal.tenancy.workdays import tenant_calendar
        copy.publish_intention(utcnow(), tenant_calendar())
        assert copy.status == "intention_published"
        assert db.session.get(PurchaseIntention, intention_id).published_at < utcnow() - timedelta(days=80)


def test_a_remedy_is_chosen_once_and_only_after_an_upheld_challenge(app, upheld, demo):
    from portal.tenders import awards, remedies
    from portal.tenders.models import Award, Challenge
    with app.app_context(), _scope(app):
        challenge = db.session.get(Challenge, upheld["challenge"])
        with pytest.raises(DomainError):
            remedies.choose_remedy(challenge, "cancel_everything", utcnow())
        new = remedies.choose_remedy(challenge, "next_ranked", utcnow())
        with pytest.raises(DomainError, match="已经确定"):
            remedies.choose_remedy(challenge, "retender", utcnow())
        # a dismissed challenge against the new award changes nothing
        dismissed = awards.record_challenge(new, challenger="乙养老服务公司", grounds="x", may_change_result=True,
                                            now=utcnow())
        awards.answer_challenge(dismissed, outcome="dismissed", answer="不成立。", now=utcnow())
        with pytest.raises(DomainError, match="只有成立的质疑"):
            remedies.choose_remedy(dismissed, "retender", utcnow())
        # no challenge against the cancelled award any more
        with pytest.raises(DomainError):
            awards.record_challenge(db.session.get(Award, upheld["award"]), challenger="丁", grounds="y",
                                    may_change_result=True, now=utcnow())
        # after 丙 is cancelled too, only 甲 and 丁 are left: fewer than the 3 qualified bids an open
        # tender needs (94号令 §16(二)), so only re-evaluation or a new tender
        upheld_again = awards.record_challenge(new, challenger="甲社工服务中心", grounds="z", may_change_result=True,
                                               now=utcnow())
        awards.answer_challenge(upheld_again, outcome="upheld", answer="成立。", now=utcnow())
        assert remedies.remedy_choices(upheld_again) == ["re_evaluate", "retender"]
        with pytest.raises(DomainError, match="少于法定"):
            remedies.choose_remedy(upheld_again, "next_ranked", utcnow())
        db.session.rollback()


def _agenda_item(app, when, challenge_id):
    from portal.dashboard.agenda import officer_agenda
    with app.app_context(), _scope(app):
        found = [i for i in officer_agenda(when) if i["kind"] == "challenge" and i["award_id"]]
        return found


@pytest.mark.parametrize("today, late", [(date(2026, 12, 9), False), (date(2026, 12, 10), False),
                                         (date(2026, 12, 11), True)])
def test_a_challenge_is_answered_within_7_working_days_and_listed_as_due_then_late(app, demo, login, today, late):
    """Received Tuesday 2026-12-01: 7 working days → Thursday 2026-12-10 (the day before, the
    day, the day after)."""
    from portal.tenders import awards
    from portal.tenders.models import Challenge, Lot
    world = three_scored_bids(app)
    received = datetime.combine(date(2026, 12, 1), time(10), tzinfo=LOCAL_TZ)
    with app.app_context(), _scope(app):
        award = awards.confirm_award(db.session.get(Lot, world["lot"]), utcnow())
        challenge = Challenge(award=award, received_at=received, challenger="甲社工服务中心", grounds="评分有误",
                              may_change_result=True, status="open")
        db.session.add(challenge)
        db.session.commit()
        assert awards.answer_due(challenge) == (date(2026, 12, 10), None)
        challenge_id = challenge.id
    now = datetime.combine(today, time(9), tzinfo=LOCAL_TZ)
    [item] = _agenda_item(app, now, challenge_id)
    assert item["due_on"] == date(2026, 12, 10) and item["late"] is late
    assert "甲社工服务中心" in item["title"]
    officer = login("gx-officer")
    page = officer.get("/tenders/due").get_data(as_text=True)
    assert "答复 甲社工服务中心" in page
    home = officer.get("/").get_data(as_text=True)
    assert '<span class="card-value">1</span> <span class="card-title">待答复的质疑</span>' in home
    # once answered it leaves the list, and the answer is kept
    with app.app_context(), _scope(app):
        awards.answer_challenge(db.session.get(Challenge, challenge_id), outcome="dismissed",
                                answer="评分无误。", now=now)
        db.session.commit()
        assert db.session.get(Challenge, challenge_id).answer == "评分无误。"
    assert _agenda_item(app, now, challenge_id) == []
    assert ('<span class="card-value">0</span> <span class="card-title">待答复的质疑</span>'
            in officer.get("/").get_data(as_text=True))  # nothing left to answer


def test_a_challenge_upheld_that_cannot_change_the_result_offers_no_remedy(app, demo):
    from portal.tenders import awards, remedies
    from portal.tenders.models import Lot
    world = three_scored_bids(app)
    with app.app_context(), _scope(app):
        award = awards.confirm_award(db.session.get(Lot, world["lot"]), utcnow())
        challenge = awards.record_challenge(award, challenger="丁", grounds="公告格式", may_change_result=False,
                                            now=utcnow())
        awards.answer_challenge(challenge, outcome="upheld", answer="公告格式已更正，不影响结果。", now=utcnow())
        assert remedies.remedy_choices(challenge) == []
        with pytest.raises(DomainError):
            remedies.choose_remedy(challenge, "next_ranked", utcnow())
        assert awards.signing_blocked(award) == (False, "")


def test_a_lot_re_awarded_while_another_lot_is_still_evaluated(app, demo):
    """Two lots: lot 1 awarded, lot 2 not yet; lot 1's award falls to a challenge and goes to the
    next-ranked bidder, and a re-tender of it leaves the tender under evaluation until lot 2 is decided."""
    from portal.tenders import awards, remedies
    from portal.tenders.models import Lot, Tender
    from tests.tender_world import two_lots_four_scored_bids
    tender, bids = two_lots_four_scored_bids(app)  # 4 bids: 3 qualified left after the winner
    lot1, lot2 = tender["lots"]
    with app.app_context(), _scope(app):
        first = awards.confirm_award(db.session.get(Lot, lot1), utcnow())
        assert db.session.get(Tender, tender["tender"]).status == "evaluation"
        challenge = awards.record_challenge(first, challenger="甲社工服务中心", grounds="x", may_change_result=True,
                                            now=utcnow())
        awards.answer_challenge(challenge, outcome="upheld", answer="成立。", now=utcnow())
        new = remedies.choose_remedy(challenge, "next_ranked", utcnow())
        assert new.lot_id == lot1 and new.contractor_id != first.contractor_id
        assert db.session.get(Tender, tender["tender"]).status == "evaluation"
        second = awards.record_challenge(new, challenger="乙养老服务公司", grounds="y", may_change_result=True,
                                         now=utcnow())
        awards.answer_challenge(second, outcome="upheld", answer="成立。", now=utcnow())
        remedies.choose_remedy(second, "retender", utcnow())
        assert db.session.get(Lot, lot1).status == "failed"
        assert db.session.get(Tender, tender["tender"]).status == "evaluation"  # lot 2 still open
        awards.confirm_award(db.session.get(Lot, lot2), utcnow())
        assert db.session.get(Tender, tender["tender"]).status == "awarded"
        db.session.commit()
