"""Unit tests of the settlement arithmetic (docs/DOMAIN.md §8) on plain objects: the totals of a
statement's lines, the digest and totals of a plan, the limits a paying line is cut by (monthly
cap, quota, contract total) and the late-verified line. No HTTP, no worker, no database; the
end-to-end computations are in test_settlement*.py."""
from datetime import date
from types import SimpleNamespace

import pytest

from portal.billing import sources
from portal.billing.plans import LinePlan, plan_digest, plan_totals
from portal.billing.settlement import ensure_month_ended, first_allowed_day, statement_number, totals
from portal.core.errors import DomainError


def line(kind, amount_fen):
    return SimpleNamespace(kind=kind, amount_fen=amount_fen)


def limits(quota_left, room_fen, total_fen=None):
    """A contract's limits as sources._Limits holds them after reading the approved statements."""
    held = sources._Limits.__new__(sources._Limits)
    held.quota_left, held.room_fen = dict(quota_left), room_fen
    held.total_fen = room_fen if total_fen is None else total_fen
    return held


def item(id=1, unit_price_fen=5_000, monthly_cap=None, quota=100):
    return SimpleNamespace(id=id, code=f"S{id}", name="Home care", unit="visit", unit_price_fen=unit_price_fen,
                           monthly_cap=monthly_cap, quota=quota)


# --- totals --------------------------------------------------------------------------------------

def test_totals_paying_lines_and_positive_adjustments_are_gross_the_rest_deductions():
    lines = [line("service", 30_000), line("late_verified", 5_000), line("adjustment", 2_000),
             line("adjustment", -1_500), line("deduction_spot_check", 4_000), line("deduction_violation", 10_000),
             line("deduction_carried_forward", 500)]
    assert totals(lines) == (37_000, 16_000, 21_000)


def test_totals_net_never_below_zero_and_carried_out_lines_count_nowhere():
    lines = [line("service", 3_000), line("deduction_violation", 10_000), line("carried_out", 7_000)]
    assert totals(lines) == (3_000, 10_000, 0)
    assert totals([]) == (0, 0, 0)
    assert totals([line("adjustment", 0)]) == (0, 0, 0)


# --- plans ---------------------------------------------------------------------------------------

def plan(kind="service", units=3, price=5_000, entries=(), **kwargs):
    return LinePlan(kind=kind, description="d", units=units, unit_price_fen=price, amount_fen=units * price,
                    service_item_id=1, entries=list(entries), **kwargs)


def test_plan_totals_count_paying_and_deduction_kinds_only():
    plans = [plan(), plan("late_verified", 1), plan("deduction_spot_check", 2, 1_000)]
    assert plan_totals(plans) == (20_000, 2_000)


def test_plan_digest_covers_figures_and_the_records_behind_them_not_descriptions():
    base = plan(entries=[("paid", 1, None), ("paid", 2, None), ("paid", 3, None)])
    same = plan(entries=[("paid", 3, None), ("paid", 1, None), ("paid", 2, None)])
    same.description = "another language"
    assert plan_digest([base]) == plan_digest([same])  # entry order and descriptions do not count
    assert len(plan_digest([base])) == 64
    other_visit = plan(entries=[("paid", 1, None), ("paid", 2, None), ("paid", 4, None)])
    other_price = plan(price=5_001, entries=base.entries)
    with_violation = plan("deduction_violation", 1, 20_000, entries=[("penalised", None, 9)])
    digests = {plan_digest(p) for p in ([base], [other_visit], [other_price], [base, with_violation], [])}
    assert len(digests) == 5


def test_plan_digest_adds_capped_visits_only_when_there_are_some():
    paid = [("paid", 1, None)]
    assert plan_digest([plan(entries=paid)]) != plan_digest([plan(entries=paid + [("capped", 2, None)])])
    assert plan_digest([plan(entries=paid)]) == plan_digest([plan(entries=list(paid))])


# --- the limits of a paying line -------------------------------------------------------------------

@pytest.mark.parametrize("verified, cap, quota, room, paid, bound", [
    (10, None, 100, 1_000_000, 10, None),
    (10, 8, 100, 1_000_000, 8, "monthly_cap"),
    (10, 8, 6, 1_000_000, 6, "quota"),
    (10, 8, 6, 24_999, 4, "contract_total"),  # 24,999 fen leave room for four 5,000-fen units
    (10, 10, 10, 50_000, 10, None),           # limits equal to the units do not bind
    (0, 8, 0, 0, 0, None),
])
def test_payable_is_the_smallest_limit_and_names_it(verified, cap, quota, room, paid, bound):
    held = limits({1: quota}, room)
    assert held.payable(item(), verified, cap) == (paid, bound)


def test_payable_consumes_the_quota_and_the_contract_room():
    held = limits({1: 5, 2: 100}, 40_000)
    assert held.payable(item(1), 3) == (3, None)
    assert (held.quota_left[1], held.room_fen) == (2, 25_000)
    assert held.payable(item(1), 3) == (2, "quota")
    assert held.payable(item(2, unit_price_fen=10_000), 9) == (1, "contract_total")
    assert (held.quota_left, held.room_fen) == ({1: 0, 2: 99}, 5_000)


def test_a_free_item_is_not_limited_by_the_contract_total():
    held = limits({1: 50}, 0)
    assert held.payable(item(unit_price_fen=0), 7) == (7, None)


# --- the late-verified line ------------------------------------------------------------------------

def test_late_line_pays_what_each_month_s_cap_leaves_after_approved_statements():
    months = {"2026-01": [11, 12, 13], "2026-02": [21, 22]}
    paid_in_month = {(1, "2026-01"): 7}  # cap 8: January has room for one more
    late = sources._late_line(item(monthly_cap=8), months, paid_in_month, limits({1: 100}, 1_000_000))
    assert (late.kind, late.units, late.amount_fen, late.verified_units) == ("late_verified", 3, 15_000, 5)
    assert late.entries == [("paid", 11, None), ("paid", 21, None), ("paid", 22, None),
                            ("capped", 12, None), ("capped", 13, None)]
    assert late.details["limited_by"] == "monthly_cap" and late.details["unpaid_visit_ids"] == [12, 13]
    assert late.details["capped_count"] == 2 and late.quota_left == 100


def test_late_line_within_the_quota_and_held_back_by_the_contract_total():
    months = {"2026-01": [1, 2, 3, 4]}
    by_quota = sources._late_line(item(), months, {}, limits({1: 1}, 1_000_000))
    assert (by_quota.units, by_quota.details["limited_by"]) == (1, "quota")
    assert by_quota.entries == [("paid", 1, None), ("capped", 2, None), ("capped", 3, None), ("capped", 4, None)]
    by_total = sources._late_line(item(), months, {}, limits({1: 100}, 10_000, total_fen=900_000))
    assert (by_total.units, by_total.amount_fen, by_total.details["limited_by"]) == (2, 10_000, "contract_total")
    assert by_total.entries == [("paid", 1, None), ("paid", 2, None)]  # the rest stay late, not capped
    assert by_total.details["contract_total_fen"] == 900_000 and "9,000.00" in by_total.description
    everything = sources._late_line(item(), months, {}, limits({1: 100}, 1_000_000))
    assert everything.units == 4 and "limited_by" not in everything.details


# --- closing periods -------------------------------------------------------------------------------

def test_a_month_is_settled_from_the_first_of_the_next():
    assert first_allowed_day("2026-12") == date(2027, 1, 1)
    assert first_allowed_day("2024-02") == date(2024, 3, 1)
    ensure_month_ended("2026-02", today=date(2026, 3, 1))
    with pytest.raises(DomainError) as refused:
        ensure_month_ended("2026-02", today=date(2026, 2, 28))
    assert "2026-03-01" in str(refused.value.errors["month"][0])


def test_statement_number_is_contract_number_and_month():
    assert statement_number(SimpleNamespace(number="GX-2026-007"), "2026-03") == "GX-2026-007-202603"
