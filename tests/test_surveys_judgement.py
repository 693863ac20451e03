"""The judgement of household economic surveys (docs/DOMAIN.md §6): per-capita monthly income =
(annual income − rigid expenses) // 12 // members against the minimum living standard in force on
the survey's day; below → eligible, up to marginal_factor_percent × → marginal, above → not
eligible (exit for a supported family); asset tests exclude whatever the income. Every boundary,
in integer fen, and the dated standards per area (urban, rural, changed mid-year, the setting
before the first, none at all)."""
from datetime import datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.core.errors import DomainError
from portal.core.timeutil import LOCAL_TZ, local_today
from portal.extensions import db
from portal.surveys.judgement import Figures, judge, reason_text
from tests.survey_world import STANDARD_FEN, body, record, scope, set_standard, survey_world

RANK = {"eligible": 0, "marginal": 1, "not_eligible": 2, "exit": 2}
PROBLEM = "application/problem+json"


def figures(per_capita=0, members=2, *, remainder=0, deductions=0, deposits=0, dwellings=0, vehicles=0,
            supported=False):
    """Figures whose per-capita monthly income comes out at ``per_capita`` (``remainder`` fen more
    a year, which rounds away)."""
    return Figures(members=members, annual_income_fen=per_capita * 12 * members + remainder + deductions,
                   deductions_fen=deductions, deposits_fen=deposits, dwellings=dwellings, vehicles=vehicles,
                   supported=supported)


def rules(judgement):
    return [reason["rule"] for reason in judgement.reasons]


# --- the income boundaries ----------------------------------------------------------------------

@pytest.mark.parametrize("standard", [80_000, 80_001, 33_333])
@pytest.mark.parametrize("supported", [False, True])
def test_every_income_boundary(standard, supported):
    limit = standard * 150 // 100
    above = "exit" if supported else "not_eligible"
    cases = [(standard - 1, "eligible", "income_below_standard"), (standard, "marginal", "income_within_marginal"),
             (limit, "marginal", "income_within_marginal"), (limit + 1, above, "income_above_marginal")]
    for per_capita, outcome, rule in cases:
        judged = judge(figures(per_capita, supported=supported), standard, 150, {})
        assert (judged.per_capita_income_fen, judged.outcome, rules(judged)) == (per_capita, outcome, [rule])
        assert (judged.standard_fen, judged.marginal_limit_fen) == (standard, limit)


def test_a_limit_not_divisible_by_100_rounds_down():
    """80,001 × 150 % = 120,001.5 fen: 120,001 is still marginal, 120,002 is not."""
    assert judge(figures(120_001), 80_001, 150, {}).outcome == "marginal"
    assert judge(figures(120_002), 80_001, 150, {}).outcome == "not_eligible"
    assert judge(figures(120_001), 80_001, 150, {}).marginal_limit_fen == 120_001


def test_the_per_capita_income_rounds_down_to_the_fen():
    # 2 members: 24 months' worth; 23 fen more a year still rounds down to the standard − 1
    assert judge(figures(79_999, remainder=23), 80_000, 150, {}).outcome == "eligible"
    assert judge(figures(79_999, remainder=24), 80_000, 150, {}).outcome == "marginal"


def test_reasons_carry_the_numbers():
    judged = judge(figures(100_000, members=3), 80_000, 150, {})
    assert judged.reasons == ({"rule": "income_within_marginal", "per_capita_income_fen": 100_000,
                               "standard_fen": 80_000, "marginal_limit_fen": 120_000,
                               "marginal_factor_percent": 150},)


def test_another_marginal_factor():
    assert judge(figures(96_000), 80_000, 120, {}).outcome == "marginal"
    assert judge(figures(96_001), 80_000, 120, {}).outcome == "not_eligible"
    assert judge(figures(80_000), 80_000, 100, {}).outcome == "marginal"  # 1×: only the standard itself


# --- deductions ---------------------------------------------------------------------------------

def test_rigid_expenses_lower_the_per_capita_income():
    plain = judge(Figures(2, 2_400_000, 0, 0, 0, 0, False), 80_000, 150, {})
    assert (plain.per_capita_income_fen, plain.outcome) == (100_000, "marginal")
    deducted = judge(Figures(2, 2_400_000, 600_000, 0, 0, 0, False), 80_000, 150, {})
    assert (deducted.per_capita_income_fen, deducted.outcome) == (75_000, "eligible")
    assert deducted.reasons[0] == {"rule": "deductions_applied", "annual_income_fen": 2_400_000,
                                   "deductions_fen": 600_000, "net_income_fen": 1_800_000}
    assert rules(deducted) == ["deductions_applied", "income_below_standard"]


def test_deductions_larger_than_the_income_count_as_nothing_left():
    judged = judge(Figures(3, 500_000, 900_000, 0, 0, 0, False), 80_000, 150, {})
    assert (judged.per_capita_income_fen, judged.outcome) == (0, "eligible")
    assert judged.reasons[0]["net_income_fen"] == 0


# --- asset tests --------------------------------------------------------------------------------

@pytest.mark.parametrize("key, field, limit, reason_keys", [
    ("deposits_per_capita_fen", "deposits", 2_000_000, {"deposits_fen", "members", "limit_per_capita_fen", "limit_fen"}),
    ("vehicles", "vehicles", 1, {"vehicles", "limit"}),
    ("dwellings", "dwellings", 1, {"dwellings", "limit"})])
def test_each_asset_test_alone_excludes_a_low_income_family(key, field, limit, reason_keys):
    members = 3
    at_limit = limit * members if key == "deposits_per_capita_fen" else limit
    tests = {key: limit}
    passes = judge(figures(10_000, members, **{field: at_limit}), 80_000, 150, tests)
    assert (passes.outcome, rules(passes)) == ("eligible", ["income_below_standard"])
    over = judge(figures(10_000, members, **{field: at_limit + 1}), 80_000, 150, tests)
    rule = {"deposits": "deposits_over_limit", "vehicles": "vehicles_over_limit",
            "dwellings": "dwellings_over_limit"}[field]
    assert (over.outcome, rules(over)) == ("not_eligible", ["income_below_standard", rule])
    assert set(over.reasons[1]) == {"rule"} | reason_keys
    assert over.reasons[1][{"deposits": "deposits_fen"}.get(field, field)] == at_limit + 1
    exit_ = judge(figures(10_000, members, supported=True, **{field: at_limit + 1}), 80_000, 150, tests)
    assert exit_.outcome == "exit"
    # unset (absent, or None) is no test at all
    for unset in ({}, {key: None}, None):
        assert judge(figures(10_000, members, **{field: 10**9}), 80_000, 150, unset).outcome == "eligible"


def test_deposits_are_tested_against_the_limit_times_the_members_exactly():
    tests = {"deposits_per_capita_fen": 1_000_001}
    assert judge(figures(0, 3, deposits=3_000_003), 80_000, 150, tests).outcome == "eligible"
    judged = judge(figures(0, 3, deposits=3_000_004), 80_000, 150, tests)
    assert judged.outcome == "not_eligible"
    assert judged.reasons[-1] == {"rule": "deposits_over_limit", "deposits_fen": 3_000_004, "members": 3,
                                  "limit_per_capita_fen": 1_000_001, "limit_fen": 3_000_003}


# --- refusals -----------------------------------------------------------------------------------

def test_no_members_or_a_negative_income_is_refused(app):
    with app.test_request_context():
        with pytest.raises(DomainError) as no_members:
            judge(Figures(0, 100, 0, 0, 0, 0, False), 80_000, 150, {})
        assert "members" in no_members.value.errors
        with pytest.raises(DomainError) as negative:
            judge(Figures(2, -1, 0, 0, 0, 0, False), 80_000, 150, {})
        assert "incomes" in negative.value.errors


# --- properties ---------------------------------------------------------------------------------

_MEMBERS = st.integers(min_value=1, max_value=12)
_FEN = st.integers(min_value=0, max_value=50_000_000)
_STANDARD = st.integers(min_value=1, max_value=500_000)
_PERCENT = st.integers(min_value=100, max_value=300)


@settings(max_examples=300, deadline=None)
@given(members=_MEMBERS, income=_FEN, more=_FEN, deductions=_FEN, standard=_STANDARD, percent=_PERCENT,
       supported=st.booleans())
def test_more_income_never_improves_the_outcome(members, income, more, deductions, standard, percent, supported):
    low = judge(Figures(members, income, deductions, 0, 0, 0, supported), standard, percent, {})
    high = judge(Figures(members, income + more, deductions, 0, 0, 0, supported), standard, percent, {})
    assert high.per_capita_income_fen >= low.per_capita_income_fen
    assert RANK[high.outcome] >= RANK[low.outcome]


@settings(max_examples=300, deadline=None)
@given(members=_MEMBERS, income=_FEN, deductions=_FEN, more=_FEN, standard=_STANDARD, percent=_PERCENT)
def test_more_expenses_or_members_never_worsen_the_outcome(members, income, deductions, more, standard, percent):
    base = judge(Figures(members, income, deductions, 0, 0, 0, False), standard, percent, {})
    more_deducted = judge(Figures(members, income, deductions + more, 0, 0, 0, False), standard, percent, {})
    bigger = judge(Figures(members + 1, income, deductions, 0, 0, 0, False), standard, percent, {})
    for other in (more_deducted, bigger):
        assert other.per_capita_income_fen <= base.per_capita_income_fen
        assert RANK[other.outcome] <= RANK[base.outcome]


@settings(max_examples=300, deadline=None)
@given(members=_MEMBERS, income=_FEN, deductions=_FEN, standard=_STANDARD, percent=_PERCENT, supported=st.booleans(),
       deposits=_FEN, vehicles=st.integers(0, 5), dwellings=st.integers(0, 5),
       limits=st.fixed_dictionaries({}, optional={"deposits_per_capita_fen": st.one_of(st.none(), _FEN),
                                                  "vehicles": st.one_of(st.none(), st.integers(0, 3)),
                                                  "dwellings": st.one_of(st.none(), st.integers(0, 3))}))
def test_the_outcome_follows_the_definition(members, income, deductions, standard, percent, supported, deposits,
                                            vehicles, dwellings, limits):
    judged = judge(Figures(members, income, deductions, deposits, dwellings, vehicles, supported), standard,
                   percent, limits)
    per_capita = max(income - deductions, 0) // (12 * members)
    assert judged.per_capita_income_fen == per_capita and judged.marginal_limit_fen == standard * percent // 100
    fails_assets = ((limits.get("deposits_per_capita_fen") is not None
                     and deposits > limits["deposits_per_capita_fen"] * members)
                    or (limits.get("vehicles") is not None and vehicles > limits["vehicles"])
                    or (limits.get("dwellings") is not None and dwellings > limits["dwellings"]))
    if fails_assets or per_capita > judged.marginal_limit_fen:
        expected = "exit" if supported else "not_eligible"
    else:
        expected = "eligible" if per_capita < standard else "marginal"
    assert judged.outcome == expected
    assert sum(r["rule"].startswith("income_") for r in judged.reasons) == 1
    assert any(r["rule"].endswith("_over_limit") for r in judged.reasons) == fails_assets
    assert all(isinstance(v, (int, str)) for r in judged.reasons for v in r.values())


@settings(max_examples=200, deadline=None)
@given(members=_MEMBERS, standard=_STANDARD, percent=_PERCENT, remainder=st.integers(0, 10**6))
def test_the_boundaries_hold_for_any_standard(members, standard, percent, remainder):
    remainder %= 12 * members  # rounds away
    limit = standard * percent // 100

    def outcome(per_capita):
        return judge(figures(per_capita, members, remainder=remainder), standard, percent, {}).outcome
    assert outcome(standard - 1) == "eligible"
    assert outcome(standard) == "marginal" and outcome(limit) == "marginal"
    assert outcome(limit + 1) == "not_eligible"


# --- the reasons in words -----------------------------------------------------------------------

def test_reason_text_words_each_rule_with_its_numbers_in_chinese(app):
    from flask_babel import force_locale
    judged = judge(Figures(2, 2_400_000, 600_000, 7_000_000, 2, 1, True), 80_000, 150,
                   {"deposits_per_capita_fen": 3_000_000, "dwellings": 1, "vehicles": 0})
    with app.test_request_context(), force_locale("zh_CN"):
        texts = [reason_text(reason) for reason in judged.reasons]
        marginal = reason_text(judge(figures(100_000), 80_000, 150, {}).reasons[0])
        unknown = reason_text({"rule": "something_new"})
    assert texts[0] == "年收入 ¥24,000.00 扣除刚性支出 ¥6,000.00 后，按 ¥18,000.00 计算。"
    assert texts[1] == "人均月收入 ¥750.00 低于最低生活保障标准 ¥800.00。"
    assert texts[2] == "存款 ¥70,000.00 超过限额：每人 ¥30,000.00 × 2 人（¥60,000.00）。"
    assert "机动车 1 辆" in texts[3] and "住房 2 套" in texts[4]
    assert marginal == "人均月收入 ¥1,000.00 不低于标准 ¥800.00，但在其 150% 以内（不超过 ¥1,200.00）：属低保边缘。"
    assert all("income" not in t for t in texts) and unknown == "something_new"
    with app.test_request_context(), force_locale("en"):  # and in English where the page is English
        assert reason_text(judged.reasons[1]) == \
            "Per-capita monthly income ¥750.00 is below the minimum living standard ¥800.00."


# --- the standard in force (dated, per area) ----------------------------------------------------

@pytest.fixture
def world(app):
    return survey_world(app)


def _at(day, hour=10):
    return datetime.combine(day, time(hour), tzinfo=LOCAL_TZ)


def stored(app, survey_id):
    from portal.surveys.models import HouseholdSurvey
    with app.app_context(), scope(app):
        s = db.session.get(HouseholdSurvey, survey_id)
        return {"outcome": s.outcome, "standard_fen": s.standard_fen, "since": s.standard_effective_from,
                "per_capita": s.per_capita_income_fen, "limit": s.marginal_limit_fen}


def test_urban_and_rural_families_are_judged_against_their_own_standard(app, world):
    # 2 members, 140,000 fen a month: 70,000 per capita; urban 80,000 → eligible, rural 60,000 → marginal
    urban = stored(app, record(app, world, monthly_wages_fen=140_000))
    rural = stored(app, record(app, world, "杨细妹", monthly_wages_fen=140_000, area="rural"))
    assert (urban["outcome"], urban["standard_fen"], urban["since"]) == ("eligible", STANDARD_FEN["urban"], None)
    assert (rural["outcome"], rural["standard_fen"], rural["limit"]) == ("marginal", STANDARD_FEN["rural"], 90_000)


def test_a_standard_changed_mid_year_judges_each_survey_by_its_day(app, world):
    from portal.accounts.models import User
    from portal.surveys import standards
    today = local_today()
    old_day, new_day = today - timedelta(days=40), today - timedelta(days=2)
    with app.app_context(), scope(app):
        officer = db.session.execute(select(User).where(User.username == "gx-officer")).scalar_one()
        standards.add_standard("urban", old_day, 70_000, "赣县民字〔2026〕1号", officer)
        standards.add_standard("urban", new_day, 100_000, "赣县民字〔2026〕9号", officer)
        standards.add_standard("rural", new_day, 75_000, "", officer)
        db.session.commit()
        assert standards.standard_on("urban", old_day - timedelta(days=1)) == (STANDARD_FEN["urban"], None)
        assert standards.standard_on("urban", old_day) == (70_000, old_day)
        assert standards.standard_on("urban", new_day - timedelta(days=1)) == (70_000, old_day)
        assert standards.standard_on("urban", new_day) == (100_000, new_day)
        assert standards.standard_on("rural", new_day - timedelta(days=1)) == (STANDARD_FEN["rural"], None)
    # 2 members, 180,000 a month: 90,000 per capita — marginal under 70,000 (limit 105,000), eligible under 100,000
    before = stored(app, record(app, world, at=_at(new_day - timedelta(days=1), 23), monthly_wages_fen=180_000))
    after = stored(app, record(app, world, "杨细妹", at=_at(new_day, 0), monthly_wages_fen=180_000))
    assert (before["outcome"], before["standard_fen"], before["since"]) == ("marginal", 70_000, old_day)
    assert (after["outcome"], after["standard_fen"], after["since"]) == ("eligible", 100_000, new_day)


def test_the_standard_falls_back_to_the_setting_and_none_at_all_is_422(app, world, client, api_token):
    from portal.surveys import standards
    with app.app_context(), scope(app):
        assert standards.standard_on("rural", local_today()) == (STANDARD_FEN["rural"], None)
        with pytest.raises(DomainError) as bad_area:
            standards.standard_on("suburban", local_today())
        assert "area" in bad_area.value.errors
    set_standard(app, 80_000, 0)
    headers = api_token("d-worker1", tenant="ganxian")
    sent = body(world, area="rural")
    refused = client.post("/api/v1/surveys", json=sent, headers=headers)
    assert refused.status_code == 422 and refused.mimetype == PROBLEM
    day = datetime.fromisoformat(sent["surveyed_at"]).astimezone(LOCAL_TZ).date()  # the survey's day in Beijing
    assert refused.get_json()["errors"]["area"] == [f"本局尚未设置 {day.isoformat()} 适用的农村最低生活保障标准。"]
    assert client.post("/api/v1/surveys", json=body(world), headers=headers).status_code == 201
    from portal.surveys.models import HouseholdSurvey
    with app.app_context(), scope(app):
        assert db.session.execute(select(HouseholdSurvey.area)).scalars().all() == ["urban"]


def test_one_standard_per_area_and_day(app, world):
    from portal.accounts.models import User
    from portal.audit.models import AuditEntry
    from portal.surveys import standards
    day = local_today()
    with app.app_context(), scope(app):
        officer = db.session.execute(select(User).where(User.username == "gx-officer")).scalar_one()
        standards.add_standard("urban", day, 90_000, "", officer)
        standards.add_standard("rural", day, 70_000, "", officer)  # the other area, the same day
        with pytest.raises(DomainError) as twice:
            standards.add_standard("urban", day, 95_000, "", officer)
        assert twice.value.status == 422 and "effective_from" in twice.value.errors
        with pytest.raises(DomainError) as nothing:
            standards.add_standard("urban", day + timedelta(days=1), 0, "", officer)
        assert nothing.value.errors["monthly_fen"] == ["请填写大于零的标准金额。"]
        for bad, field in ((("urban", day, -1), "monthly_fen"), (("urban", None, 1), "effective_from"),
                           (("town", day, 1), "area"), (("urban", day, 1.5), "monthly_fen")):
            with pytest.raises(DomainError) as refused:
                standards.add_standard(*bad, "", officer)
            assert field in refused.value.errors
        db.session.commit()
        assert [(s.area, s.monthly_fen) for s in standards.list_standards()] == [("rural", 70_000), ("urban", 90_000)]
        audited = [entry for entry in db.session.execute(select(AuditEntry).where(
            AuditEntry.action == "living_standard_added")).scalars()
            if entry.after["effective_from"] == day.isoformat()]  # (the demo's mid-year rise is audited too)
        assert len(audited) == 2 and audited[0].after["monthly_fen"] in (90_000, 70_000)


# --- the standards page -------------------------------------------------------------------------

def test_the_standards_page_lists_and_adds_after_confirmation(app, world, login):
    from portal.surveys.models import LivingStandard
    officer = login("gx-officer")
    page = officer.get("/surveys/standards")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "¥800.00" in html and "¥600.00" in html and "尚无有执行日期的标准" in html
    day = (local_today() + timedelta(days=30)).isoformat()
    from tests import support
    asked = support.form_post(officer, "/surveys/standards",
                              {"area": "urban", "effective_from": day, "monthly": "1,050.50", "note": "新标准"},
                              token_url="/surveys/standards")
    assert asked.status_code == 200
    text = asked.get_data(as_text=True)
    assert f"自 {day} 起，城市最低生活保障标准为每人每月 ¥1,050.50，原为 ¥800.00（本局设置）。" in text
    assert 'name="confirmed" type="hidden" value="yes"' in text or 'value="yes"' in text
    with app.app_context(), scope(app):
        assert db.session.execute(select(LivingStandard)).first() is None  # nothing recorded yet
    done = support.form_post(officer, "/surveys/standards",
                             {"area": "urban", "effective_from": day, "monthly": "1,050.50", "note": "新标准",
                              "confirmed": "yes"}, token_url="/surveys/standards")
    assert done.status_code == 302
    with app.app_context(), scope(app):
        row = db.session.execute(select(LivingStandard)).scalar_one()
        assert (row.area, row.effective_from.isoformat(), row.monthly_fen, row.note) == ("urban", day, 105_050, "新标准")
    assert day in officer.get("/surveys/standards").get_data(as_text=True)
    again = support.form_post(officer, "/surveys/standards",
                              {"area": "urban", "effective_from": day, "monthly": "1,100", "confirmed": "yes"},
                              token_url="/surveys/standards")
    assert again.status_code == 422 and "已经登记过" in again.get_data(as_text=True)
    for bad in ({"monthly": "-5"}, {"monthly": "12.345"}, {"effective_from": ""}):
        refused = support.form_post(officer, "/surveys/standards",
                                    {"area": "rural", "effective_from": day, "monthly": "700", **bad},
                                    token_url="/surveys/standards")
        assert refused.status_code == 422


def test_who_reads_and_who_adds_standards(app, world, login):
    from tests import support
    auditor = login("gx-auditor")
    assert auditor.get("/surveys/standards").status_code == 200
    assert 'id="add-standard"' not in auditor.get("/surveys/standards").get_data(as_text=True)
    refused = support.form_post(auditor, "/surveys/standards", {"area": "rural", "effective_from": "2026-01-01",
                                                                "monthly": "650", "confirmed": "yes"})
    assert refused.status_code == 403
    manager = login("d-manager", tenant="ganxian")
    assert manager.get("/surveys/standards").status_code in (403, 404)
    admin = login("gx-admin")
    done = support.form_post(admin, "/surveys/standards",
                             {"area": "rural", "effective_from": local_today().isoformat(), "monthly": "650",
                              "confirmed": "yes"}, token_url="/surveys/standards")
    assert done.status_code == 302
