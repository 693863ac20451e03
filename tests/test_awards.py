"""The award: winner confirmed from the ranking, the award result published with what the law
lists and nothing private, the challenge period, and signing blocked by an open challenge."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.core.errors import DomainError
from portal.core.timeutil import local_midnight_utc, local_today, utcnow
from portal.extensions import db
from tests import support
from tests.tender_world import COMMITTEE, confirm_award, tenant_id, three_scored_bids


def _scope(app):
    from portal.tenancy.scope import tenant_scope
    return tenant_scope(tenant_id(app, "ganxian"))


@pytest.fixture
def scored(app, demo):
    return three_scored_bids(app)


def test_confirming_the_winner_creates_the_award_and_publishes_the_result(app, scored):
    from portal.disclosures import Disclosure
    from portal.tenders.deadlines import award_deadlines
    from portal.tenders.models import Award, Tender
    now = utcnow()
    award_id = confirm_award(app, scored["lot"], now)
    winner = scored["contractors"][1]  # 乙: 94.00 points at 100,000.00 yuan
    with app.app_context(), _scope(app):
        award = db.session.get(Award, award_id)
        assert (award.contractor_id, award.bid_id, award.amount_fen, award.total_centipoints) == (
            winner["id"], scored["bids"][1], 10_000_000, 9400)
        today = local_today(now)
        assert award.confirmed_on == today
        assert award.challenge_until == award_deadlines(today, support.fixture_calendar(), published_on=today).challenge_until
        assert award.notice_published_at == now
        tender = db.session.get(Tender, scored["tender"])
        assert tender.status == "awarded" and tender.result_published_at == now

        notice = db.session.execute(select(Disclosure).where(Disclosure.kind == "award_result")).scalar_one()
        assert notice.published_at == now
        assert notice.due_on == award_deadlines(today, support.fixture_calendar()).publish_by  # 2 working days
        assert (notice.subject_type, notice.subject_id) == ("award", award_id)
        body = notice.body
        for required in ("赣县区民政局", "张科长 0797-1234567", tender.title, tender.number, "乙养老服务公司",
                         "赣州市某路1号", "100,000.00", "上门照料", "1000", "每次不少于30分钟", "王专家", "陈专家"):
            assert required in body, required
        # Nothing of the losing bids, no personal numbers.
        for private in ("甲社工服务中心", "丙社会工作事务所", "90,000.00", "120,000.00", "3601", "**********"):
            assert private not in body, private
        assert notice.data["amount_fen"] == 10_000_000 and notice.data["experts"] == list(COMMITTEE)
        assert notice.data["items"][0]["quantity"] == 1000


def test_an_incomplete_ranking_cannot_be_awarded(app, scored):
    from portal.tenders import evaluation
    from portal.tenders.models import Tender
    with app.app_context(), _scope(app):
        tender = db.session.get(Tender, scored["tender"])
        evaluation.add_expert(tender, "刘专家")  # have scored nothing yet (7 members: odd)
        evaluation.add_expert(tender, "钱专家")
        db.session.commit()
    with pytest.raises(DomainError, match="每位评审专家须对每份有效投标评分"):
        confirm_award(app, scored["lot"])


def test_a_challenge_blocks_signing_until_it_is_answered(app, scored):
    from portal.tenders import awards
    from portal.tenders.models import Award, Challenge
    award_id = confirm_award(app, scored["lot"])
    with app.app_context(), _scope(app):
        award = db.session.get(Award, award_id)
        assert awards.signing_blocked(award) == (False, "")
        challenge = awards.record_challenge(award, challenger="甲社工服务中心", grounds="评分有误",
                                            may_change_result=True, now=utcnow())
        db.session.commit()
        blocked, reason = awards.signing_blocked(award)
        assert blocked and reason
        awards.answer_challenge(challenge, outcome="dismissed", answer="经复核，评分无误。", now=utcnow())
        db.session.commit()
        assert awards.signing_blocked(award) == (False, "")

        # A challenge that cannot change the result does not block; an upheld one does for good.
        awards.record_challenge(award, challenger="丁", grounds="公告格式", may_change_result=False, now=utcnow())
        assert awards.signing_blocked(award)[0] is False
        second = awards.record_challenge(award, challenger="丙社会工作事务所", grounds="资格", may_change_result=True,
                                         now=utcnow())
        assert awards.signing_blocked(award)[0] is True
        awards.answer_challenge(second, outcome="upheld", answer="质疑成立。", now=utcnow())
        assert awards.signing_blocked(award)[0] is True
        with pytest.raises(DomainError):
            awards.answer_challenge(second, outcome="dismissed", answer="改判", now=utcnow())
        db.session.commit()
        still_open = db.session.execute(select(Challenge.challenger).where(Challenge.status == "open")).scalars().all()
        assert still_open == ["丁"]  # open, but it cannot change the result


def test_signing_is_blocked_before_the_award_notice_is_published(app, scored):
    from portal.tenders import awards
    from portal.tenders.models import Award
    award_id = confirm_award(app, scored["lot"])
    with app.app_context(), _scope(app):
        award = db.session.get(Award, award_id)
        award.notice_published_at = None
        assert awards.signing_blocked(award)[0] is True


def test_challenges_are_refused_after_the_challenge_period(app, scored):
    from portal.tenders import awards
    from portal.tenders.models import Award
    award_id = confirm_award(app, scored["lot"])
    with app.app_context(), _scope(app):
        award = db.session.get(Award, award_id)
        last_day = award.challenge_until
        late_evening = local_midnight_utc(last_day) + timedelta(hours=23, minutes=59)
        awards.record_challenge(award, challenger="甲", grounds="最后一天", may_change_result=True, now=late_evening)
        next_morning = local_midnight_utc(last_day + timedelta(days=1)) + timedelta(hours=8)
        with pytest.raises(DomainError):
            awards.record_challenge(award, challenger="乙", grounds="逾期", may_change_result=True, now=next_morning)


def test_the_officer_awards_and_answers_a_challenge_through_the_pages(app, scored, login):
    from portal.tenders.models import Award
    officer = login("gx-officer")
    ranking = f"/tenders/lots/{scored['lot']}/ranking"
    page = officer.get(ranking).get_data(as_text=True)
    assert "data-confirm" in page
    response = support.form_post(officer, f"/tenders/lots/{scored['lot']}/award", {}, token_url=ranking)
    assert response.status_code == 302
    with app.app_context(), _scope(app):
        award_id = db.session.execute(select(Award.id)).scalar_one()
    award_page = f"/tenders/awards/{award_id}"
    assert "乙养老服务公司" in officer.get(award_page).get_data(as_text=True)
    assert support.form_post(officer, f"/tenders/awards/{award_id}/challenges",
                             {"challenger": "甲社工服务中心", "grounds": "价格分计算有误", "may_change_result": "y"},
                             token_url=award_page).status_code == 302
    from portal.tenders import awards
    with app.app_context(), _scope(app):
        award = db.session.get(Award, award_id)
        assert awards.signing_blocked(award)[0] is True
        challenge_id = award.challenges[0].id
    assert support.form_post(officer, f"/tenders/challenges/{challenge_id}/answer",
                             {"outcome": "dismissed", "answer": "价格分按公式计算无误。"},
                             token_url=award_page).status_code == 302
    with app.app_context(), _scope(app):
        assert awards.signing_blocked(db.session.get(Award, award_id)) == (False, "")
    # Other bureau roles read the award but cannot act on it.
    supervisor = login("gx-supervisor")
    assert supervisor.get(award_page).status_code == 200
    token = support.csrf_token_from(supervisor.get(award_page).get_data(as_text=True))
    assert supervisor.post(f"/tenders/awards/{award_id}/challenges",
                           data={"csrf_token": token, "challenger": "x", "grounds": "y"}).status_code == 403
    # Another bureau does not find it.
    assert login("zg-officer").get(award_page).status_code == 404


def test_a_bidder_challenges_the_result_itself_and_signing_waits(app, scored, login):
    """A losing bidder's manager reads the result from My bids and lodges a challenge (质疑) in
    the portal; it is recorded in the contractor's name, blocks signing, and the officer sees it.
    A contractor that did not bid on the lot gets 404; an empty text is refused on the form."""
    from portal.tenders import awards
    from portal.tenders.models import Award, Challenge
    award_id = confirm_award(app, scored["lot"])
    loser = scored["contractors"][0]
    manager = login(loser["manager"], tenant="ganxian")
    mine = manager.get("/tenders/my-bids").get_data(as_text=True)
    assert f"/tenders/awards/{award_id}/my-challenge" in mine
    url = f"/tenders/awards/{award_id}/my-challenge"
    page = manager.get(url)
    assert page.status_code == 200 and "乙养老服务公司" in page.get_data(as_text=True)
    refused = support.form_post(manager, url, {"grounds": "  "})
    assert refused.status_code == 422
    lodged = support.form_post(manager, url, {"grounds": "评分标准与招标文件不一致。"})
    assert lodged.status_code == 302
    with app.app_context(), _scope(app):
        [challenge] = db.session.execute(select(Challenge).where(Challenge.award_id == award_id)).scalars().all()
        assert (challenge.challenger, challenge.status, challenge.may_change_result) == (loser["name"], "open", True)
        blocked, _reason = awards.signing_blocked(db.session.get(Award, award_id))
        assert blocked
    assert "评分标准与招标文件不一致。" in manager.get(url).get_data(as_text=True)
    assert "评分标准与招标文件不一致。" in login("gx-officer").get(f"/tenders/awards/{award_id}").get_data(as_text=True)
    # a contractor with no bid on the lot cannot even see the page
    assert login("b-manager", tenant="ganxian").get(url).status_code == 404
